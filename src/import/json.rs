//! JSON: a top-level array or one object per line (JSONL), as catalog records with the line each
//! object starts on.

use serde_json::Value;

use super::record::{Cell, Record};
use super::{Errors, JsonKind, Problem};

/// Catalog records from a JSON array, each with the line its object starts on.
pub(super) fn array_records(content: &str, errors: &mut Errors) -> Vec<Record> {
    let value: Value = match serde_json::from_str(content) {
        Ok(value) => value,
        Err(e) => {
            errors.add(e.line().max(1), json_error(&e));
            return Vec::new();
        }
    };
    let Value::Array(items) = value else {
        errors.add(1, Problem::NotAnArray(JsonKind::of(&value)));
        return Vec::new();
    };
    let lines = element_lines(content);
    items
        .into_iter()
        .enumerate()
        .filter_map(|(i, item)| object_record(lines.get(i).copied().unwrap_or(1), item, errors))
        .collect()
}

/// Catalog records from JSONL: an object on each non-blank line.
pub(super) fn line_records(content: &str, errors: &mut Errors) -> Vec<Record> {
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
            errors.add(line, Problem::NotAnObject(JsonKind::of(&other)));
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
fn json_error(e: &serde_json::Error) -> Problem {
    let full = e.to_string();
    let detail = full
        .rsplit_once(" at line ")
        .map_or(full.as_str(), |(detail, _)| detail);
    Problem::Json {
        column: e.column(),
        detail: detail.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use crate::import::CatalogFormat;
    use crate::import::tests::{catalog, catalog_errors};

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
        let got: Vec<(&str, usize)> = rows
            .iter()
            .map(|r| (r.fields.sku.as_str(), r.line))
            .collect();
        assert_eq!(
            got,
            vec![("A", 3), ("B", 4), ("C", 8), ("D", 11), ("E", 14)]
        );
        assert_eq!(rows[1].fields.title, "Two \" } ] [ {");
        assert_eq!(rows[1].fields.description, "multi\nline, with \\\" and \\");
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
}
