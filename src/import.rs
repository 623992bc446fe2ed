//! Catalog and knowledge-base files (SPEC §2): parsing and validating every record before anything is
//! written, so an import either has all its rows or a list of every problem with its line.
//!
//! Nothing here touches the database; the caller writes the rows in one transaction.

use std::collections::HashMap;
use std::path::Path;

use serde_json::{Map, Number, Value};

use crate::money;

/// At most this many errors are reported for one file; parsing stops once it is reached.
pub const MAX_ERRORS: usize = 100;

const MAX_SKU_CHARS: usize = 100;
const MAX_TITLE_CHARS: usize = 300;
const MAX_DESCRIPTION_CHARS: usize = 10_000;

/// One product row as read from a file.
#[derive(Debug, Clone, PartialEq)]
pub struct ProductRow {
    /// 1-based line in the file where the record starts.
    pub line: usize,
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

/// One knowledge-base entry as read from a file.
#[derive(Debug, Clone, PartialEq)]
pub struct KbRow {
    pub line: usize,
    pub title: String,
    pub body: String,
}

/// A problem with one record, reported with its line: "line 7: missing sku".
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct RowError {
    pub line: usize,
    pub message: String,
}

/// How a catalog file is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CatalogFormat {
    Csv,
    Json,
    Jsonl,
}

impl CatalogFormat {
    /// By extension (.csv/.tsv, .json, .jsonl/.ndjson), else by content: '[' → Json, '{' → Jsonl, else Csv.
    pub fn detect(path: &Path, content: &str) -> CatalogFormat {
        match extension(path).as_deref() {
            Some("csv" | "tsv") => CatalogFormat::Csv,
            Some("json") => CatalogFormat::Json,
            Some("jsonl" | "ndjson") => CatalogFormat::Jsonl,
            _ => match first_char(content) {
                Some('[') => CatalogFormat::Json,
                Some('{') => CatalogFormat::Jsonl,
                _ => CatalogFormat::Csv,
            },
        }
    }
}

/// How a knowledge-base file is written.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KbFormat {
    Markdown,
    Csv,
}

impl KbFormat {
    /// By extension (.md/.markdown/.txt, .csv/.tsv), else Csv when the first line names
    /// `question` and `answer` columns, else Markdown.
    pub fn detect(path: &Path, content: &str) -> KbFormat {
        match extension(path).as_deref() {
            Some("md" | "markdown" | "txt") => KbFormat::Markdown,
            Some("csv" | "tsv") => KbFormat::Csv,
            _ => {
                let first = strip_bom(content)
                    .lines()
                    .find(|l| !l.trim().is_empty())
                    .unwrap_or("")
                    .to_lowercase();
                let columns: Vec<&str> = first
                    .split([',', ';', '\t'])
                    .map(|c| c.trim().trim_matches('"').trim())
                    .collect();
                if columns.contains(&"question") && columns.contains(&"answer") {
                    KbFormat::Csv
                } else {
                    KbFormat::Markdown
                }
            }
        }
    }
}

/// Parses a catalog: every row, or every error found (up to [`MAX_ERRORS`]).
///
/// A `Json` file that starts with '{' is read as JSONL and a `Jsonl` one that starts with '[' as a
/// JSON array, since such files are often named either way.
pub fn parse_catalog(
    content: &str,
    format: CatalogFormat,
    default_currency: &str,
) -> Result<Vec<ProductRow>, Vec<RowError>> {
    let content = strip_bom(content);
    let mut errors = Errors::default();
    let format = match (format, first_char(content)) {
        (CatalogFormat::Json, Some('{')) => CatalogFormat::Jsonl,
        (CatalogFormat::Jsonl, Some('[')) => CatalogFormat::Json,
        (format, _) => format,
    };
    let records = match format {
        CatalogFormat::Csv => csv_products(content, &mut errors),
        CatalogFormat::Json => json_array_products(content, &mut errors),
        CatalogFormat::Jsonl => jsonl_products(content, &mut errors),
    };
    if records.is_empty() && errors.is_empty() {
        errors.add(1, "the file has no products");
    }
    let default_currency = default_currency.trim().to_ascii_uppercase();
    let mut first_lines = HashMap::new();
    let mut rows = Vec::with_capacity(records.len());
    for record in records {
        if errors.is_full() {
            break;
        }
        if let Some(row) = product(record, &default_currency, &mut first_lines, &mut errors) {
            rows.push(row);
        }
    }
    errors.into_result(rows)
}

/// Parses a knowledge-base file: every entry, or every error found (up to [`MAX_ERRORS`]).
///
/// Markdown: each `#`/`##` heading starts an entry whose body runs to the next such heading
/// (`###` and deeper, and anything inside code fences, stay in the body). A `#` heading followed
/// directly by a `##` heading is the document's (or a section's) title, not an entry.
/// CSV: a header with `question` and `answer` columns. A title may appear only once per file.
pub fn parse_kb(content: &str, format: KbFormat) -> Result<Vec<KbRow>, Vec<RowError>> {
    let content = strip_bom(content);
    let mut errors = Errors::default();
    let rows = match format {
        KbFormat::Markdown => markdown_kb(content, &mut errors),
        KbFormat::Csv => csv_kb(content, &mut errors),
    };
    // Entries are stored by title, so a repeated title would silently replace the earlier entry.
    let mut first_lines: HashMap<&str, usize> = HashMap::new();
    for row in &rows {
        match first_lines.get(row.title.as_str()) {
            Some(first) => errors.add(
                row.line,
                format!(
                    "duplicate title {} (first on line {first})",
                    quote(&row.title)
                ),
            ),
            None => {
                first_lines.insert(&row.title, row.line);
            }
        }
    }
    errors.into_result(rows)
}

// ---------------------------------------------------------------------------------------------
// Errors

#[derive(Default)]
struct Errors(Vec<RowError>);

