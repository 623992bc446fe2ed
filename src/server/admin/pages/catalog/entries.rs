//! A tenant's knowledge base: the list with its search and upload form, and one entry's edit page.

use std::collections::HashMap;

use askama::Template;
use axum::Form;
use axum::extract::{Path as UrlPath, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};

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
use crate::store::tenants::Tenant;
use crate::store::{ImportSummary, StoreError, kb};

/// An entry as the list shows it.
pub struct Row {
    title: String,
    excerpt: String,
    href: String,
}

#[derive(Template)]
#[template(path = "admin/catalog/entries.html")]
struct ListPage {
    t: &'static Text,
    w: &'static Words,
    me: Option<Me>,
    page: &'static str,
    css_version: String,
    tenant: Tenant,
    form: UploadForm,
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
    let base = format!("/admin/tenants/{}/kb", tenant.slug);
    let (entries, paging) = if q.is_empty() {
        let offset = query.page * PAGE_ROWS;
        let (entries, total) = state
            .db
            .read(move |c| kb::list(c, id, offset, PAGE_ROWS))
            .await?;
        let paging = Paging::new(&base, query.page, entries.len(), total);
        (entries, Some(paging))
    } else {
        // The builtin responder's search: entries sharing any stemmed word, best first.
        let terms = crate::text::terms(&q);
        let entries = state
            .db
            .read(move |c| kb::search(c, id, &terms, PAGE_ROWS))
            .await?;
        (entries, None)
    };
    let rows = entries
        .iter()
        .map(|e| {
            let excerpt: String = e.body.chars().take(140).collect();
            Row {
                title: e.title.clone(),
                excerpt: if excerpt.len() < e.body.len() {
                    format!("{excerpt}…")
                } else {
                    excerpt
                },
                href: format!("{base}/entries/{}", e.public_id),
            }
        })
        .collect();
    let mut form = UploadForm::new(w, &tenant.slug, Kind::Kb, &me);
    form.error = file_error;
    render(&ListPage {
        t: lang.text(),
        w,
        me: Some(me),
        page: "kb",
        css_version: css_version(),
        tenant: tenant.clone(),
        form,
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

fn edit_page(
    lang: Lang,
    admin: &Admin,
    tenant: &Tenant,
    id: &str,
    values: &HashMap<String, String>,
    errors: &[FieldProblem],
) -> Result<Response, ApiError> {
    let w = words::of(lang.0);
    let back = format!("/admin/tenants/{}/kb", tenant.slug);
    let field = |name: &'static str, label: &'static str, input: &'static str| FormField {
        name,
        label,
        value: values.get(name).cloned().unwrap_or_default(),
        errors: errors
            .iter()
            .filter(|(field, _)| *field == name)
            .map(|(_, sentence)| sentence.clone())
            .collect(),
        input,
        required: true,
        hint: None,
    };
    let mut page = render(&EditPage {
        t: lang.text(),
        w,
        me: Some(Me::from(admin)),
        page: "kb",
        css_version: css_version(),
        tenant: tenant.clone(),
        heading: w.edit_entry,
        crumb: w.entries,
        action: format!("{back}/entries/{id}"),
        back,
        fields: vec![
            field("title", w.question, "text"),
            field("body", w.answer, "textarea"),
        ],
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
    let (tenant_id, public_id) = (tenant.id, id.clone());
    let entry = state
        .db
        .read(move |c| kb::get(c, tenant_id, &public_id))
        .await?;
    let values = HashMap::from([
        ("title".to_owned(), entry.title),
        ("body".to_owned(), entry.body),
    ]);
    edit_page(lang, &admin, &tenant, &id, &values, &[])
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
    let text = |name: &str| form.get(name).map_or("", String::as_str);
    let row = match import::parse_kb_entry(text("title"), text("body")) {
        Ok(row) => row,
        Err(problems) => {
            let errors: Vec<FieldProblem> = problems
                .iter()
                .map(|e| (e.field, e.problem.say(lang.0)))
                .collect();
            return edit_page(lang, &admin, &tenant, &id, &form, &errors);
        }
    };
    let title = row.title.clone();
    let (change, public_id) = (Change::new(&tenant, &admin), id.clone());
    let written = state
        .db
        .write(move |c| {
            kb::update(c, change.tenant, &public_id, &row)?;
            let details = serde_json::json!({ "entry": public_id });
            change.record(c, "kb.update", &row.title, details)
        })
        .await;
    match written {
        Ok(()) => Ok(Redirect::to(&format!("/admin/tenants/{slug}/kb?saved=true")).into_response()),
        Err(StoreError::Conflict(_)) => {
            let errors = [("title", (words::of(lang.0).title_taken)(&title))];
            edit_page(lang, &admin, &tenant, &id, &form, &errors)
        }
        Err(e) => Err(e.into()),
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
            let entry = kb::get(c, change.tenant, &id)?;
            kb::delete(c, change.tenant, &id)?;
            let details = serde_json::json!({ "entry": id });
            change.record(c, "kb.delete", &entry.title, details)
        })
        .await?;
    Ok(Redirect::to(&format!("/admin/tenants/{slug}/kb?deleted=true")).into_response())
}
