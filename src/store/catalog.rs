//! The catalog: a tenant's products, their full-text index, and searches that found nothing.

use std::ops::Deref;
use std::sync::LazyLock;

use rusqlite::{Connection, OptionalExtension, Row, ToSql, params, params_from_iter};
use serde::Serialize;
use serde_json::{Map, Value};

use super::{ImportSummary, Result, StoreError, audit, json_column, now_ms};
use crate::{text, token};

/// A product's named fields: each is a column of `products` and the key (or CSV column) a
/// catalog file gives it under. Whatever else a file says about a product is an attribute.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    Sku,
    Title,
    Description,
    Price,
    CompareAt,
    Currency,
    Url,
    Image,
    Category,
    Brand,
    Rating,
}

impl Field {
    /// Every field, in column order.
    pub const ALL: [Self; 11] = [
        Self::Sku,
        Self::Title,
        Self::Description,
        Self::Price,
        Self::CompareAt,
        Self::Currency,
        Self::Url,
        Self::Image,
        Self::Category,
        Self::Brand,
        Self::Rating,
    ];

    /// Its column, and its key in a catalog file.
    pub fn name(self) -> &'static str {
        match self {
            Self::Sku => "sku",
            Self::Title => "title",
            Self::Description => "description",
            Self::Price => "price",
            Self::CompareAt => "compare_at",
            Self::Currency => "currency",
            Self::Url => "url",
            Self::Image => "image",
            Self::Category => "category",
            Self::Brand => "brand",
            Self::Rating => "rating",
        }
    }

    /// The most characters the field may hold, for the text fields that have a limit.
    pub fn max_chars(self) -> Option<usize> {
        match self {
            Self::Sku => Some(100),
            Self::Title => Some(300),
            Self::Description => Some(10_000),
            _ => None,
        }
    }

    /// The fields after the key (`sku`): what an import writes and compares.
    fn data() -> impl Iterator<Item = Self> {
        Self::ALL.into_iter().filter(|f| *f != Self::Sku)
    }
}

/// What a product says: its fields and attributes, as an import gives them and the catalog keeps them.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ProductFields {
    pub sku: String,
    pub title: String,
    pub description: String,
    /// Minor units.
    pub price: Option<i64>,
    /// The old price, in minor units.
    pub compare_at: Option<i64>,
    /// ISO 4217, three uppercase letters.
    pub currency: String,
    pub url: Option<String>,
    /// An absolute http(s) URL or a site-relative path starting with "/".
    pub image: Option<String>,
    pub category: Option<String>,
    pub brand: Option<String>,
    pub rating: Option<f64>,
    /// Every other column or key.
    pub attributes: Map<String, Value>,
}

impl ProductFields {
    /// The value `field`'s column holds.
    fn column(&self, field: Field) -> &dyn ToSql {
        match field {
            Field::Sku => &self.sku,
            Field::Title => &self.title,
            Field::Description => &self.description,
            Field::Price => &self.price,
            Field::CompareAt => &self.compare_at,
            Field::Currency => &self.currency,
            Field::Url => &self.url,
            Field::Image => &self.image,
            Field::Category => &self.category,
            Field::Brand => &self.brand,
            Field::Rating => &self.rating,
        }
    }
}

/// One product as read from a catalog file, before it is stored.
#[derive(Debug, Clone, PartialEq)]
pub struct ProductRow {
    /// 1-based line in the file where the record starts.
    pub line: usize,
    pub fields: ProductFields,
}

/// A stored product: its ids and its fields, which it derefs to (`p.title`).
#[derive(Debug, Clone, Serialize)]
pub struct Product {
    #[serde(skip)]
    pub id: i64,
    #[serde(rename = "id")]
    pub public_id: String,
    #[serde(flatten)]
    pub fields: ProductFields,
}

impl Deref for Product {
    type Target = ProductFields;

    fn deref(&self) -> &ProductFields {
        &self.fields
    }
}

/// `p.id, p.public_id`, the fields in [`Field::ALL`] order, `p.attributes`: what [`product`] reads.
static COLUMNS: LazyLock<String> = LazyLock::new(|| {
    let fields: Vec<String> = Field::ALL
        .iter()
        .map(|f| format!("p.{}", f.name()))
        .collect();
    format!("p.id, p.public_id, {}, p.attributes", fields.join(", "))
});