impl Errors {
    fn add(&mut self, line: usize, message: impl Into<String>) {
        if !self.is_full() {
            self.0.push(RowError {
                line,
                message: message.into(),
            });
        }
    }
    fn is_full(&self) -> bool {
        self.0.len() >= MAX_ERRORS
    }
    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
    fn into_result<T>(mut self, rows: Vec<T>) -> Result<Vec<T>, Vec<RowError>> {
        if self.0.is_empty() {
            Ok(rows)
        } else {
            // Stable: a record's own problems keep their order.
            self.0.sort_by_key(|e| e.line);
            Err(self.0)
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Products

/// A value as it came from the file: a CSV cell or a JSON value.
enum Cell {
    Text(String),
    Json(Value),
}

/// One record before validation: its starting line and its fields in file order.
struct Record {
    line: usize,
    fields: Vec<(String, Cell)>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Field {
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
    const ALL: [Field; 11] = [
        Field::Sku,
        Field::Title,
        Field::Description,
        Field::Price,
        Field::CompareAt,
        Field::Currency,
        Field::Url,
        Field::Image,
        Field::Category,
        Field::Brand,
        Field::Rating,
    ];

    fn name(self) -> &'static str {
        match self {
            Field::Sku => "sku",
            Field::Title => "title",
            Field::Description => "description",
            Field::Price => "price",
            Field::CompareAt => "compare_at",
            Field::Currency => "currency",
            Field::Url => "url",
            Field::Image => "image",
            Field::Category => "category",
            Field::Brand => "brand",
            Field::Rating => "rating",
        }
    }

    /// Known field names match trimmed and case-insensitively.
    fn from_name(name: &str) -> Option<Field> {
        let name = name.trim();
        Field::ALL
            .into_iter()
            .find(|f| f.name().eq_ignore_ascii_case(name))
    }
}

/// Validates one record; every problem goes to `errors` with the record's line.
fn product(
    record: Record,
    default_currency: &str,
    first_lines: &mut HashMap<String, usize>,
    errors: &mut Errors,
) -> Option<ProductRow> {
    let line = record.line;
    let mut problems = Vec::new();
    let mut known: Vec<(Field, Cell)> = Vec::new();
    let mut attributes = Map::new();
    for (key, cell) in record.fields {
        match Field::from_name(&key) {
            Some(field) if known.iter().any(|(f, _)| *f == field) => {
                problems.push(format!("{} is given twice", field.name()));
            }
            Some(field) => known.push((field, cell)),
            None if key.is_empty() => problems.push("a key has no name".to_string()),
            None => match attribute(&key, cell) {
                Ok(Some(value)) => {
                    attributes.insert(key, value);
                }
                Ok(None) => {}
                Err(message) => problems.push(message),
            },
        }
    }
    let mut take = |field: Field| {
        let i = known.iter().position(|(f, _)| *f == field)?;
        Some(known.swap_remove(i).1)
    };

    let sku = match text(take(Field::Sku), Field::Sku) {
        Ok(Some(sku)) if sku.chars().any(char::is_control) => {
            problems.push(format!(
                "sku {} contains a line break or control character",
                quote(&sku)
            ));
            None
        }
        Ok(Some(sku)) => match too_long(&sku, Field::Sku, MAX_SKU_CHARS) {
            Some(problem) => {
                problems.push(problem);
                None
            }
            None => Some(sku),
        },
        Ok(None) => {
            problems.push("missing sku".to_string());
            None
        }
        Err(problem) => {
            problems.push(problem);
            None
        }
    };
    if let Some(sku) = &sku {
        match first_lines.get(sku) {
            Some(first) => problems.push(format!(
                "duplicate sku {} (first on line {first})",
                quote(sku)
            )),
            None => {
                first_lines.insert(sku.clone(), line);
            }
        }
    }

    let title = match text(take(Field::Title), Field::Title) {
        Ok(Some(title)) => {
            if let Some(problem) = too_long(&title, Field::Title, MAX_TITLE_CHARS) {
                problems.push(problem);
            }
            title
        }
        Ok(None) => {
            problems.push("missing title".to_string());
            String::new()
        }
        Err(problem) => {
            problems.push(problem);
            String::new()
        }
    };
    let description = optional_text(take(Field::Description), Field::Description, &mut problems)
        .unwrap_or_default();
    if let Some(problem) = too_long(&description, Field::Description, MAX_DESCRIPTION_CHARS) {
        problems.push(problem);
    }

    let currency = match optional_text(take(Field::Currency), Field::Currency, &mut problems) {
        Some(code) => {
            let upper = code.to_ascii_uppercase();
            if upper.len() == 3 && upper.bytes().all(|b| b.is_ascii_uppercase()) {
                upper
            } else {
                problems.push(format!(
                    "invalid currency {}: use a 3-letter ISO 4217 code (e.g. USD)",
                    quote(&code)
                ));
                default_currency.to_string()
            }
        }
        None => default_currency.to_string(),
    };
    let price = amount(take(Field::Price), &currency, "price").unwrap_or_else(|p| {
        problems.push(p);
        None
    });
    let compare_at = amount(take(Field::CompareAt), &currency, "compare_at").unwrap_or_else(|p| {
        problems.push(p);
        None
    });

    let url = optional_text(take(Field::Url), Field::Url, &mut problems).and_then(|url| {
        let web = web_url(&url);
        if web.is_none() {
            problems.push(format!(
                "invalid url {}: use an absolute http(s) URL",
                quote(&url)
            ));
        }
        web
    });
    let image = optional_text(take(Field::Image), Field::Image, &mut problems).and_then(|image| {
        let valid = if image.starts_with('/') {
            site_path(&image).then_some(image.clone())
        } else {
            web_url(&image)
        };
        if valid.is_none() {
            problems.push(format!(
                "invalid image {}: use an absolute http(s) URL or a path starting with \"/\"",
                quote(&image)
            ));
        }
        valid
    });
    let category = optional_text(take(Field::Category), Field::Category, &mut problems);
    let brand = optional_text(take(Field::Brand), Field::Brand, &mut problems);
    let rating = rating(take(Field::Rating)).unwrap_or_else(|p| {
        problems.push(p);
        None
    });

    if !problems.is_empty() {
        for problem in problems {
            errors.add(line, problem);
        }
        return None;
    }
    Some(ProductRow {
        line,
        sku: sku?,
        title,
        description,
        price,
        compare_at,
        currency,
        url,
        image,
        category,
        brand,
        rating,
        attributes,
    })
}

/// A text field: trimmed, empty is absent; JSON numbers are accepted as their digits.
fn text(cell: Option<Cell>, field: Field) -> Result<Option<String>, String> {
    match cell {
        None | Some(Cell::Json(Value::Null)) => Ok(None),
        Some(Cell::Text(s) | Cell::Json(Value::String(s))) => Ok(non_empty(&s)),
        Some(Cell::Json(Value::Number(n))) => Ok(Some(n.to_string())),
        Some(Cell::Json(other)) => Err(format!(
            "{} must be text, not {}",
            field.name(),
            kind(&other)
        )),
    }
}

fn optional_text(cell: Option<Cell>, field: Field, problems: &mut Vec<String>) -> Option<String> {
    text(cell, field).unwrap_or_else(|problem| {
        problems.push(problem);
        None
    })
}

fn too_long(value: &str, field: Field, limit: usize) -> Option<String> {
    let chars = value.chars().count();
    (chars > limit).then(|| {
        format!(
            "{} {} is too long: {chars} characters (at most {limit})",
            field.name(),
            quote(value)
        )
    })
}

/// A price-like field: digits in text, or a JSON number.
fn amount(cell: Option<Cell>, currency: &str, field: &str) -> Result<Option<i64>, String> {
    match cell {
        None | Some(Cell::Json(Value::Null)) => Ok(None),
        Some(Cell::Text(s) | Cell::Json(Value::String(s))) if s.trim().is_empty() => Ok(None),
        Some(Cell::Text(s) | Cell::Json(Value::String(s))) => {
            money::parse_amount(&s, currency, field).map(Some)
        }
        Some(Cell::Json(Value::Number(n))) => {
            money::parse_amount(&number_text(&n), currency, field).map(Some)
        }
        Some(Cell::Json(other)) => Err(format!(
            "invalid {field} {}: use a number like 49.90",
            quote(&other.to_string())
        )),
    }
}

/// A JSON number as plain decimal digits ("49.9", "12990"), never in exponent form.
fn number_text(n: &Number) -> String {
    if n.is_f64() {
        // Rust prints the shortest decimal that reads back the same, without an exponent.
        n.as_f64().map_or_else(|| n.to_string(), |f| f.to_string())
    } else {
        n.to_string()
    }
}

fn rating(cell: Option<Cell>) -> Result<Option<f64>, String> {
    let (written, value) = match cell {
        None | Some(Cell::Json(Value::Null)) => return Ok(None),
        Some(Cell::Text(s) | Cell::Json(Value::String(s))) => {
            let t = s.trim();
            if t.is_empty() {
                return Ok(None);
            }
            // f64::from_str also takes "NaN", "inf" and "1e1"; a rating is plain digits.
            let plain = t
                .bytes()
                .all(|b| b.is_ascii_digit() || b == b'.' || b == b'-');
            match t.parse::<f64>() {
                Ok(v) if plain => (t.to_string(), v),
                _ => {
                    return Err(format!(
                        "invalid rating {}: use a number from 0 to 5 (e.g. 4.5)",
                        quote(t)
                    ));
                }
            }
        }
        Some(Cell::Json(Value::Number(n))) => (n.to_string(), n.as_f64().unwrap_or(f64::NAN)),
        Some(Cell::Json(other)) => {
            return Err(format!(
                "invalid rating {}: use a number from 0 to 5 (e.g. 4.5)",
                quote(&other.to_string())
            ));
        }
    };
    if (0.0..=5.0).contains(&value) {
        Ok(Some(value))
    } else {
        Err(format!("rating {written} is out of range 0-5"))
    }
}

/// Any other column or key: scalars as given, lists of scalars joined with ", ".
fn attribute(key: &str, cell: Cell) -> Result<Option<Value>, String> {
    let value = match cell {
        Cell::Text(s) => return Ok(non_empty(&s).map(Value::String)),
        Cell::Json(value) => value,
    };
    match value {
        Value::Null => Ok(None),
        Value::String(s) => Ok(non_empty(&s).map(Value::String)),
        Value::Bool(_) | Value::Number(_) => Ok(Some(value)),
        Value::Array(items) => {
            let mut parts = Vec::with_capacity(items.len());
            for item in items {
                match item {
                    Value::Null => {}
                    Value::String(s) => parts.extend(non_empty(&s)),
                    Value::Bool(b) => parts.push(b.to_string()),
                    Value::Number(n) => parts.push(n.to_string()),
                    Value::Array(_) | Value::Object(_) => {
                        return Err(format!(
                            "attribute {} holds a nested list or object: use a list of plain values",
                            quote(key)
                        ));
                    }
                }
            }
            Ok((!parts.is_empty()).then(|| Value::String(parts.join(", "))))
        }
        Value::Object(_) => Err(format!(
            "attribute {} is an object: nested objects are not supported, use flat keys or text",
            quote(key)
        )),
    }
}

/// An absolute http(s) URL with a host, normalised (e.g. spaces percent-encoded).
fn web_url(text: &str) -> Option<String> {
    let url = url::Url::parse(text).ok()?;
    let web =
        matches!(url.scheme(), "http" | "https") && url.host_str().is_some_and(|h| !h.is_empty());
    web.then(|| url.to_string())
}

/// A path on the serving site: "/demo/img/x.svg", not "//other.host/x" nor "/\other.host".
fn site_path(path: &str) -> bool {
    if path.chars().any(char::is_control) {
        return false;
    }
    let Ok(base) = url::Url::parse("http://site.invalid/") else {
        return false;
    };
    base.join(path)
        .is_ok_and(|u| u.host_str() == Some("site.invalid"))
}

fn csv_products(content: &str, errors: &mut Errors) -> Vec<Record> {
    let Some(table) = read_csv(content, errors) else {
        return Vec::new();
    };
    let names: Vec<String> = table.header.iter().map(|n| n.trim().to_string()).collect();
    let mut header_ok = true;
    let mut seen: Vec<String> = Vec::new();
    for name in names.iter().filter(|n| !n.is_empty()) {
        let key = Field::from_name(name).map_or_else(|| name.clone(), |f| f.name().to_string());
        if seen.contains(&key) {
            errors.add(
                table.header_line,
                format!("column {} appears twice in the header", quote(name)),
            );
            header_ok = false;
        }
        seen.push(key);
    }
    let missing: Vec<&str> = [Field::Sku, Field::Title]
        .into_iter()
        .map(Field::name)
        .filter(|name| !seen.iter().any(|s| s == name))
        .collect();
    if !missing.is_empty() {
        let missing: Vec<String> = missing.iter().map(|m| format!("{m:?}")).collect();
        errors.add(
            table.header_line,
            format!(
                "the header has no {} column; the first line must name the columns, e.g. sku,title,price (found: {})",
                missing.join(" or "),
                shorten(&names.join(", "), 80)
            ),
        );
        header_ok = false;
    }
    if !header_ok {
        return Vec::new();
    }
    let mut records = Vec::with_capacity(table.rows.len());
    for (line, cells) in table.rows {
        let mut fields = Vec::new();
        let mut ok = true;
        for (i, cell) in cells.into_iter().enumerate() {
            let cell = cell.trim();
            if cell.is_empty() {
                continue;
            }
            match names.get(i) {
                Some(name) if !name.is_empty() => {
                    fields.push((name.clone(), Cell::Text(cell.to_string())));
                }
                _ => {
                    errors.add(
                        line,
                        format!(
                            "column {} has the value {} but no name in the header",
                            i + 1,
                            quote(cell)
                        ),
                    );
                    ok = false;
                }
            }
        }
        if ok {
            records.push(Record { line, fields });
        }
    }
    records
}

fn json_array_products(content: &str, errors: &mut Errors) -> Vec<Record> {
    let value: Value = match serde_json::from_str(content) {
        Ok(value) => value,
        Err(e) => {
            errors.add(e.line().max(1), json_error(&e));
            return Vec::new();
        }
    };
    let Value::Array(items) = value else {
        errors.add(
            1,
            format!(
                "expected a JSON array of products like [{{\"sku\": …}}], found {}",
                kind(&value)
            ),
        );
        return Vec::new();
    };
    let lines = element_lines(content);
    items
        .into_iter()
        .enumerate()
        .filter_map(|(i, item)| object_record(lines.get(i).copied().unwrap_or(1), item, errors))
        .collect()
}

fn jsonl_products(content: &str, errors: &mut Errors) -> Vec<Record> {
    let mut records = Vec::new();
    for (i, raw) in content.split('\n').enumerate() {
        if errors.is_full() {
            break;
        }
        if raw.trim().is_empty() {
            continue;
        }
        match serde_json::from_str::<Value>(raw) {
            Ok(item) => records.extend(object_record(i + 1, item, errors)),
            Err(e) => errors.add(i + 1, json_error(&e)),
        }
    }
    records
}

fn object_record(line: usize, item: Value, errors: &mut Errors) -> Option<Record> {
    match item {
        Value::Object(map) => Some(Record {
            line,
            fields: map
                .into_iter()
                .map(|(key, value)| (key.trim().to_string(), Cell::Json(value)))
                .collect(),
        }),
        other => {
            errors.add(
                line,
                format!("expected a product object, found {}", kind(&other)),
            );
            None
        }
    }
}

/// The line on which each element of a top-level JSON array starts. `json` must be valid JSON.
fn element_lines(json: &str) -> Vec<usize> {
    let mut lines = Vec::new();
    let (mut line, mut depth) = (1_usize, 0_usize);
    let (mut in_string, mut escaped, mut expecting) = (false, false, false);
    for b in json.bytes() {
        if b == b'\n' {
            line += 1;
        }
        if in_string {
            if escaped {
                escaped = false;
            } else if b == b'\\' {
                escaped = true;
            } else if b == b'"' {
                in_string = false;
            }
            continue;
        }
        if b.is_ascii_whitespace() {
            continue;
        }
        if depth == 1 && expecting && b != b',' && b != b']' {
            lines.push(line);
            expecting = false;
        }
        match b {
            b'"' => in_string = true,
            b'[' | b'{' => {
                depth += 1;
                if depth == 1 {
                    expecting = true;
                }
            }
            b']' | b'}' => depth = depth.saturating_sub(1),
            b',' if depth == 1 => expecting = true,
            _ => {}
        }
    }
    lines
}

/// "invalid JSON at column 12: expected `,` or `}`" — the line goes in the RowError.
fn json_error(e: &serde_json::Error) -> String {
    let full = e.to_string();
    let message = full
        .rsplit_once(" at line ")
        .map_or(full.as_str(), |(message, _)| message);
    format!("invalid JSON at column {}: {message}", e.column())
}

fn kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "true/false",
        Value::Number(_) => "a number",
        Value::String(_) => "text",
        Value::Array(_) => "a list",
        Value::Object(_) => "an object",
    }
}

// ---------------------------------------------------------------------------------------------
// CSV

struct CsvTable {
    header_line: usize,
    header: Vec<String>,
    /// Non-blank records with their starting lines.
    rows: Vec<(usize, Vec<String>)>,
}

/// Reads a header and its records; `None` when there is not even a header.
///
/// The delimiter is ',' unless the header line has more ';' (a Russian or German Excel export)
/// or tabs. Extra trailing empty fields are tolerated; any other field-count mismatch is an error.
fn read_csv(content: &str, errors: &mut Errors) -> Option<CsvTable> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .delimiter(delimiter(content))
        .from_reader(content.as_bytes());
    let mut lines = LineCounter::new(content);
    let mut header: Option<(usize, Vec<String>)> = None;
    let mut rows = Vec::new();
    for result in reader.records() {
        if errors.is_full() {
            break;
        }
        let record = match result {
            Ok(record) => record,
            Err(e) => {
                let line = e.position().map_or(1, |p| lines.record_line(p.byte()));
                errors.add(line, format!("unreadable CSV: {e}"));
                break;
            }
        };
        let line = record.position().map_or(1, |p| lines.record_line(p.byte()));
        let cells: Vec<String> = record.iter().map(str::to_string).collect();
        if cells.iter().all(|c| c.trim().is_empty()) {
            continue;
        }
        let Some((_, names)) = &header else {
            header = Some((line, cells));
            continue;
        };
        let extra_empty =
            cells.len() > names.len() && cells[names.len()..].iter().all(|c| c.trim().is_empty());
        if cells.len() != names.len() && !extra_empty {
            errors.add(
                line,
                format!(
                    "expected {} fields as in the header, found {} (a value with a comma must be in double quotes)",
                    names.len(),
                    cells.len()
                ),
            );
            continue;
        }
        rows.push((line, cells));
    }
    let (header_line, header) = header?;
    Some(CsvTable {
        header_line,
        header,
        rows,
    })
}

