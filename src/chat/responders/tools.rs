//! The tools an LLM may call: run by keepstar against the tenant's own catalog, their results
//! shown to the visitor as formations and told to the model as JSON.

use serde::Deserialize;
use serde_json::{Value, json};

use super::{ReplyPart, ResponderError};
use crate::chat::cards;
use crate::money;
use crate::store::catalog::{self, Product, Search};
use crate::store::tenants::Tenant;
use crate::store::{Db, StoreError, analytics};
use crate::text;

/// Cards one search shows.
const CARDS: usize = 6;
/// Products one comparison takes.
const COMPARE_MAX: usize = 4;

/// A tool as the model is told about it; each provider wraps it in its own shape.
pub struct ToolSpec {
    pub name: &'static str,
    pub description: &'static str,
    /// JSON Schema of the arguments.
    pub parameters: Value,
}

/// What calling a tool gave: JSON for the model, and what the visitor sees.
pub struct ToolResult {
    pub content: String,
    pub parts: Vec<ReplyPart>,
}

impl ToolResult {
    fn refused(message: String) -> ToolResult {
        ToolResult {
            content: json!({ "error": message }).to_string(),
            parts: Vec::new(),
        }
    }
}

pub fn specs() -> Vec<ToolSpec> {
    vec![
        ToolSpec {
            name: "search_products",
            description: "Search the shop's catalog. The products found are shown to the visitor as cards; \
                          mention them briefly, do not list them again.",
            parameters: json!({
                "type": "object",
                "properties": {
                    "query": {"type": "string", "description": "What the visitor is looking for, in their words"},
                    "min_price": {"type": "number", "description": "Lowest price in the shop's currency (major units)"},
                    "max_price": {"type": "number", "description": "Highest price in the shop's currency (major units)"},
                    "category": {"type": "string"},
                    "brand": {"type": "string"}
                },
                "required": ["query"]
            }),
        },
        ToolSpec {
            name: "show_product",
            description: "Show one product in detail (description, attributes) by its id from a search.",
            parameters: json!({
                "type": "object",
                "properties": {"id": {"type": "string", "description": "A product id such as p_…"}},
                "required": ["id"]
            }),
        },
        ToolSpec {
            name: "compare_products",
            description: "Show two to four products side by side by their ids from a search.",
            parameters: json!({
                "type": "object",
                "properties": {
                    "ids": {"type": "array", "items": {"type": "string"}, "minItems": 2, "maxItems": COMPARE_MAX}
                },
                "required": ["ids"]
            }),
        },
        ToolSpec {
            name: "handoff_to_human",
            description: "Hand the conversation to a person from the shop's team, when the visitor asks for one \
                          or you cannot help.",
            parameters: json!({
                "type": "object",
                "properties": {"reason": {"type": "string"}}
            }),
        },
    ]
}

#[derive(Deserialize)]
struct SearchArgs {
    #[serde(default)]
    query: String,
    min_price: Option<f64>,
    max_price: Option<f64>,
    category: Option<String>,
    brand: Option<String>,
}

#[derive(Deserialize)]
struct ShowArgs {
    id: String,
}

#[derive(Deserialize)]
struct CompareArgs {
    ids: Vec<String>,
}

/// Runs the tool `name` with the model's `arguments` (a JSON object as text). Arguments that make
/// no sense are answered to the model as an error it can correct; only a store failure fails the turn.
pub async fn call(
    db: &Db,
    base_url: &str,
    tenant: &Tenant,
    name: &str,
    arguments: &str,
) -> Result<ToolResult, ResponderError> {
    let args: Value = if arguments.trim().is_empty() {
        json!({})
    } else {
        match serde_json::from_str(arguments) {
            Ok(v) => v,
            Err(e) => return Ok(ToolResult::refused(format!("arguments are not JSON: {e}"))),
        }
    };
    let parsed = |e: serde_json::Error| ToolResult::refused(format!("bad arguments: {e}"));
    let result = match name {
        "search_products" => match serde_json::from_value(args) {
            Ok(a) => search(db, base_url, tenant, a).await,
            Err(e) => return Ok(parsed(e)),
        },
        "show_product" => match serde_json::from_value::<ShowArgs>(args) {
            Ok(a) => show(db, base_url, tenant, a).await,
            Err(e) => return Ok(parsed(e)),
        },
        "compare_products" => match serde_json::from_value::<CompareArgs>(args) {
            Ok(a) => compare(db, base_url, tenant, a).await,
            Err(e) => return Ok(parsed(e)),
        },
        "handoff_to_human" => Ok(ToolResult {
            content: json!({"ok": true, "note": "A person from the team will join the chat."})
                .to_string(),
            parts: vec![ReplyPart::Handoff],
        }),
        other => Ok(ToolResult::refused(format!(
            "there is no tool named {other:?}"
        ))),
    };
    result.map_err(|e| ResponderError {
        code: "store_failed",
        message: e.to_string(),
        retryable: true,
    })
}

