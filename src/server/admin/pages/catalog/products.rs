//! A tenant's products: the list with its search and upload form, and one product's edit page.

use std::collections::HashMap;

use askama::Template;
use axum::Form;
use axum::extract::{Path as UrlPath, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use serde_json::{Map, Value};

use super::super::super::super::AppState;
use super::super::super::super::error::ApiError;
use super::super::super::auth::Admin;
use super::super::super::problems::Say;
use super::super::super::text::{Lang, Text};
use super::super::super::{Me, css_version, render};
use super::words::{self, Words};
use super::{
    Change, FieldProblem, FormField, Kind, ListQuery, PAGE_ROWS, Paging, UploadForm, owned,
};
use crate::import;
use crate::money;
use crate::store::catalog::{self, Field, Product, ProductFields, Search};
use crate::store::tenants::Tenant;
use crate::store::{ImportSummary, StoreError};

/// A product as the list shows it.
pub struct Row {
    title: String,
    sku: String,
    price: String,
    category: String,
    brand: String,
    href: String,
}

#[derive(Template)]
#[template(path = "admin/catalog/products.html")]
struct ListPage {
    t: &'static Text,
    w: &'static Words,
    me: Option<Me>,
    page: &'static str,
    css_version: String,
    tenant: Tenant,
    form: UploadForm,
    /// The list's column headings.
    columns: [&'static str; 5],
    q: String,
    rows: Vec<Row>,
    paging: Option<Paging>,
    imported: Option<ImportSummary>,
    saved: bool,
    deleted: bool,
}

/// The list page; `file_error` goes beside the upload form's file field.
pub async fn page(
    state: &AppState,
    admin: &Admin,
    lang: Lang,
    tenant: &Tenant,
    query: ListQuery,
    file_error: Option<&'static str>,
) -> Result<Response, ApiError> {
    let w = words::of(lang.0);
    let me = Me::from(admin);
    let id = tenant.id;
    let q = query.q.trim().to_owned();
    let base = format!("/admin/tenants/{}/catalog", tenant.slug);
    let (products, paging) = if q.is_empty() {
        let offset = query.page * PAGE_ROWS;
        let (products, total) = state
            .db
            .read(move |c| catalog::list(c, id, offset, PAGE_ROWS))
            .await?;
        let paging = Paging::new(&base, query.page, products.len(), total);
        (products, Some(paging))
    } else {
        // The builtin responder's search: every stemmed word must match.
        let search = Search {
            terms: crate::text::terms(&q),
            limit: PAGE_ROWS,
            ..Search::default()
        };
        let products = if search.terms.is_empty() {
            Vec::new()
        } else {
            state
                .db
                .read(move |c| catalog::search(c, id, &search))
                .await?
        };
        (products, None)
    };
    let rows = products
        .iter()
        .map(|p| Row {
            title: p.title.clone(),
            sku: p.sku.clone(),
            price: p
                .price
                .map(|v| money::display(v, &p.currency, lang.0))
                .unwrap_or_default(),
            category: p.category.clone().unwrap_or_default(),
            brand: p.brand.clone().unwrap_or_default(),
            href: format!("{base}/products/{}", p.public_id),
        })
        .collect();
    let mut form = UploadForm::new(w, &tenant.slug, Kind::Catalog, &me);
    form.error = file_error;
    render(&ListPage {
        t: lang.text(),
        w,
        me: Some(me),
        page: "catalog",
        css_version: css_version(),
        tenant: tenant.clone(),
        form,
        columns: [
            Field::Title,
            Field::Sku,
            Field::Price,
            Field::Category,
            Field::Brand,
        ]
        .map(|f| w.field(f)),
        q,
        rows,
        paging,
        imported: query.imported(),
        saved: query.saved,
        deleted: query.deleted,
    })
}

#[derive(Template)]
#[template(path = "admin/catalog/edit.html")]
struct EditPage {
    t: &'static Text,
    w: &'static Words,
    me: Option<Me>,
    page: &'static str,
    css_version: String,
    tenant: Tenant,
    heading: &'static str,
    crumb: &'static str,
    action: String,
    back: String,
    fields: Vec<FormField>,
    invalid: bool,
}

/// A price in major units as a file writes it: "49.90", "12990".
fn major(minor: i64, currency: &str) -> String {
    let exp = money::exponent(currency);
    let scale = 10_i64.pow(exp);
    let sign = if minor < 0 { "-" } else { "" };
    let (whole, part) = (minor.abs() / scale, minor.abs() % scale);
    if exp == 0 {
        format!("{sign}{whole}")
    } else {
        format!("{sign}{whole}.{part:0width$}", width = exp as usize)
    }
}

/// An attribute's value as the form shows it.
fn shown(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// What the form's fields hold for a stored product.
fn values(p: &ProductFields) -> HashMap<String, String> {
    let text = |v: &Option<String>| v.clone().unwrap_or_default();
    let mut values = HashMap::new();
    for field in Field::ALL {
        let value = match field {
            Field::Sku => p.sku.clone(),
            Field::Title => p.title.clone(),
            Field::Description => p.description.clone(),
            Field::Price => p.price.map(|v| major(v, &p.currency)).unwrap_or_default(),
            Field::CompareAt => p
                .compare_at
                .map(|v| major(v, &p.currency))
                .unwrap_or_default(),
            Field::Currency => p.currency.clone(),
            Field::Url => text(&p.url),
            Field::Image => text(&p.image),
            Field::Category => text(&p.category),
            Field::Brand => text(&p.brand),
            Field::Rating => p.rating.map(|r| r.to_string()).unwrap_or_default(),
        };
        values.insert(field.name().to_owned(), value);
    }
    let attributes: Vec<String> = p
        .attributes
        .iter()
        .map(|(k, v)| format!("{k}: {}", shown(v)))
        .collect();
    values.insert("attributes".into(), attributes.join("\n"));
    values
}

fn form_fields(
    w: &'static Words,
    values: &HashMap<String, String>,
    errors: &[FieldProblem],
) -> Vec<FormField> {
    let errors_of = |name: &str| -> Vec<String> {
        errors
            .iter()
            .filter(|(field, _)| *field == name)
            .map(|(_, sentence)| sentence.clone())
            .collect()
    };
    let value = |name: &str| values.get(name).cloned().unwrap_or_default();
    let mut fields: Vec<FormField> = Field::ALL
        .into_iter()
        .map(|f| FormField {
            name: f.name(),
            label: w.field(f),
            value: value(f.name()),
            errors: errors_of(f.name()),
            input: match f {
                Field::Description => "textarea",
                Field::Url => "url",
                _ => "text",
            },
            required: matches!(f, Field::Sku | Field::Title),
            hint: None,
        })
        .collect();
    fields.push(FormField {
        name: "attributes",
        label: w.attributes,
        value: value("attributes"),
        errors: errors_of("attributes"),
        input: "textarea",
        required: false,
        hint: Some(w.attributes_hint),
    });
    fields
}

async fn product(state: &AppState, tenant: &Tenant, id: &str) -> Result<Product, ApiError> {
    let (tenant_id, id) = (tenant.id, id.to_owned());
    Ok(state
        .db
        .read(move |c| catalog::get(c, tenant_id, &id))
        .await?)
}

fn edit_page(
    lang: Lang,
    admin: &Admin,
    tenant: &Tenant,
    id: &str,
    values: &HashMap<String, String>,
    errors: &[FieldProblem],
) -> Result<Response, ApiError> {
    let w = words::of(lang.0);
    let back = format!("/admin/tenants/{}/catalog", tenant.slug);
    let mut page = render(&EditPage {
        t: lang.text(),
        w,
        me: Some(Me::from(admin)),
        page: "catalog",
        css_version: css_version(),
        tenant: tenant.clone(),
        heading: w.edit_product,
        crumb: w.products,
        action: format!("{back}/products/{id}"),
        back,
        fields: form_fields(w, values, errors),
        invalid: !errors.is_empty(),
    })?;
    if !errors.is_empty() {
        *page.status_mut() = StatusCode::UNPROCESSABLE_ENTITY;
    }
    Ok(page)
}

pub async fn edit(
    State(state): State<AppState>,
    admin: Admin,
    lang: Lang,
    UrlPath((slug, id)): UrlPath<(String, String)>,
) -> Result<Response, ApiError> {
    let tenant = owned(&state, &admin, &slug).await?;
    let product = product(&state, &tenant, &id).await?;
    edit_page(lang, &admin, &tenant, &id, &values(&product), &[])
}

/// The form's attributes ("name: value" lines) as a file's other columns, and a problem for
/// each line that is not one.
fn attribute_lines(text: &str, w: &'static Words) -> (Vec<(String, String)>, Vec<FieldProblem>) {
    let (mut pairs, mut problems) = (Vec::new(), Vec::new());
    for (i, line) in text.lines().enumerate() {
        match line.split_once(':') {
            _ if line.trim().is_empty() => {}
            Some((k, v)) if !k.trim().is_empty() => {
                pairs.push((k.trim().to_owned(), v.trim().to_owned()));
            }
            _ => problems.push((
                "attributes",
                format!("{} {}: {}", w.line, i + 1, w.attribute_line),
            )),
        }
    }
    (pairs, problems)
}

/// Saves the form by the importer's rules; re-renders it with the problems beside the fields.
pub async fn save(
    State(state): State<AppState>,
    admin: Admin,
    lang: Lang,
    UrlPath((slug, id)): UrlPath<(String, String)>,
    Form(form): Form<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    let tenant = owned(&state, &admin, &slug).await?;
    let stored = product(&state, &tenant, &id).await?;
    let w = words::of(lang.0);
    let mut values: Vec<(String, String)> = Field::ALL
        .iter()
        .map(|f| {
            let name = f.name().to_owned();
            let value = form.get(&name).cloned().unwrap_or_default();
            (name, value)
        })
        .collect();
    let (pairs, mut errors) = attribute_lines(form.get("attributes").map_or("", |a| a), w);
    values.extend(pairs);
    let parsed = import::parse_product(values, &tenant.currency);
    let mut fields = match parsed {
        Ok(fields) if errors.is_empty() => fields,
        Ok(_) => return edit_page(lang, &admin, &tenant, &id, &form, &errors),
        Err(problems) => {
            errors.extend(problems.iter().map(|e| (e.field, e.problem.say(lang.0))));
            return edit_page(lang, &admin, &tenant, &id, &form, &errors);
        }
    };
    let sku = fields.sku.clone();
    keep_types(&mut fields.attributes, &stored.attributes);
    let (change, public_id) = (Change::new(&tenant, &admin), id.clone());
    let written = state
        .db
        .write(move |c| {
            catalog::update(c, change.tenant, &public_id, &fields)?;
            let details = serde_json::json!({ "product": public_id });
            change.record(c, "catalog.update", &fields.sku, details)
        })
        .await;
    match written {
        Ok(()) => {
            Ok(Redirect::to(&format!("/admin/tenants/{slug}/catalog?saved=true")).into_response())
        }
        Err(StoreError::Conflict(_)) => {
            let errors = [("sku", (w.sku_taken)(&sku))];
            edit_page(lang, &admin, &tenant, &id, &form, &errors)
        }
        Err(e) => Err(e.into()),
    }
}

/// An attribute the form left as it showed it keeps its stored value (a number stays a number).
fn keep_types(attributes: &mut Map<String, Value>, stored: &Map<String, Value>) {
    for (key, value) in attributes.iter_mut() {
        if let Some(old) = stored.get(key)
            && shown(old) == shown(value)
        {
            *value = old.clone();
        }
    }
}

pub async fn delete(
    State(state): State<AppState>,
    admin: Admin,
    UrlPath((slug, id)): UrlPath<(String, String)>,
) -> Result<Response, ApiError> {
    let tenant = owned(&state, &admin, &slug).await?;
    let change = Change::new(&tenant, &admin);
    state
        .db
        .write(move |c| {
            let product = catalog::get(c, change.tenant, &id)?;
            catalog::delete(c, change.tenant, &id)?;
            let details = serde_json::json!({ "product": id });
            change.record(c, "catalog.delete", &product.sku, details)
        })
        .await?;
    Ok(Redirect::to(&format!("/admin/tenants/{slug}/catalog?deleted=true")).into_response())
}