/// A product from a row selected with [`COLUMNS`].
fn product(r: &Row) -> rusqlite::Result<Product> {
    // As in COLUMNS: a field's place in `Field::ALL` (its discriminant) after the two ids.
    let at = |field: Field| 2 + field as usize;
    Ok(Product {
        id: r.get(0)?,
        public_id: r.get(1)?,
        fields: ProductFields {
            sku: r.get(at(Field::Sku))?,
            title: r.get(at(Field::Title))?,
            description: r.get(at(Field::Description))?,
            price: r.get(at(Field::Price))?,
            compare_at: r.get(at(Field::CompareAt))?,
            currency: r.get(at(Field::Currency))?,
            url: r.get(at(Field::Url))?,
            image: r.get(at(Field::Image))?,
            category: r.get(at(Field::Category))?,
            brand: r.get(at(Field::Brand))?,
            rating: r.get(at(Field::Rating))?,
            attributes: json_column(r, 2 + Field::ALL.len())?,
        },
    })
}

/// The statements an import writes with, spelled out from [`Field::ALL`]. After its key each
/// binds the fields but `sku`, the attributes, the search texts and the time:
/// `INSERT INTO products (public_id, tenant_id, sku, title, …, updated_at, created_at) VALUES (?1, …, ?17, ?17)`,
/// `UPDATE products SET title = ?2, …, updated_at = ?15 WHERE id = ?1 AND (title, …, attributes) IS NOT (?2, …, ?12)`.
struct Writes {
    insert: String,
    update: String,
}

