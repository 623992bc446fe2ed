//! Catalog and knowledge-base files (SPEC §2): parsing and validating every record before anything is
//! written, so an import either has all its rows or a list of every problem with its line.
//!
//! Nothing here touches the database; the caller writes the rows in one transaction. `csv` and
//! `json` turn a file into records, `catalog` turns records into products, `kb` reads knowledge
//! entries, `problem` names what can be wrong; this file holds what they share and the entry points.

mod catalog;
mod csv;
mod json;
mod kb;
mod problem;
mod record;

use std::collections::HashMap;
use std::path::Path;

pub use crate::store::catalog::ProductRow;
pub use crate::store::kb::KbRow;
pub use problem::{JsonKind, Problem};

/// At most this many errors are reported for one file; parsing stops once it is reached.
pub const MAX_ERRORS: usize = 100;

/// A problem with one record, reported with its line: "line 7: missing sku".
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("line {line}: {problem}")]
pub struct RowError {
    pub line: usize,
    pub problem: Problem,
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
        CatalogFormat::Csv => csv::records(content, &mut errors),
        CatalogFormat::Json => json::array_records(content, &mut errors),
        CatalogFormat::Jsonl => json::line_records(content, &mut errors),
    };
    if records.is_empty() && errors.is_empty() {
        errors.add(1, Problem::NoProducts);
    }
    let default_currency = default_currency.trim().to_ascii_uppercase();
    let mut first_lines = HashMap::new();
    let mut rows = Vec::with_capacity(records.len());
    for record in records {
        if errors.is_full() {
            break;
        }
        if let Some(row) =
            catalog::product(record, &default_currency, &mut first_lines, &mut errors)
        {
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
        KbFormat::Markdown => kb::markdown_entries(content, &mut errors),
        KbFormat::Csv => kb::csv_entries(content, &mut errors),
    };
    // Entries are stored by title, so a repeated title would silently replace the earlier entry.
    let mut first_lines: HashMap<&str, usize> = HashMap::new();
    for row in &rows {
        match first_lines.get(row.title.as_str()) {
            Some(&first) => errors.add(
                row.line,
                Problem::DuplicateTitle {
                    title: clip(&row.title),
                    first,
                },
            ),
            None => {
                first_lines.insert(&row.title, row.line);
            }
        }
    }
    errors.into_result(rows)
}

/// A problem with one field of a product or entry edited on its own (the admin's form): the
/// field's name (`attributes` for a product's other keys) and the same problem a file gets.
#[derive(Debug, Clone, PartialEq)]
pub struct FieldError {
    pub field: &'static str,
    pub problem: Problem,
}

/// One product from a form, by the rules a file's records pass: `values` are field names (or
/// attribute keys) and their texts, as a CSV row gives them.
pub fn parse_product(
    values: Vec<(String, String)>,
    default_currency: &str,
) -> Result<crate::store::catalog::ProductFields, Vec<FieldError>> {
    let record = record::Record {
        line: 1,
        fields: values
            .into_iter()
            .map(|(k, v)| (k, record::Cell::Text(v)))
            .collect(),
    };
    let default_currency = default_currency.trim().to_ascii_uppercase();
    catalog::fields(record, &default_currency, &mut HashMap::new()).map_err(|problems| {
        problems
            .into_iter()
            .map(|(field, problem)| FieldError {
                field: field.map_or("attributes", |f| f.name()),
                problem,
            })
            .collect()
    })
}

/// One knowledge entry from a form, by the rules a CSV file's rows pass.
pub fn parse_kb_entry(title: &str, body: &str) -> Result<KbRow, Vec<FieldError>> {
    kb::entry(title, body).map_err(|problems| {
        problems
            .into_iter()
            .map(|(field, problem)| FieldError { field, problem })
            .collect()
    })
}

/// The problems found so far: at most [`MAX_ERRORS`], sorted by line at the end.
#[derive(Default)]
pub(super) struct Errors(Vec<RowError>);