/// Maps the csv crate's record offsets to 1-based lines.
///
/// csv's own `Position::line()` is wrong after blank lines and CRLF endings, and its byte offset
/// points at the end of the previous record, before any blank lines; so skip the line breaks
/// from there and count newlines. Offsets only grow, so counting is incremental.
struct LineCounter<'a> {
    bytes: &'a [u8],
    offset: usize,
    line: usize,
}

impl<'a> LineCounter<'a> {
    fn new(content: &'a str) -> Self {
        LineCounter {
            bytes: content.as_bytes(),
            offset: 0,
            line: 1,
        }
    }

    fn record_line(&mut self, byte: u64) -> usize {
        let mut start = usize::try_from(byte)
            .unwrap_or(usize::MAX)
            .min(self.bytes.len());
        while matches!(self.bytes.get(start), Some(b'\r' | b'\n')) {
            start += 1;
        }
        if start >= self.offset {
            self.line += self.bytes[self.offset..start]
                .iter()
                .filter(|&&b| b == b'\n')
                .count();
            self.offset = start;
        }
        self.line
    }
}

fn delimiter(content: &str) -> u8 {
    let first = content.lines().next().unwrap_or("");
    let count = |c: char| first.matches(c).count();
    let (commas, semicolons, tabs) = (count(','), count(';'), count('\t'));
    if tabs > commas && tabs > semicolons {
        b'\t'
    } else if semicolons > commas {
        b';'
    } else {
        b','
    }
}

