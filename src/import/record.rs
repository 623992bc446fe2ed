//! A record as a file gives it, before validation, and how each of its values reads as text, an
//! amount, a rating or an attribute.

use serde_json::{Number, Value};

use super::{JsonKind, Problem, clip, non_empty};
use crate::money;
use crate::store::catalog::Field;

/// A value as it came from the file: a CSV cell or a JSON value.
pub(super) enum Cell {
    Text(String),
    Json(Value),
}

/// One record before validation: its starting line and its fields in file order.
pub(super) struct Record {
    pub(super) line: usize,
    pub(super) fields: Vec<(String, Cell)>,
}

/// A text field: trimmed, empty is absent; JSON numbers are accepted as their digits.
pub(super) fn text(cell: Option<Cell>, field: Field) -> Result<Option<String>, Problem> {
    match cell {
        None | Some(Cell::Json(Value::Null)) => Ok(None),
        Some(Cell::Text(s) | Cell::Json(Value::String(s))) => Ok(non_empty(&s)),
        Some(Cell::Json(Value::Number(n))) => Ok(Some(n.to_string())),
        Some(Cell::Json(other)) => Err(Problem::NotText {
            field,
            kind: JsonKind::of(&other),
        }),
    }
}

/// A price-like field: digits in text, or a JSON number.
pub(super) fn amount(
    cell: Option<Cell>,
    currency: &str,
    field: Field,
) -> Result<Option<i64>, Problem> {
    let parse =
        |text: &str| money::parse_amount(text, currency, field.name()).map_err(Problem::Price);
    match cell {
        None | Some(Cell::Json(Value::Null)) => Ok(None),
        Some(Cell::Text(s) | Cell::Json(Value::String(s))) if s.trim().is_empty() => Ok(None),
        Some(Cell::Text(s) | Cell::Json(Value::String(s))) => parse(&s).map(Some),
        Some(Cell::Json(Value::Number(n))) => parse(&number_text(&n)).map(Some),
        Some(Cell::Json(other)) => Err(Problem::NotAPrice {
            field,
            value: clip(&other.to_string()),
        }),
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

/// A rating from 0 to 5: plain digits in text, or a JSON number.
pub(super) fn rating(cell: Option<Cell>) -> Result<Option<f64>, Problem> {
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
                _ => return Err(Problem::Rating(clip(t))),
            }
        }
        Some(Cell::Json(Value::Number(n))) => (n.to_string(), n.as_f64().unwrap_or(f64::NAN)),
        Some(Cell::Json(other)) => return Err(Problem::Rating(clip(&other.to_string()))),
    };
    if (0.0..=5.0).contains(&value) {
        Ok(Some(value))
    } else {
        Err(Problem::RatingRange(written))
    }
}

/// Any other column or key: scalars as given, lists of scalars joined with ", ".
pub(super) fn attribute(key: &str, cell: Cell) -> Result<Option<Value>, Problem> {
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
                        return Err(Problem::NestedList(clip(key)));
                    }
                }
            }
            Ok((!parts.is_empty()).then(|| Value::String(parts.join(", "))))
        }
        Value::Object(_) => Err(Problem::NestedObject(clip(key))),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::{Map, json};

    use crate::import::tests::{catalog, catalog_errors};
    use crate::import::{CatalogFormat, parse_catalog};

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
            .map(|r| (r.fields.currency.as_str(), r.fields.price))
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
        let r = &rows[0].fields;
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
}
