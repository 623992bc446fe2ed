//! The catalog: a tenant's products, their full-text index, and searches that found nothing.

use rusqlite::{Connection, OptionalExtension, Row, params, params_from_iter};
use serde::Serialize;

use super::{ImportSummary, Result, StoreError, now_ms};
use crate::import::ProductRow;
use crate::{text, token};

#[derive(Debug, Clone, Serialize)]
pub struct Product {
    #[serde(skip)]
    pub id: i64,
    #[serde(rename = "id")]
    pub public_id: String,
    pub sku: String,
    pub title: String,
    pub description: String,
    pub price: Option<i64>,
    pub compare_at: Option<i64>,
    pub currency: String,
    pub url: Option<String>,
    pub image: Option<String>,
    pub category: Option<String>,
    pub brand: Option<String>,
    pub rating: Option<f64>,
    pub attributes: serde_json::Map<String, serde_json::Value>,
}

const COLUMNS: &str = "p.id, p.public_id, p.sku, p.title, p.description, p.price, p.compare_at, p.currency, p.url, \
    p.image, p.category, p.brand, p.rating, p.attributes";

fn product(r: &Row) -> rusqlite::Result<Product> {
    let attributes: String = r.get(13)?;
    Ok(Product {
        id: r.get(0)?,
        public_id: r.get(1)?,
        sku: r.get(2)?,
        title: r.get(3)?,
        description: r.get(4)?,
        price: r.get(5)?,
        compare_at: r.get(6)?,
        currency: r.get(7)?,
        url: r.get(8)?,
        image: r.get(9)?,
        category: r.get(10)?,
        brand: r.get(11)?,
        rating: r.get(12)?,
        attributes: serde_json::from_str(&attributes).unwrap_or_default(),
    })
}

/// Upserts `rows` by (tenant, sku); with `replace`, removes the tenant's products not in `rows`.
/// Runs inside the caller's transaction, so a failure leaves the catalog as it was.
pub fn import(
    c: &Connection,
    tenant_id: i64,
    rows: &[ProductRow],
    replace: bool,
    mut progress: impl FnMut(usize),
) -> Result<ImportSummary> {
    let mut summary = ImportSummary::default();
    let now = now_ms();
    let mut find = c.prepare_cached("SELECT id FROM products WHERE tenant_id = ?1 AND sku = ?2")?;
    let mut insert = c.prepare_cached(
        "INSERT INTO products (public_id, tenant_id, sku, title, description, price, compare_at, currency, url, image,
            category, brand, rating, attributes, search_title, search_body, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?17)",
    )?;
    // Matches only when something differs, so the changed-row count tells updated from unchanged.
    let mut update = c.prepare_cached(
        "UPDATE products SET title = ?2, description = ?3, price = ?4, compare_at = ?5, currency = ?6, url = ?7,
            image = ?8, category = ?9, brand = ?10, rating = ?11, attributes = ?12, search_title = ?13,
            search_body = ?14, updated_at = ?15
         WHERE id = ?1 AND (title, description, price, compare_at, currency, url, image, category, brand, rating, attributes)
            IS NOT (?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)",
    )?;
    for (i, row) in rows.iter().enumerate() {
        let attributes = serde_json::Value::Object(row.attributes.clone()).to_string();
        let (search_title, search_body) = search_texts(row);
        let existing: Option<i64> = find
            .query_row(params![tenant_id, row.sku], |r| r.get(0))
            .optional()?;
        let fields = params![
            row.title,
            row.description,
            row.price,
            row.compare_at,
            row.currency,
            row.url,
            row.image,
            row.category,
            row.brand,
            row.rating,
            attributes,
            search_title,
            search_body,
            now
        ];
        match existing {
            None => {
                let id = token::public_id("p");
                let mut all: Vec<&dyn rusqlite::ToSql> = vec![&id, &tenant_id, &row.sku];
                all.extend_from_slice(fields);
                insert.execute(all.as_slice())?;
                summary.added += 1;
            }
            Some(id) => {
                let mut all: Vec<&dyn rusqlite::ToSql> = vec![&id];
                all.extend_from_slice(fields);
                if update.execute(all.as_slice())? == 0 {
                    summary.unchanged += 1;
                } else {
                    summary.updated += 1;
                }
            }
        }
        progress(i + 1);
    }
    if replace {
        c.execute_batch("CREATE TEMP TABLE IF NOT EXISTS import_skus (sku TEXT PRIMARY KEY); DELETE FROM import_skus;")?;
        let mut keep = c.prepare("INSERT OR IGNORE INTO temp.import_skus (sku) VALUES (?1)")?;
        for row in rows {
            keep.execute([&row.sku])?;
        }
        summary.removed = c.execute(
            "DELETE FROM products WHERE tenant_id = ?1 AND sku NOT IN (SELECT sku FROM temp.import_skus)",
            [tenant_id],
        )?;
        c.execute_batch("DELETE FROM temp.import_skus")?;
    }
    Ok(summary)
}