// ---------------------------------------------------------------------------------------------
// Knowledge base

struct Section {
    line: usize,
    level: usize,
    title: String,
    body: Vec<String>,
}

fn markdown_kb(content: &str, errors: &mut Errors) -> Vec<KbRow> {
    if content.trim().is_empty() {
        errors.add(1, "the file has no entries");
        return Vec::new();
    }
    let mut sections: Vec<Section> = Vec::new();
    let mut fence: Option<(u8, usize)> = None;
    for (i, line) in content.lines().enumerate() {
        let heading = match fence {
            Some(open) => {
                if closes_fence(line, open) {
                    fence = None;
                }
                None
            }
            None => {
                fence = opens_fence(line);
                if fence.is_some() {
                    None
                } else {
                    atx_heading(line).filter(|(level, _)| *level <= 2)
                }
            }
        };
        match heading {
            Some((level, title)) => sections.push(Section {
                line: i + 1,
                level,
                title,
                body: Vec::new(),
            }),
            // Text before the first heading is a preamble and is dropped.
            None => {
                if let Some(section) = sections.last_mut() {
                    section.body.push(line.to_string());
                }
            }
        }
    }
    if sections.is_empty() {
        errors.add(
            1,
            "the file has no headings: start each entry with a line like \"## Question\"",
        );
        return Vec::new();
    }
    let mut rows = Vec::with_capacity(sections.len());
    for (i, section) in sections.iter().enumerate() {
        let body = section.body.join("\n").trim().to_string();
        if section.title.is_empty() {
            errors.add(section.line, "a heading has no text");
            continue;
        }
        if body.is_empty() {
            let titles_next =
                section.level == 1 && sections.get(i + 1).is_some_and(|n| n.level == 2);
            if !titles_next {
                errors.add(
                    section.line,
                    format!("heading {} has no text under it", quote(&section.title)),
                );
            }
            continue;
        }
        rows.push(KbRow {
            line: section.line,
            title: section.title.clone(),
            body,
        });
    }
    rows
}

/// `(level, title)` for an ATX heading ("## Title ##"), per CommonMark: up to 3 spaces of
/// indentation, 1–6 '#', then a space or the end of the line.
fn atx_heading(line: &str) -> Option<(usize, String)> {
    let rest = strip_indent(line)?;
    let level = rest.bytes().take_while(|&b| b == b'#').count();
    if level == 0 || level > 6 {
        return None;
    }
    let text = &rest[level..];
    if !(text.is_empty() || text.starts_with([' ', '\t'])) {
        return None;
    }
    let text = text.trim();
    // An optional closing run of '#' counts only after a space ("# C#" keeps its '#').
    let without_closing = text.trim_end_matches('#');
    let title = if without_closing.is_empty() || without_closing.ends_with([' ', '\t']) {
        without_closing.trim()
    } else {
        text
    };
    Some((level, title.to_string()))
}

/// A fence opener: ``` or ~~~ (3 or more), up to 3 spaces indented. Returns its char and length.
fn opens_fence(line: &str) -> Option<(u8, usize)> {
    let rest = strip_indent(line)?;
    let c = *rest.as_bytes().first()?;
    if c != b'`' && c != b'~' {
        return None;
    }
    let len = rest.bytes().take_while(|&b| b == c).count();
    // A backtick fence's info string may not contain backticks (that is inline code).
    let info_ok = c == b'~' || !rest[len..].contains('`');
    (len >= 3 && info_ok).then_some((c, len))
}

fn closes_fence(line: &str, (c, len): (u8, usize)) -> bool {
    let Some(rest) = strip_indent(line) else {
        return false;
    };
    let run = rest.bytes().take_while(|&b| b == c).count();
    run >= len && rest[run..].trim().is_empty()
}

/// The line without up to 3 leading spaces; `None` when indented 4 or more (a code block).
fn strip_indent(line: &str) -> Option<&str> {
    let spaces = line.bytes().take_while(|&b| b == b' ').count();
    (spaces <= 3 && !line[spaces..].starts_with('\t')).then(|| &line[spaces..])
}

fn csv_kb(content: &str, errors: &mut Errors) -> Vec<KbRow> {
    let Some(table) = read_csv(content, errors) else {
        errors.add(1, "the file has no entries");
        return Vec::new();
    };
    let column = |name: &str| {
        table
            .header
            .iter()
            .position(|h| h.trim().eq_ignore_ascii_case(name))
    };
    let (Some(question), Some(answer)) = (column("question"), column("answer")) else {
        errors.add(
            table.header_line,
            format!(
                "the header needs \"question\" and \"answer\" columns (found: {})",
                shorten(&table.header.join(", "), 80)
            ),
        );
        return Vec::new();
    };
    if table.rows.is_empty() && errors.is_empty() {
        errors.add(table.header_line, "the file has no entries");
    }
    let mut rows = Vec::with_capacity(table.rows.len());
    for (line, cells) in &table.rows {
        let cell = |i: usize| cells.get(i).map_or("", |c| c.trim()).to_string();
        let (title, body) = (cell(question), cell(answer));
        if title.is_empty() {
            errors.add(*line, "missing question");
        }
        if body.is_empty() {
            errors.add(*line, "missing answer");
        }
        if !title.is_empty() && !body.is_empty() {
            rows.push(KbRow {
                line: *line,
                title,
                body,
            });
        }
    }
    rows
}

// ---------------------------------------------------------------------------------------------
// Small helpers

fn strip_bom(content: &str) -> &str {
    content.strip_prefix('\u{feff}').unwrap_or(content)
}

fn first_char(content: &str) -> Option<char> {
    strip_bom(content).trim_start().chars().next()
}

fn extension(path: &Path) -> Option<String> {
    path.extension()
        .and_then(|e| e.to_str())
        .map(str::to_ascii_lowercase)
}

fn non_empty(s: &str) -> Option<String> {
    let t = s.trim();
    (!t.is_empty()).then(|| t.to_string())
}

/// The value in double quotes for a message, shortened when long.
fn quote(value: &str) -> String {
    format!("{:?}", shorten(value, 60))
}

