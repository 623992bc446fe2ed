//! The offline demo: two tenants (English and Russian) with a shipped catalog and FAQ.

use crate::accounts::{self, AccountError};
use crate::import::{self, CatalogFormat, KbFormat};
use crate::money;
use crate::origin::AllowedOrigin;
use crate::store::admins;
use crate::store::catalog::Product;
use crate::store::tenants::{self, Tenant, TenantPatch};
use crate::store::{Db, StoreError, audit, catalog, kb, keys};
use crate::vocab::{Locale, Role};

/// The demo's shipped files: its catalog and FAQ, the shop page's stylesheet and images.
#[derive(rust_embed::Embed)]
#[folder = "assets/demo"]
pub struct Files;

pub const TENANT: &str = "demo";
pub const TENANT_RU: &str = "demo-ru";

fn file(name: &str) -> String {
    Files::get(name)
        .map(|f| String::from_utf8_lossy(&f.data).into_owned())
        .unwrap_or_default()
}

/// The demo's owner, made when missing.
pub const OWNER: &str = "owner@demo.keepstar.invalid";

/// A one-time sign-in link for the demo's owner, who is made the first time.
pub async fn admin_link(db: &Db, public_url: &str) -> Result<String, AccountError> {
    let known = {
        let email = OWNER.to_owned();
        db.read(move |c| admins::find_by_email(c, &email)).await?
    };
    if known.is_none() {
        let owner = accounts::NewMember {
            email: OWNER.into(),
            name: Some("Demo owner".into()),
            role: Role::Owner,
            tenants: Vec::new(),
            password: None,
        };
        accounts::add(db, owner, "demo").await?;
    }
    accounts::sign_in_link(db, public_url, OWNER, "demo").await
}

/// Creates the demo tenants when missing (the catalog, the FAQ, a public key, and the public
/// URL as an allowed origin); leaves existing ones as they are.
pub async fn ensure(db: &Db, public_url: &str) -> Result<(), StoreError> {
    let site = url::Url::parse(public_url).map_err(|e| StoreError::Invalid(e.to_string()))?;
    let origin = AllowedOrigin::parse(&site.origin().ascii_serialization())
        .map_err(|e| StoreError::Invalid(e.to_string()))?;
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

/// Text for HTML: the five characters that could end an element or an attribute, escaped.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The demo shop page: featured products from the catalog, and the widget embedded with one tag.
pub fn page(
    tenant: &Tenant,
    key: &str,
    products: &[Product],
    categories: &[String],
    widget_src: &str,
) -> String {
    let ru = tenant.locale == Locale::Ru;
    let t = |en: &'static str, ru_text: &'static str| if ru { ru_text } else { en };
    let tiles: String = products
        .iter()
        .map(|p| {
            let price = p.price.map(|a| money::display(a, &p.currency, tenant.locale)).unwrap_or_default();
            let rating = p.rating.map(|r| format!("★ {r:.1}")).unwrap_or_default();
            format!(
                "    <article class=\"product\"><img src=\"{}\" alt=\"\"><div class=\"brand-name\">{}</div><h3>{}</h3><div class=\"price\">{}</div><div class=\"rating\">{}</div></article>\n",
                escape(p.image.as_deref().unwrap_or("")),
                escape(p.brand.as_deref().unwrap_or("")),
                escape(&p.title),
                escape(&price),
                escape(&rating),
            )
        })
        .collect();
    let nav: String = categories
        .iter()
        .take(5)
        .map(|c| format!("<a href=\"#\">{}</a>", escape(c)))
        .collect();
    include_str!("../templates/demo.html")
        .replace("{{lang}}", tenant.locale.as_str())
        .replace("{{shop}}", &escape(&tenant.name))
        .replace("{{query}}", if ru { "?lang=ru" } else { "" })
        .replace("{{nav}}", &nav)
        .replace("{{other_href}}", if ru { "/demo" } else { "/demo?lang=ru" })
        .replace("{{other_label}}", t("Русский", "English"))
        .replace("{{tagline}}", t("outdoor gear and coffee", "снаряжение и кофе"))
        .replace("{{headline}}", t("Gear for the trail. Coffee for the morning after.", "Снаряжение для тропы. Кофе для утра после."))
        .replace(
            "{{intro}}",
            t(
                "This is a demo shop. The chat in the corner is keepstar: it answers from this shop's own catalog and FAQ, with no AI service behind it. Try “tents under $300”, “grinders between 100 and 300”, “what is your return policy?” or “talk to a human”.",
                "Это демо-магазин. Чат в углу — keepstar: он отвечает по каталогу и FAQ магазина, без внешнего ИИ. Спросите «палатку до 15000 рублей», «кофемолки от 5000 до 10000», «сколько стоит доставка?» или «позовите оператора».",
            ),
        )
        .replace("{{popular}}", t("Popular right now", "Сейчас популярно"))
        .replace("{{products}}", &tiles)
        .replace("{{help_title}}", t("Questions?", "Есть вопросы?"))
        .replace(
            "{{help_text}}",
            t(
                "Open the chat: it knows our delivery, returns and warranty terms and every product in the shop.",
                "Откройте чат: он знает условия доставки, возврата и гарантии и весь ассортимент магазина.",
            ),
        )
        .replace("{{footer}}", t("keepstar demo · the chat is embedded with one script tag, like on any site", "демо keepstar · чат встроен одним тегом script, как на любом сайте"))
        .replace("{{widget_src}}", widget_src)
        .replace("{{tenant}}", &escape(&tenant.slug))
        .replace("{{key}}", &escape(key))
}

#[cfg(test)]
mod tests {
    #[test]
    fn escape_neutralises_markup() {
        assert_eq!(
            super::escape(r#"<a href="x">'&'</a>"#),
            "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;"
        );
    }
}