/// The stemmed text FTS indexes: title, category and brand weigh most; description and attributes less.
fn search_texts(row: &ProductRow) -> (String, String) {
    let title = format!(
        "{} {} {}",
        row.title,
        row.category.as_deref().unwrap_or(""),
        row.brand.as_deref().unwrap_or("")
    );
    let attributes: Vec<String> = row
        .attributes
        .values()
        .filter_map(|v| match v {
            serde_json::Value::String(s) => Some(s.clone()),
            serde_json::Value::Number(n) => Some(n.to_string()),
            _ => None,
        })
        .collect();
    let body = format!("{} {}", row.description, attributes.join(" "));
    (text::search_text(&title), text::search_text(&body))
}

/// The tenant's product `public_id`; another tenant's is `NotFound`.
pub fn get(c: &Connection, tenant_id: i64, public_id: &str) -> Result<Product> {
    c.query_row(
        &format!("SELECT {COLUMNS} FROM products p WHERE p.public_id = ?1 AND p.tenant_id = ?2"),
        params![public_id, tenant_id],
        product,
    )
    .optional()?
    .ok_or_else(|| StoreError::NotFound("product".into()))
}

/// A catalog search: stemmed terms (all must match; empty = any product), price bounds in
/// minor units, and exact category / brand filters.
#[derive(Debug, Clone, Default)]
pub struct Search {
    pub terms: Vec<String>,
    pub any_term: bool,
    pub min_price: Option<i64>,
    pub max_price: Option<i64>,
    pub category: Option<String>,
    pub brand: Option<String>,
    pub limit: usize,
}

/// Products matching `s`, best first (BM25 with titles weighted over descriptions; without
/// terms, the best rated).
pub fn search(c: &Connection, tenant_id: i64, s: &Search) -> Result<Vec<Product>> {
    let mut sql = format!("SELECT {COLUMNS} FROM products p");
    let mut args: Vec<rusqlite::types::Value> = Vec::new();
    let mut filters = vec!["p.tenant_id = ?".to_string()];
    args.push(tenant_id.into());
    let matching = !s.terms.is_empty();
    if matching {
        sql.push_str(" JOIN products_fts f ON f.rowid = p.id");
        filters.push("products_fts MATCH ?".into());
        let joiner = if s.any_term { " OR " } else { " AND " };
        let query: Vec<String> = s
            .terms
            .iter()
            .map(|t| format!("\"{}\"", t.replace('"', "\"\"")))
            .collect();
        args.push(query.join(joiner).into());
    }
    for (column, op, value) in [
        ("p.price", ">=", s.min_price),
        ("p.price", "<=", s.max_price),
    ] {
        if let Some(v) = value {
            filters.push(format!("{column} {op} ?"));
            args.push(v.into());
        }
    }
    for (column, value) in [("p.category", &s.category), ("p.brand", &s.brand)] {
        if let Some(v) = value {
            filters.push(format!("{column} = ?"));
            args.push(v.clone().into());
        }
    }
    let order = if matching {
        "bm25(products_fts, 10.0, 1.0), p.rating DESC"
    } else {
        "p.rating DESC, p.price"
    };
    // The limit is written into the SQL: with a bound LIMIT, SQLite prepares the statement anew
    // on every run, cached or not.
    sql.push_str(&format!(
        " WHERE {} ORDER BY {order} LIMIT {}",
        filters.join(" AND "),
        s.limit
    ));
    let mut stmt = c.prepare_cached(&sql)?;
    let rows = stmt.query_map(params_from_iter(args), product)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// The tenant's distinct categories and brands, for recognising them in a visitor's words.
pub fn facets(c: &Connection, tenant_id: i64) -> Result<(Vec<String>, Vec<String>)> {
    let distinct = |column: &str| -> Result<Vec<String>> {
        let mut stmt = c.prepare_cached(&format!(
            "SELECT DISTINCT {column} FROM products WHERE tenant_id = ?1 AND {column} IS NOT NULL ORDER BY {column}"
        ))?;
        let rows = stmt.query_map([tenant_id], |r| r.get(0))?;
        Ok(rows.collect::<rusqlite::Result<_>>()?)
    };
    Ok((distinct("category")?, distinct("brand")?))
}

/// Records a search that found nothing, for the site owner's analytics.
pub fn record_miss(c: &Connection, tenant_id: i64, query: &str) -> Result<()> {
    let query: String = query.chars().take(500).collect();
    c.execute(
        "INSERT INTO search_misses (tenant_id, query, created_at) VALUES (?1, ?2, ?3)",
        params![tenant_id, query, now_ms()],
    )?;
    Ok(())
}