impl Errors {
    pub(super) fn add(&mut self, line: usize, problem: Problem) {
        if !self.is_full() {
            self.0.push(RowError { line, problem });
        }
    }
    pub(super) fn is_full(&self) -> bool {
        self.0.len() >= MAX_ERRORS
    }
    pub(super) fn is_empty(&self) -> bool {
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

pub(super) fn strip_bom(content: &str) -> &str {
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

pub(super) fn non_empty(s: &str) -> Option<String> {
    let t = s.trim();
    (!t.is_empty()).then(|| t.to_string())
}

/// The value for a problem, shortened when long.
pub(super) fn clip(value: &str) -> String {
    shorten(value, 60)
}

pub(super) fn shorten(value: &str, limit: usize) -> String {
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

    pub(super) fn catalog(content: &str, format: CatalogFormat) -> Vec<ProductRow> {
        match parse_catalog(content, format, "USD") {
            Ok(rows) => rows,
            Err(errors) => panic!("unexpected errors: {errors:#?}"),
        }
    }

    pub(super) fn catalog_errors(content: &str, format: CatalogFormat) -> Vec<String> {
        match parse_catalog(content, format, "USD") {
            Ok(rows) => panic!("expected errors, got {} rows", rows.len()),
            Err(errors) => errors.iter().map(ToString::to_string).collect(),
        }
    }

    pub(super) fn kb(content: &str, format: KbFormat) -> Vec<KbRow> {
        match parse_kb(content, format) {
            Ok(rows) => rows,
            Err(errors) => panic!("unexpected errors: {errors:#?}"),
        }
    }

    pub(super) fn kb_errors(content: &str, format: KbFormat) -> Vec<String> {
        match parse_kb(content, format) {
            Ok(rows) => panic!("expected errors, got {rows:#?}"),
            Err(errors) => errors.iter().map(ToString::to_string).collect(),
        }
    }

    #[test]
    fn row_error_reads_as_a_sentence_with_its_line() {
        let e = RowError {
            line: 7,
            problem: Problem::Missing(crate::store::catalog::Field::Sku),
        };
        assert_eq!(e.to_string(), "line 7: missing sku");
    }

    #[test]
    fn parses_the_shipped_demo_catalogs() {
        let en = include_str!("../../assets/demo/catalog.en.jsonl");
        let ru = include_str!("../../assets/demo/catalog.ru.jsonl");
        let en_rows = catalog(en, CatalogFormat::Jsonl);
        let ru_rows = parse_catalog(ru, CatalogFormat::Jsonl, "RUB").unwrap();
        assert_eq!(en_rows.len(), 224);
        assert_eq!(ru_rows.len(), 89);

        assert_eq!(en_rows[0].line, 1);
        let tent = &en_rows[0].fields;
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

        let stove = en_rows
            .iter()
            .find(|r| r.fields.sku == "TB-STOV-001")
            .unwrap();
        assert_eq!(stove.line, 58);
        assert_eq!(stove.fields.price, Some(3490), "JSON 34.9 is 34.90 exactly");

        assert_eq!(ru_rows[0].fields.currency, "RUB");
        assert_eq!(ru_rows[0].fields.price, Some(599_000));
        assert_eq!(ru_rows[0].fields.title, "Палатка Лесная 2");
        assert_eq!(
            ru_rows[0].fields.attributes["season"],
            json!("трёхсезонная")
        );
    }

    #[test]
    fn parses_the_shipped_demo_faqs() {
        let en = kb(
            include_str!("../../assets/demo/faq.en.md"),
            KbFormat::Markdown,
        );
        let ru = kb(
            include_str!("../../assets/demo/faq.ru.md"),
            KbFormat::Markdown,
        );
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

    #[test]
    fn no_input_makes_the_parsers_panic() {
        let samples = [
            include_str!("../../assets/demo/faq.ru.md").chars().take(600).collect::<String>(),
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
