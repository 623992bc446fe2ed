//! The offline demo: two tenants (English and Russian) with a shipped catalog and FAQ.

use crate::import::{self, CatalogFormat, KbFormat};
use crate::origin::AllowedOrigin;
use crate::server::assets::Demo;
use crate::store::tenants::{self, Locale, TenantPatch};
use crate::store::{Db, StoreError, audit, catalog, kb, keys};

pub const TENANT: &str = "demo";
pub const TENANT_RU: &str = "demo-ru";

fn file(name: &str) -> String {
    Demo::get(name)
        .map(|f| String::from_utf8_lossy(&f.data).into_owned())
        .unwrap_or_default()
}

/// Creates the demo tenants when missing (the catalog, the FAQ, a public key, and the public
/// URL as an allowed origin); leaves existing ones as they are.
pub async fn ensure(db: &Db, public_url: &str) -> Result<(), StoreError> {
    let site = url::Url::parse(public_url).map_err(|e| StoreError::Invalid(e.to_string()))?;
    let origin =
        AllowedOrigin::parse(&site.origin().ascii_serialization()).map_err(StoreError::Invalid)?;
    for (slug, name, locale, suffix) in [
        (TENANT, "Trailhead & Brew", Locale::En, "en"),
        (TENANT_RU, "Тропа и кофе", Locale::Ru, "ru"),
    ] {
        let origin = origin.clone();
        db.write(move |c| {
            if tenants::find(c, slug)?.is_some() {
                return Ok(());
            }
            let patch = TenantPatch {
                locale: Some(locale),
                origins: Some(vec![origin]),
                color: Some(Some("#1f6f5c".into())),
                ..TenantPatch::default()
            };
            let tenant = tenants::insert(c, slug, name, &patch)?;
            let bad = |errors: Vec<import::RowError>| {
                StoreError::Invalid(format!("the shipped demo data is invalid: {}", errors[0]))
            };
            let products = import::parse_catalog(
                &file(&format!("catalog.{suffix}.jsonl")),
                CatalogFormat::Jsonl,
                &tenant.currency,
            )
            .map_err(bad)?;
            catalog::import(c, tenant.id, &products, false, |_| {})?;
            let faq = import::parse_kb(&file(&format!("faq.{suffix}.md")), KbFormat::Markdown)
                .map_err(bad)?;
            kb::import(c, tenant.id, &faq, false)?;
            keys::issue(c, tenant.id, keys::KeyKind::Public, Some("demo"))?;
            audit::record(
                c,
                audit::Entry {
                    tenant: Some((tenant.id, slug)),
                    actor: "demo",
                    action: "tenant.add",
                    target: Some(slug),
                    details: serde_json::json!({ "products": products.len(), "faq": faq.len() }),
                },
            )
        })
        .await?;
    }
    Ok(())
}