/// A product as the model reads it.
fn brief(p: &Product, tenant: &Tenant) -> Value {
    let description: String = p.description.chars().take(300).collect();
    json!({
        "id": p.public_id,
        "title": p.title,
        "price": p.price.map(|a| money::display(a, &p.currency, tenant.locale)),
        "brand": p.brand,
        "category": p.category,
        "rating": p.rating,
        "description": description,
    })
}

/// The facet named `wanted`, whatever its case, as the catalog spells it.
fn facet(names: &[String], wanted: Option<String>) -> Option<String> {
    let wanted = wanted?.trim().to_lowercase();
    names.iter().find(|n| n.to_lowercase() == wanted).cloned()
}

async fn search(
    db: &Db,
    base_url: &str,
    tenant: &Tenant,
    a: SearchArgs,
) -> Result<ToolResult, StoreError> {
    let (tenant_id, currency) = (tenant.id, tenant.currency.clone());
    let query = a.query.clone();
    let products = db
        .read(move |c| {
            let (categories, brands) = catalog::facets(c, tenant_id)?;
            let to_minor = |m: Option<f64>| m.map(|m| money::major_to_minor(m, &currency));
            let mut search = Search {
                terms: text::terms(&a.query),
                any_term: false,
                min_price: to_minor(a.min_price),
                max_price: to_minor(a.max_price),
                category: facet(&categories, a.category),
                brand: facet(&brands, a.brand),
                limit: CARDS,
            };
            let mut found = catalog::search(c, tenant_id, &search)?;
            if found.is_empty() && search.terms.len() > 1 {
                search.any_term = true;
                found = catalog::search(c, tenant_id, &search)?;
            }
            Ok(found)
        })
        .await?;
    let (id, n) = (tenant.id, products.len());
    db.write(move |c| analytics::search_made(c, id, &query, n))
        .await?;
    if products.is_empty() {
        return Ok(ToolResult {
            content: json!({"products": [], "note": "Nothing in the catalog matches."}).to_string(),
            parts: Vec::new(),
        });
    }
    let briefs: Vec<Value> = products.iter().map(|p| brief(p, tenant)).collect();
    Ok(ToolResult {
        content: json!({"products": briefs, "shown_to_visitor": "cards"}).to_string(),
        parts: vec![ReplyPart::Formation(Box::new(cards::cards(
            &products,
            None,
            tenant.locale,
            base_url,
        )))],
    })
}

async fn show(
    db: &Db,
    base_url: &str,
    tenant: &Tenant,
    a: ShowArgs,
) -> Result<ToolResult, StoreError> {
    let tenant_id = tenant.id;
    let found = db
        .read(move |c| match catalog::get(c, tenant_id, &a.id) {
            Ok(p) => Ok(Some(p)),
            Err(StoreError::NotFound(_)) => Ok(None),
            Err(e) => Err(e),
        })
        .await?;
    let Some(p) = found else {
        return Ok(ToolResult::refused("no product has this id".into()));
    };
    let mut detail = brief(&p, tenant);
    detail["description"] = json!(p.description);
    detail["attributes"] = Value::Object(p.attributes.clone());
    detail["url"] = json!(p.url);
    Ok(ToolResult {
        content: json!({"product": detail, "shown_to_visitor": "detail"}).to_string(),
        parts: vec![ReplyPart::Formation(Box::new(cards::detail(
            &p,
            tenant.locale,
            base_url,
        )))],
    })
}

async fn compare(
    db: &Db,
    base_url: &str,
    tenant: &Tenant,
    a: CompareArgs,
) -> Result<ToolResult, StoreError> {
    // A model may name a product twice, not always in a row.
    let mut seen = std::collections::HashSet::new();
    let mut ids = a.ids;
    ids.retain(|id| seen.insert(id.clone()));
    if !(2..=COMPARE_MAX).contains(&ids.len()) {
        return Ok(ToolResult::refused(format!(
            "give two to {COMPARE_MAX} different product ids"
        )));
    }
    let tenant_id = tenant.id;
    let products = db
        .read(move |c| {
            let mut found = Vec::new();
            for id in &ids {
                match catalog::get(c, tenant_id, id) {
                    Ok(p) => found.push(p),
                    Err(StoreError::NotFound(_)) => {}
                    Err(e) => return Err(e),
                }
            }
            Ok(found)
        })
        .await?;
    if products.len() < 2 {
        return Ok(ToolResult::refused(
            "fewer than two of these ids are products of this shop".into(),
        ));
    }
    let briefs: Vec<Value> = products.iter().map(|p| brief(p, tenant)).collect();
    Ok(ToolResult {
        content: json!({"products": briefs, "shown_to_visitor": "comparison"}).to_string(),
        parts: vec![ReplyPart::Formation(Box::new(cards::comparison(
            &products,
            tenant.locale,
            base_url,
        )))],
    })
}