static WRITES: LazyLock<Writes> = LazyLock::new(|| {
    // What tells a change; the search texts follow from it.
    let compared: Vec<&str> = Field::data()
        .map(Field::name)
        .chain(["attributes"])
        .collect();
    let written: Vec<&str> = compared
        .iter()
        .copied()
        .chain(["search_title", "search_body", "updated_at"])
        .collect();
    let marks = |from: usize, count: usize| {
        let marks: Vec<String> = (from..from + count).map(|i| format!("?{i}")).collect();
        marks.join(", ")
    };
    // ?1 public_id, ?2 tenant_id, ?3 sku; the time is also the creation time.
    let last = 3 + written.len();
    let insert = format!(
        "INSERT INTO products (public_id, tenant_id, sku, {}, created_at) VALUES ({}, ?{last})",
        written.join(", "),
        marks(1, last)
    );
    // ?1 the id. Matches only when something differs, so the changed-row count tells updated
    // from unchanged.
    let set: Vec<String> = written
        .iter()
        .zip(2..)
        .map(|(c, i)| format!("{c} = ?{i}"))
        .collect();
    let update = format!(
        "UPDATE products SET {} WHERE id = ?1 AND ({}) IS NOT ({})",
        set.join(", "),
        compared.join(", "),
        marks(2, compared.len())
    );
    Writes { insert, update }
});

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
    let mut insert = c.prepare_cached(&WRITES.insert)?;
    let mut update = c.prepare_cached(&WRITES.update)?;
    for (i, ProductRow { fields: p, .. }) in rows.iter().enumerate() {
        let attributes = Value::Object(p.attributes.clone()).to_string();
        let (search_title, search_body) = search_texts(p);
        let existing: Option<i64> = find
            .query_row(params![tenant_id, p.sku], |r| r.get(0))
            .optional()?;
        // In the order WRITES binds them.
        let written: Vec<&dyn ToSql> = (Field::data().map(|f| p.column(f)))
            .chain([&attributes as &dyn ToSql, &search_title, &search_body, &now])
            .collect();
        match existing {
            None => {
                let id = token::public_id("p");
                let key: [&dyn ToSql; 3] = [&id, &tenant_id, &p.sku];
                insert.execute(params_from_iter(key.iter().chain(&written)))?;
                summary.added += 1;
            }
            Some(id) => {
                let key: [&dyn ToSql; 1] = [&id];
                if update.execute(params_from_iter(key.iter().chain(&written)))? == 0 {
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
            keep.execute([&row.fields.sku])?;
        }
        summary.removed = c.execute(
            "DELETE FROM products WHERE tenant_id = ?1 AND sku NOT IN (SELECT sku FROM temp.import_skus)",
            [tenant_id],
        )?;
        c.execute_batch("DELETE FROM temp.import_skus")?;
    }
    Ok(summary)
}

/// [`import`], with its entry in the audit log: what the CLI and the admin both run, for real or
/// rehearsed (a dry run rolls both back). `who` is the tenant (id, slug) and the actor.
pub fn import_logged(
    c: &Connection,
    who: ((i64, &str), &str),
    rows: &[ProductRow],
    replace: bool,
    file: &str,
    progress: impl FnMut(usize),
) -> Result<ImportSummary> {
    let ((tenant_id, slug), actor) = who;
    let summary = import(c, tenant_id, rows, replace, progress)?;
    audit::record(
        c,
        audit::Entry {
            tenant: Some((tenant_id, slug)),
            actor,
            action: "catalog.import",
            target: Some(file),
            details: serde_json::json!(summary),
        },
    )?;
    Ok(summary)
}

/// Changes one product's fields (its sku too, unless another product has it).
pub fn update(c: &Connection, tenant_id: i64, public_id: &str, p: &ProductFields) -> Result<()> {
    let taken: Option<String> = c
        .query_row(
            "SELECT public_id FROM products WHERE tenant_id = ?1 AND sku = ?2 AND public_id <> ?3",
            params![tenant_id, p.sku, public_id],
            |r| r.get(0),
        )
        .optional()?;
    if taken.is_some() {
        return Err(StoreError::Conflict(format!(
            "another product has sku {:?}",
            p.sku
        )));
    }
    let set: Vec<String> = Field::ALL
        .iter()
        .map(|f| f.name())
        .chain(["attributes", "search_title", "search_body", "updated_at"])
        .zip(3..)
        .map(|(c, i)| format!("{c} = ?{i}"))
        .collect();
    let attributes = Value::Object(p.attributes.clone()).to_string();
    let (search_title, search_body) = search_texts(p);
    let now = now_ms();
    let key: [&dyn ToSql; 2] = [&public_id, &tenant_id];
    let written: Vec<&dyn ToSql> = (Field::ALL.into_iter().map(|f| p.column(f)))
        .chain([&attributes as &dyn ToSql, &search_title, &search_body, &now])
        .collect();
    let changed = c.execute(
        &format!(
            "UPDATE products SET {} WHERE public_id = ?1 AND tenant_id = ?2",
            set.join(", ")
        ),
        params_from_iter(key.iter().chain(&written)),
    )?;
    if changed == 0 {
        return Err(StoreError::NotFound("product".into()));
    }
    Ok(())
}

/// Removes one product; another tenant's is `NotFound`.
pub fn delete(c: &Connection, tenant_id: i64, public_id: &str) -> Result<()> {
    let removed = c.execute(
        "DELETE FROM products WHERE public_id = ?1 AND tenant_id = ?2",
        params![public_id, tenant_id],
    )?;
    if removed == 0 {
        return Err(StoreError::NotFound("product".into()));
    }
    Ok(())
}

/// A page of the tenant's products by title, and how many there are in all.
pub fn list(
    c: &Connection,
    tenant_id: i64,
    offset: usize,
    limit: usize,
) -> Result<(Vec<Product>, usize)> {
    let total: i64 = c.query_row(
        "SELECT count(*) FROM products WHERE tenant_id = ?1",
        [tenant_id],
        |r| r.get(0),
    )?;
    // Limits written into the SQL, as in `search`.
    let mut stmt = c.prepare(&format!(
        "SELECT {} FROM products p WHERE p.tenant_id = ?1 ORDER BY p.title, p.sku LIMIT {limit} OFFSET {offset}",
        *COLUMNS
    ))?;
    let rows = stmt.query_map([tenant_id], product)?;
    Ok((
        rows.collect::<rusqlite::Result<_>>()?,
        usize::try_from(total).unwrap_or(0),
    ))
}

/// The stemmed text FTS indexes: title, category and brand weigh most; description and attributes less.
fn search_texts(p: &ProductFields) -> (String, String) {
    let title = format!(
        "{} {} {}",
        p.title,
        p.category.as_deref().unwrap_or(""),
        p.brand.as_deref().unwrap_or("")
    );
    let attributes: Vec<String> = p
        .attributes
        .values()
        .filter_map(|v| match v {
            Value::String(s) => Some(s.clone()),
            Value::Number(n) => Some(n.to_string()),
            _ => None,
        })
        .collect();
    let body = format!("{} {}", p.description, attributes.join(" "));
    (text::search_text(&title), text::search_text(&body))
}

/// The tenant's product `public_id`; another tenant's is `NotFound`.
pub fn get(c: &Connection, tenant_id: i64, public_id: &str) -> Result<Product> {
    c.query_row(
        &format!(
            "SELECT {} FROM products p WHERE p.public_id = ?1 AND p.tenant_id = ?2",
            *COLUMNS
        ),
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
    let mut sql = format!("SELECT {} FROM products p", *COLUMNS);
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fields_are_listed_in_column_order() {
        // `product` reads a field's column at its discriminant.
        for (i, field) in Field::ALL.into_iter().enumerate() {
            assert_eq!(field as usize, i, "{field:?}");
        }
    }
}