fn shorten(value: &str, limit: usize) -> String {
    if value.chars().count() > limit {
        let head: String = value.chars().take(limit).collect();
        format!("{head}…")
    } else {
        value.to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn catalog(content: &str, format: CatalogFormat) -> Vec<ProductRow> {
        match parse_catalog(content, format, "USD") {
            Ok(rows) => rows,
            Err(errors) => panic!("unexpected errors: {errors:#?}"),
        }
    }

    fn catalog_errors(content: &str, format: CatalogFormat) -> Vec<String> {
        match parse_catalog(content, format, "USD") {
            Ok(rows) => panic!("expected errors, got {} rows", rows.len()),
            Err(errors) => errors.iter().map(ToString::to_string).collect(),
        }
    }

    fn kb(content: &str, format: KbFormat) -> Vec<KbRow> {
        match parse_kb(content, format) {
            Ok(rows) => rows,
            Err(errors) => panic!("unexpected errors: {errors:#?}"),
        }
    }

    fn kb_errors(content: &str, format: KbFormat) -> Vec<String> {
        match parse_kb(content, format) {
            Ok(rows) => panic!("expected errors, got {rows:#?}"),
            Err(errors) => errors.iter().map(ToString::to_string).collect(),
        }
    }

    #[test]
    fn row_error_reads_as_a_sentence_with_its_line() {
        let e = RowError {
            line: 7,
            message: "missing sku".into(),
        };
        assert_eq!(e.to_string(), "line 7: missing sku");
    }

    // ----- demo files --------------------------------------------------------------------------

    #[test]
    fn parses_the_shipped_demo_catalogs() {
        let en = include_str!("../assets/demo/catalog.en.jsonl");
        let ru = include_str!("../assets/demo/catalog.ru.jsonl");
        let en_rows = catalog(en, CatalogFormat::Jsonl);
        let ru_rows = parse_catalog(ru, CatalogFormat::Jsonl, "RUB").unwrap();
        assert_eq!(en_rows.len(), 224);
        assert_eq!(ru_rows.len(), 89);

        let tent = &en_rows[0];
        assert_eq!(tent.line, 1);
        assert_eq!(tent.sku, "TB-TENT-001");
        assert_eq!(tent.title, "Ridgeline 1 Tent");
        assert_eq!(tent.price, Some(17900));
        assert_eq!(tent.compare_at, None);
        assert_eq!(tent.currency, "USD");
        assert_eq!(
            tent.url.as_deref(),
            Some("https://shop.example/p/ridgeline-1-tent")
        );
        assert_eq!(tent.image.as_deref(), Some("/demo/img/tents.svg"));
        assert_eq!(tent.category.as_deref(), Some("Tents"));
        assert_eq!(tent.brand.as_deref(), Some("Cairnfield"));
        assert_eq!(tent.rating, Some(4.4));
        assert_eq!(tent.attributes["capacity_persons"], json!(1));
        assert_eq!(tent.attributes["floor_area_m2"], json!(1.9));
        assert_eq!(tent.attributes["color"], json!("sage green"));
        assert!(!tent.attributes.contains_key("sku"));

        let stove = en_rows.iter().find(|r| r.sku == "TB-STOV-001").unwrap();
        assert_eq!(stove.line, 58);
        assert_eq!(stove.price, Some(3490), "JSON 34.9 is 34.90 exactly");

        assert_eq!(ru_rows[0].currency, "RUB");
        assert_eq!(ru_rows[0].price, Some(599_000));
        assert_eq!(ru_rows[0].title, "Палатка Лесная 2");
        assert_eq!(ru_rows[0].attributes["season"], json!("трёхсезонная"));
    }

    #[test]
    fn parses_the_shipped_demo_faqs() {
        let en = kb(include_str!("../assets/demo/faq.en.md"), KbFormat::Markdown);
        let ru = kb(include_str!("../assets/demo/faq.ru.md"), KbFormat::Markdown);
        assert_eq!(en.len(), 18);
        assert_eq!(ru.len(), 18);
        assert_eq!(en[0].line, 3);
        assert_eq!(
            en[0].title,
            "How much does shipping cost and how long does it take?"
        );
        assert!(en[0].body.starts_with("Standard shipping within"));
        assert!(!en[0].body.contains('#'));
        assert_eq!(ru[17].line, 71);
        assert_eq!(
            ru[17].title,
            "Можно ли отложить товар или оформить предзаказ?"
        );
    }

    // ----- CSV ---------------------------------------------------------------------------------

    #[test]
    fn csv_happy_path_with_quotes_newlines_and_a_bom() {
        let content = "\u{feff}sku,title,description,price,currency,url,image,category,brand,rating\n\
            A-1,\"Tent, 2 person\",\"Line one\nline two, with \"\"quotes\"\"\",49.9,,https://shop.example/a,/img/a.svg,Tents,Acme,4.5\n\
            \n\
            A-2,Stove,,12990,rub,,https://cdn.example/s.png,,,\n";
        let rows = catalog(content, CatalogFormat::Csv);
        assert_eq!(rows.len(), 2);
        let a = &rows[0];
        assert_eq!(a.line, 2);
        assert_eq!(a.sku, "A-1");
        assert_eq!(a.title, "Tent, 2 person");
        assert_eq!(a.description, "Line one\nline two, with \"quotes\"");
        assert_eq!(a.price, Some(4990));
        assert_eq!(a.currency, "USD", "the default currency");
        assert_eq!(a.url.as_deref(), Some("https://shop.example/a"));
        assert_eq!(a.image.as_deref(), Some("/img/a.svg"));
        assert_eq!(a.category.as_deref(), Some("Tents"));
        assert_eq!(a.brand.as_deref(), Some("Acme"));
        assert_eq!(a.rating, Some(4.5));
        assert!(a.attributes.is_empty());

        let b = &rows[1];
        assert_eq!(
            b.line, 5,
            "starts after the quoted newline and the blank line"
        );
        assert_eq!(b.description, "", "empty cells are absent");
        assert_eq!(b.currency, "RUB", "lowercase codes are uppercased");
        assert_eq!(b.price, Some(1_299_000));
        assert_eq!(b.url, None);
        assert_eq!(b.rating, None);
        assert_eq!(b.category, None);
    }

    #[test]
    fn csv_headers_are_trimmed_and_case_insensitive_and_extra_columns_become_attributes() {
        let content = " SKU , Title ,Price,Compare_At, Weight (g) ,Color,empty\n\
            x1 , Boots ,129.00,159, 850 , red ,\n";
        let rows = catalog(content, CatalogFormat::Csv);
        let r = &rows[0];
        assert_eq!(r.sku, "x1");
        assert_eq!(r.title, "Boots");
        assert_eq!(r.price, Some(12900));
        assert_eq!(r.compare_at, Some(15900));
        let mut expected = Map::new();
        expected.insert("Weight (g)".into(), json!("850"));
        expected.insert("Color".into(), json!("red"));
        assert_eq!(
            r.attributes, expected,
            "CSV attributes are strings; empty cells are left out"
        );
    }

    #[test]
    fn csv_with_semicolons_or_tabs_is_read_too() {
        let semi = "sku;title;price\nA;Tent, big;10\n";
        let rows = catalog(semi, CatalogFormat::Csv);
        assert_eq!(rows[0].title, "Tent, big");
        assert_eq!(rows[0].price, Some(1000));
        let tsv = "sku\ttitle\tprice\nA\tTent; big, red\t10\n";
        assert_eq!(catalog(tsv, CatalogFormat::Csv)[0].title, "Tent; big, red");
    }

    #[test]
    fn csv_row_with_the_wrong_number_of_fields_is_an_error_with_its_line() {
        let content = "sku,title,price\nA,Tent,10\nB,Tent, 2 person,20\nC,Stove\nD,Mug,5,,\n";
        assert_eq!(
            catalog_errors(content, CatalogFormat::Csv),
            vec![
                "line 3: expected 3 fields as in the header, found 4 (a value with a comma must be in double quotes)",
                "line 4: expected 3 fields as in the header, found 2 (a value with a comma must be in double quotes)",
            ]
        );
        // Trailing empty fields (a spreadsheet's stray commas) are harmless.
        assert_eq!(
            catalog("sku,title\nA,Tent,,\n", CatalogFormat::Csv).len(),
            1
        );
    }

    #[test]
    fn csv_line_numbers_follow_multi_line_quoted_fields() {
        let content = "sku,title,description\nA,One,\"a\nb\nc\"\nB,,x\n\"C\nC\",Three,\nD,,\n";
        assert_eq!(
            catalog_errors(content, CatalogFormat::Csv),
            vec![
                "line 5: missing title",
                "line 6: sku \"C\\nC\" contains a line break or control character",
                "line 8: missing title",
            ]
        );
    }

    #[test]
    fn csv_line_numbers_count_blank_lines_and_crlf_endings() {
        let content = "\r\nsku,title\r\n\r\nA,One\r\nB,\"two\r\nlines\"\r\n\r\n\r\nC,\r\n D , \r\n";
        assert_eq!(
            catalog_errors(content, CatalogFormat::Csv),
            vec!["line 9: missing title", "line 10: missing title"]
        );
        let rows = catalog(
            "sku,title\r\n\r\nA,One\r\nB,\"two\r\nlines\"\r\nC,Three",
            CatalogFormat::Csv,
        );
        let lines: Vec<usize> = rows.iter().map(|r| r.line).collect();
        assert_eq!(lines, vec![3, 4, 6]);
        assert_eq!(rows[1].title, "two\r\nlines");
    }

    #[test]
    fn csv_header_problems_are_reported_once_on_its_line() {
        assert_eq!(
            catalog_errors("TB-1,Tent,179\nTB-2,Stove,35\n", CatalogFormat::Csv),
            vec![
                "line 1: the header has no \"sku\" or \"title\" column; the first line must name the columns, e.g. sku,title,price (found: TB-1, Tent, 179)"
            ]
        );
        assert_eq!(
            catalog_errors("\n\nsku,name\nA,B\n", CatalogFormat::Csv),
            vec![
                "line 3: the header has no \"title\" column; the first line must name the columns, e.g. sku,title,price (found: sku, name)"
            ]
        );
        assert_eq!(
            catalog_errors(
                "sku,title,Price,price,color,color\nA,B,1,2,x,y\n",
                CatalogFormat::Csv
            ),
            vec![
                "line 1: column \"price\" appears twice in the header",
                "line 1: column \"color\" appears twice in the header",
            ]
        );
    }

    #[test]
    fn csv_value_under_an_unnamed_column_is_an_error() {
        assert_eq!(
            catalog_errors("sku,title,\nA,Tent,\nB,Stove,oops\n", CatalogFormat::Csv),
            vec!["line 3: column 3 has the value \"oops\" but no name in the header"]
        );
    }

    #[test]
    fn empty_catalogs_are_an_error() {
        let no_products = vec!["line 1: the file has no products".to_string()];
        for (content, format) in [
            ("", CatalogFormat::Csv),
            ("\u{feff}", CatalogFormat::Csv),
            ("sku,title,price\n", CatalogFormat::Csv),
            ("sku,title\n,\n , \n", CatalogFormat::Csv),
            ("[]", CatalogFormat::Json),
            (" [ ] ", CatalogFormat::Json),
            ("", CatalogFormat::Jsonl),
            ("\n\n  \n", CatalogFormat::Jsonl),
        ] {
            assert_eq!(catalog_errors(content, format), no_products, "{content:?}");
        }
    }

    // ----- validation --------------------------------------------------------------------------

    #[test]
    fn each_invalid_field_is_named_with_its_value_and_line() {
        let content = [
            r#"{"sku": "ok", "title": "Fine"}"#,
            r#"{"sku": "u", "title": "T", "url": "shop.example/x"}"#,
            r#"{"sku": "f", "title": "T", "url": "ftp://shop.example/x"}"#,
            r#"{"title": "No sku"}"#,
            r#"{"sku": "r", "title": "T", "rating": 7}"#,
            r#"{"sku": "r2", "title": "T", "rating": "-0.5"}"#,
            r#"{"sku": "r3", "title": "T", "rating": "4,5"}"#,
            r#"{"sku": "r4", "title": "T", "rating": "NaN"}"#,
            r#"{"sku": "n", "title": "   "}"#,
            r#"{"sku": "p", "title": "T", "price": "12,99"}"#,
            r#"{"sku": "p2", "title": "T", "price": -5}"#,
            r#"{"sku": "p3", "title": "T", "price": 1.234}"#,
            r#"{"sku": "p4", "title": "T", "price": true}"#,
            r#"{"sku": "c", "title": "T", "compare_at": "abc"}"#,
            r#"{"sku": "cur", "title": "T", "currency": "US$"}"#,
            r#"{"sku": "cur2", "title": "T", "currency": "руб"}"#,
            r#"{"sku": "i", "title": "T", "image": "img/x.png"}"#,
            r#"{"sku": "i2", "title": "T", "image": "//evil.example/x.png"}"#,
            r#"{"sku": "i3", "title": "T", "image": "javascript:alert(1)"}"#,
            r#"{"sku": "k", "title": ["a"]}"#,
            r#"{"sku": "a", "title": "T", "specs": {"weight": 1}}"#,
            r#"{"sku": "a2", "title": "T", "sizes": [[1], 2]}"#,
        ]
        .join("\n");
        assert_eq!(
            catalog_errors(&content, CatalogFormat::Jsonl),
            vec![
                r#"line 2: invalid url "shop.example/x": use an absolute http(s) URL"#,
                r#"line 3: invalid url "ftp://shop.example/x": use an absolute http(s) URL"#,
                "line 4: missing sku",
                "line 5: rating 7 is out of range 0-5",
                "line 6: rating -0.5 is out of range 0-5",
                r#"line 7: invalid rating "4,5": use a number from 0 to 5 (e.g. 4.5)"#,
                r#"line 8: invalid rating "NaN": use a number from 0 to 5 (e.g. 4.5)"#,
                "line 9: missing title",
                r#"line 10: invalid price "12,99": use digits and '.' (e.g. 49.90)"#,
                r#"line 11: invalid price "-5": a price cannot be negative"#,
                r#"line 12: invalid price "1.234": USD allows at most 2 digits after the '.'"#,
                r#"line 13: invalid price "true": use a number like 49.90"#,
                r#"line 14: invalid compare_at "abc": use digits and '.' (e.g. 49.90)"#,
                r#"line 15: invalid currency "US$": use a 3-letter ISO 4217 code (e.g. USD)"#,
                r#"line 16: invalid currency "руб": use a 3-letter ISO 4217 code (e.g. USD)"#,
                r#"line 17: invalid image "img/x.png": use an absolute http(s) URL or a path starting with "/""#,
                r#"line 18: invalid image "//evil.example/x.png": use an absolute http(s) URL or a path starting with "/""#,
                r#"line 19: invalid image "javascript:alert(1)": use an absolute http(s) URL or a path starting with "/""#,
                "line 20: title must be text, not a list",
                r#"line 21: attribute "specs" is an object: nested objects are not supported, use flat keys or text"#,
                r#"line 22: attribute "sizes" holds a nested list or object: use a list of plain values"#,
            ]
        );
    }

    #[test]
    fn one_record_reports_all_of_its_problems() {
        let content = "sku,title,price,rating,url\n,,abc,9,nope\n";
        assert_eq!(
            catalog_errors(content, CatalogFormat::Csv),
            vec![
                "line 2: missing sku",
                "line 2: missing title",
                r#"line 2: invalid price "abc": use digits and '.' (e.g. 49.90)"#,
                r#"line 2: invalid url "nope": use an absolute http(s) URL"#,
                "line 2: rating 9 is out of range 0-5",
            ]
        );
    }

    #[test]
    fn length_limits_name_the_field_and_a_shortened_value() {
        let long_sku = "S".repeat(101);
        let long_title = "T".repeat(301);
        let long_description = "d".repeat(10_001);
        let content = format!(
            "sku,title,description\n{},ok,\nB,{long_title},\nC,ok,{long_description}\n{},ok,{}\n",
            long_sku,
            "S".repeat(100),
            "d".repeat(10_000)
        );
        let errors = catalog_errors(&content, CatalogFormat::Csv);
        let s60 = "S".repeat(60);
        let t60 = "T".repeat(60);
        let d60 = "d".repeat(60);
        assert_eq!(
            errors,
            vec![
                format!("line 2: sku \"{s60}…\" is too long: 101 characters (at most 100)"),
                format!("line 3: title \"{t60}…\" is too long: 301 characters (at most 300)"),
                format!(
                    "line 4: description \"{d60}…\" is too long: 10001 characters (at most 10000)"
                ),
            ]
        );
        // Limits count characters, not bytes.
        let cyrillic = format!("sku,title\nA,{}\n", "Ж".repeat(300));
        assert_eq!(
            catalog(&cyrillic, CatalogFormat::Csv)[0]
                .title
                .chars()
                .count(),
            300
        );
    }

    #[test]
    fn duplicate_skus_are_reported_on_the_later_line() {
        let content = "sku,title\nA,One\nB,Two\nA,Three\nB,Four\nA,Five\n";
        assert_eq!(
            catalog_errors(content, CatalogFormat::Csv),
            vec![
                r#"line 4: duplicate sku "A" (first on line 2)"#,
                r#"line 5: duplicate sku "B" (first on line 3)"#,
                r#"line 6: duplicate sku "A" (first on line 2)"#,
            ]
        );
        // Skus are compared after trimming; case matters.
        let content = "sku,title\nA,One\n A ,Two\na,Three\n";
        assert_eq!(
            catalog_errors(content, CatalogFormat::Csv),
            vec![r#"line 3: duplicate sku "A" (first on line 2)"#]
        );
    }

    #[test]
    fn many_errors_are_all_reported_up_to_the_cap() {
        let mut content = String::from("sku,title,price\n");
        for i in 0..500 {
            content.push_str(&format!("S{i},,1\n"));
        }
        let errors = parse_catalog(&content, CatalogFormat::Csv, "USD").unwrap_err();
        assert_eq!(errors.len(), MAX_ERRORS);
        assert_eq!(errors[0].to_string(), "line 2: missing title");
        assert_eq!(errors[99].to_string(), "line 101: missing title");

        let mut jsonl = String::new();
        for _ in 0..500 {
            jsonl.push_str("{oops\n");
        }
        let errors = parse_catalog(&jsonl, CatalogFormat::Jsonl, "USD").unwrap_err();
        assert_eq!(errors.len(), MAX_ERRORS);
    }

    #[test]
    fn valid_and_invalid_rows_mixed_give_only_errors() {
        let content = "sku,title,price\nA,One,1\nB,,2\nC,Three,3\nD,Four,x\n";
        let errors = parse_catalog(content, CatalogFormat::Csv, "USD").unwrap_err();
        let lines: Vec<usize> = errors.iter().map(|e| e.line).collect();
        assert_eq!(lines, vec![3, 5], "nothing is half-imported");
    }

    #[test]
    fn currencies_decide_how_prices_are_read() {
        let content = [
            r#"{"sku": "a", "title": "T", "price": "12990", "currency": "jpy"}"#,
            r#"{"sku": "b", "title": "T", "price": "1.234", "currency": "KWD"}"#,
            r#"{"sku": "c", "title": "T", "price": 5, "currency": "XYZ"}"#,
            r#"{"sku": "d", "title": "T", "price": 5}"#,
        ]
        .join("\n");
        let rows = parse_catalog(&content, CatalogFormat::Jsonl, "rub").unwrap();
        let got: Vec<(&str, Option<i64>)> = rows
            .iter()
            .map(|r| (r.currency.as_str(), r.price))
            .collect();
        assert_eq!(
            got,
            vec![
                ("JPY", Some(12990)),
                ("KWD", Some(1234)),
                ("XYZ", Some(500)),
                ("RUB", Some(500))
            ]
        );
        let errors = catalog_errors(
            r#"{"sku": "a", "title": "T", "price": 12990.5, "currency": "JPY"}"#,
            CatalogFormat::Jsonl,
        );
        assert_eq!(
            errors,
            vec![r#"line 1: invalid price "12990.5": JPY has no minor units; use a whole number"#]
        );
    }

    #[test]
    fn json_values_of_every_shape_are_read() {
        let content = r#"[{"sku": 12345, "title": "Book", "price": 1e2, "compare_at": "120.5",
            "rating": "4.25", "in_stock": true, "pages": 320, "weight": 0.45,
            "sizes": ["S", "M", 42, true, null, "  "], "empty": [], "none": null, "blank": "  ",
            "note": "  kept  ", "url": "https://shop.example/a b", "Brand": "Acme"}]"#;
        let rows = catalog(content, CatalogFormat::Json);
        let r = &rows[0];
        assert_eq!(r.sku, "12345", "a numeric sku is read as its digits");
        assert_eq!(r.price, Some(10000));
        assert_eq!(r.compare_at, Some(12050));
        assert_eq!(r.rating, Some(4.25));
        assert_eq!(
            r.brand.as_deref(),
            Some("Acme"),
            "known keys are case-insensitive"
        );
        assert_eq!(r.url.as_deref(), Some("https://shop.example/a%20b"));
        let mut expected = Map::new();
        expected.insert("in_stock".into(), json!(true));
        expected.insert("pages".into(), json!(320));
        expected.insert("weight".into(), json!(0.45));
        expected.insert("sizes".into(), json!("S, M, 42, true"));
        expected.insert("note".into(), json!("kept"));
        assert_eq!(r.attributes, expected);
    }

    #[test]
    fn a_known_field_given_twice_is_an_error() {
        assert_eq!(
            catalog_errors(
                r#"{"sku": "a", "SKU": "b", "title": "T"}"#,
                CatalogFormat::Jsonl
            ),
            vec!["line 1: sku is given twice"]
        );
    }

    // ----- JSON --------------------------------------------------------------------------------

    #[test]
    fn json_array_lines_are_where_each_object_starts() {
        let content = r#"
[
  {"sku": "A", "title": "One { not a brace"},
  {
    "sku": "B",
    "title": "Two \" } ] [ {",
    "description": "multi\nline, with \\\" and \\"
  }, {"sku": "C",
      "title": "Three"},

  {
    "sku": "D", "title": ""
  },
  {"sku": "E", "title": "Five", "nested": {"a": [1, {"b": "}"}]}}
]
"#;
        let errors = catalog_errors(content, CatalogFormat::Json);
        assert_eq!(
            errors,
            vec![
                "line 11: missing title",
                r#"line 14: attribute "nested" is an object: nested objects are not supported, use flat keys or text"#,
            ]
        );
        let ok = content
            .replace(r#""title": """#, r#""title": "Four""#)
            .replace(r#", "nested": {"a": [1, {"b": "}"}]}"#, "");
        let rows = catalog(&ok, CatalogFormat::Json);
        let got: Vec<(&str, usize)> = rows.iter().map(|r| (r.sku.as_str(), r.line)).collect();
        assert_eq!(
            got,
            vec![("A", 3), ("B", 4), ("C", 8), ("D", 11), ("E", 14)]
        );
        assert_eq!(rows[1].title, "Two \" } ] [ {");
        assert_eq!(rows[1].description, "multi\nline, with \\\" and \\");
    }

    #[test]
    fn json_array_elements_must_be_objects() {
        let content = "[\n{\"sku\": \"A\", \"title\": \"T\"},\n42,\n\"text\",\n[1, 2],\nnull\n]";
        assert_eq!(
            catalog_errors(content, CatalogFormat::Json),
            vec![
                "line 3: expected a product object, found a number",
                "line 4: expected a product object, found text",
                "line 5: expected a product object, found a list",
                "line 6: expected a product object, found null",
            ]
        );
    }

    #[test]
    fn invalid_json_is_reported_where_parsing_failed() {
        let content =
            "[\n  {\"sku\": \"A\", \"title\": \"T\"},\n  {\"sku\": \"B\" \"title\": \"T\"}\n]";
        assert_eq!(
            catalog_errors(content, CatalogFormat::Json),
            vec!["line 3: invalid JSON at column 15: expected `,` or `}`"]
        );
        let truncated = "[\n  {\"sku\": \"A\",\n";
        let errors = catalog_errors(truncated, CatalogFormat::Json);
        assert_eq!(errors.len(), 1);
        assert!(errors[0].starts_with("line 3: invalid JSON"), "{errors:?}");
        assert_eq!(
            catalog_errors("\"just text\"", CatalogFormat::Json),
            vec![r#"line 1: expected a JSON array of products like [{"sku": …}], found text"#]
        );
    }

    #[test]
    fn jsonl_reads_one_object_per_line_and_reports_every_bad_line() {
        let content = "\u{feff}{\"sku\": \"A\", \"title\": \"One\"}\r\n\r\n{\"sku\": \"B\", \"title\": \"Two\"}\n";
        let rows = catalog(content, CatalogFormat::Jsonl);
        let lines: Vec<usize> = rows.iter().map(|r| r.line).collect();
        assert_eq!(lines, vec![1, 3]);

        let bad = "{\"sku\": \"A\", \"title\": \"One\"}\n{\"sku\": \"B\",\n\n[1]\n{\"sku\": \"A\", \"title\": \"Again\"}\n";
        assert_eq!(
            catalog_errors(bad, CatalogFormat::Jsonl),
            vec![
                "line 2: invalid JSON at column 12: EOF while parsing a value",
                "line 4: expected a product object, found a list",
                r#"line 5: duplicate sku "A" (first on line 1)"#,
            ]
        );
    }

    #[test]
    fn json_and_jsonl_files_named_the_other_way_still_parse() {
        let jsonl = "{\"sku\": \"A\", \"title\": \"One\"}\n{\"sku\": \"B\", \"title\": \"Two\"}\n";
        assert_eq!(catalog(jsonl, CatalogFormat::Json).len(), 2);
        let array = "[{\"sku\": \"A\", \"title\": \"One\"}]";
        assert_eq!(catalog(array, CatalogFormat::Jsonl).len(), 1);
    }

    #[test]
    fn detects_catalog_formats() {
        let detect = |path: &str, content: &str| CatalogFormat::detect(Path::new(path), content);
        assert_eq!(detect("x.csv", "[1]"), CatalogFormat::Csv);
        assert_eq!(detect("x.CSV", ""), CatalogFormat::Csv);
        assert_eq!(detect("x.tsv", ""), CatalogFormat::Csv);
        assert_eq!(detect("x.json", ""), CatalogFormat::Json);
        assert_eq!(detect("x.jsonl", ""), CatalogFormat::Jsonl);
        assert_eq!(detect("x.ndjson", ""), CatalogFormat::Jsonl);
        assert_eq!(detect("catalog", "\u{feff} \n[{}]"), CatalogFormat::Json);
        assert_eq!(detect("catalog.txt", "{\"sku\":1}"), CatalogFormat::Jsonl);
        assert_eq!(detect("-", "sku,title"), CatalogFormat::Csv);
        assert_eq!(detect("", ""), CatalogFormat::Csv);
    }

    // ----- knowledge base ----------------------------------------------------------------------

    #[test]
    fn markdown_headings_split_entries_and_deeper_headings_stay_in_the_body() {
        let content = "Preamble that is ignored.\n\
            \n\
            # Shipping #\n\
            We ship worldwide.\n\
            \n\
            ### Express\n\
            Next day.\n\
            \n\
            ## Returns\n\
            \n\
            Thirty days.\n\
            #hashtag is not a heading\n\
            \u{20}   # indented code, not a heading\n\
            ##\tTabbed title  \n\
            Body.\n\
            ## C#\n\
            A language.\n";
        let rows = kb(content, KbFormat::Markdown);
        let titles: Vec<(usize, &str)> = rows.iter().map(|r| (r.line, r.title.as_str())).collect();
        assert_eq!(
            titles,
            vec![
                (3, "Shipping"),
                (9, "Returns"),
                (14, "Tabbed title"),
                (16, "C#")
            ]
        );
        assert_eq!(rows[0].body, "We ship worldwide.\n\n### Express\nNext day.");
        assert_eq!(
            rows[1].body,
            "Thirty days.\n#hashtag is not a heading\n    # indented code, not a heading"
        );
    }

    #[test]
    fn markdown_lines_inside_code_fences_are_not_headings() {
        let content = "## Install\n\
            Run this:\n\
            ```bash\n\
            # update first\n\
            ## still a comment\n\
            ```\n\
            Done.\n\
            ## Config\n\
            ~~~~\n\
            # a comment\n\
            ~~~\n\
            # still inside: a shorter fence does not close it\n\
            ~~~~~\n\
            ## Last\n\
            ``` not closed until the end\n\
            # inside\n";
        let rows = kb(content, KbFormat::Markdown);
        let titles: Vec<(usize, &str)> = rows.iter().map(|r| (r.line, r.title.as_str())).collect();
        assert_eq!(titles, vec![(1, "Install"), (8, "Config"), (14, "Last")]);
        assert_eq!(
            rows[0].body,
            "Run this:\n```bash\n# update first\n## still a comment\n```\nDone."
        );
        assert!(rows[1].body.contains("# still inside"));
        assert_eq!(rows[2].body, "``` not closed until the end\n# inside");
    }

    #[test]
    fn a_title_heading_directly_above_an_entry_is_not_an_entry() {
        let content = "# FAQ\n\n## Shipping\nWorldwide.\n# Store\n## Hours\n10-19.\n";
        let rows = kb(content, KbFormat::Markdown);
        let titles: Vec<&str> = rows.iter().map(|r| r.title.as_str()).collect();
        assert_eq!(titles, vec!["Shipping", "Hours"]);
    }

    #[test]
    fn markdown_errors_name_the_heading_and_its_line() {
        let content = "# Only a title\n\n# Shipping\n\n## Returns\nThirty days.\n##\nOrphan text.\n## Empty\n   \n";
        assert_eq!(
            kb_errors(content, KbFormat::Markdown),
            vec![
                r#"line 1: heading "Only a title" has no text under it"#,
                "line 7: a heading has no text",
                r#"line 9: heading "Empty" has no text under it"#,
            ]
        );
        assert_eq!(
            kb_errors(
                "Just some text\nwith no headings.\n### Too deep\n",
                KbFormat::Markdown
            ),
            vec![
                "line 1: the file has no headings: start each entry with a line like \"## Question\""
            ]
        );
        assert_eq!(
            kb_errors(" \n\n", KbFormat::Markdown),
            vec!["line 1: the file has no entries"]
        );
    }

    #[test]
    fn csv_knowledge_base_reads_question_and_answer_columns() {
        let content = "\u{feff}ID, Question ,ANSWER,notes\n\
            1,Do you ship?,\"Yes, worldwide.\nUsually in 3 days.\",x\n\
            2,Returns?,Thirty days.,\n";
        let rows = kb(content, KbFormat::Csv);
        assert_eq!(
            rows,
            vec![
                KbRow {
                    line: 2,
                    title: "Do you ship?".into(),
                    body: "Yes, worldwide.\nUsually in 3 days.".into()
                },
                KbRow {
                    line: 4,
                    title: "Returns?".into(),
                    body: "Thirty days.".into()
                },
            ]
        );
    }

    #[test]
    fn csv_knowledge_base_errors_have_lines() {
        assert_eq!(
            kb_errors(
                "question,answer\nQ1,A1\n,A2\nQ3,\nQ4,A4,extra\n",
                KbFormat::Csv
            ),
            vec![
                "line 3: missing question",
                "line 4: missing answer",
                "line 5: expected 2 fields as in the header, found 3 (a value with a comma must be in double quotes)",
            ]
        );
        assert_eq!(
            kb_errors("title,body\nQ,A\n", KbFormat::Csv),
            vec![
                r#"line 1: the header needs "question" and "answer" columns (found: title, body)"#
            ]
        );
        assert_eq!(
            kb_errors("question,answer\n", KbFormat::Csv),
            vec!["line 1: the file has no entries"]
        );
        assert_eq!(
            kb_errors("", KbFormat::Csv),
            vec!["line 1: the file has no entries"]
        );
    }

    #[test]
    fn repeated_knowledge_base_titles_are_an_error_on_the_later_line() {
        let content = "## Hours\n10-19.\n## Shipping\nFree.\n## Hours\n9-18.\n";
        assert_eq!(
            kb_errors(content, KbFormat::Markdown),
            vec![r#"line 5: duplicate title "Hours" (first on line 1)"#]
        );
        assert_eq!(
            kb_errors(
                "question,answer\nHours?,10-19\n Hours? ,9-18\n",
                KbFormat::Csv
            ),
            vec![r#"line 3: duplicate title "Hours?" (first on line 2)"#]
        );
    }

    #[test]
    fn detects_knowledge_base_formats() {
        let detect = |path: &str, content: &str| KbFormat::detect(Path::new(path), content);
        assert_eq!(detect("faq.md", "question,answer"), KbFormat::Markdown);
        assert_eq!(detect("faq.MARKDOWN", ""), KbFormat::Markdown);
        assert_eq!(detect("faq.csv", "# Title"), KbFormat::Csv);
        assert_eq!(
            detect("faq", "\u{feff}\n\"Question\";\"Answer\"\n"),
            KbFormat::Csv
        );
        assert_eq!(
            detect("faq", "# Questions and answers\n"),
            KbFormat::Markdown
        );
        assert_eq!(detect("faq", ""), KbFormat::Markdown);
    }

    // ----- robustness --------------------------------------------------------------------------

    #[test]
    fn no_input_makes_the_parsers_panic() {
        let samples = [
            include_str!("../assets/demo/faq.ru.md").chars().take(600).collect::<String>(),
            "[\n{\"sku\": \"A\\\"\", \"title\": \"T{\", \"x\": [1, {\"y\": \"]\"}]},\n{\"sku\": 5}]".into(),
            "sku,title,price,rating,image\n\"A\n\",\"T\"\"x\",1.5,4,/a\nB,,,,\n".into(),
            "question,answer\n\"Q\",\"A\nB\"\n".into(),
            "## T\n```\n# x\n```\n~~~\n".into(),
            "\u{feff}{\"sku\": \"Ж\", \"title\": \"Ё\", \"price\": 1e400}\n".into(),
        ];
        for sample in &samples {
            let boundaries = sample.char_indices().map(|(i, _)| i).chain([sample.len()]);
            for end in boundaries {
                let prefix = &sample[..end];
                for format in [
                    CatalogFormat::Csv,
                    CatalogFormat::Json,
                    CatalogFormat::Jsonl,
                ] {
                    let _ = parse_catalog(prefix, format, "USD");
                }
                for format in [KbFormat::Markdown, KbFormat::Csv] {
                    let _ = parse_kb(prefix, format);
                }
            }
        }
        let deep = "[".repeat(10_000);
        assert!(parse_catalog(&deep, CatalogFormat::Json, "USD").is_err());
    }
}
