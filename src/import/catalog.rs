//! Catalog records into products: the known fields, their limits and their checks, each problem
//! named with its value.

use std::collections::HashMap;

use serde_json::Map;

use super::record::{Cell, Record, amount, attribute, rating, text};
use super::{Errors, Problem, clip};
use crate::store::catalog::{Field, ProductFields, ProductRow};

/// The field a file's key or column names: trimmed, and in any case.
pub(super) fn known_field(key: &str) -> Option<Field> {
    let key = key.trim();
    Field::ALL
        .into_iter()
        .find(|f| f.name().eq_ignore_ascii_case(key))
}

/// A record's problems, each with the field it is about (`None`: an attribute or the record).
pub(super) type Problems = Vec<(Option<Field>, Problem)>;

/// Validates one record; every problem goes to `errors` with the record's line.
pub(super) fn product(
    record: Record,
    default_currency: &str,
    first_lines: &mut HashMap<String, usize>,
    errors: &mut Errors,
) -> Option<ProductRow> {
    let line = record.line;
    match fields(record, default_currency, first_lines) {
        Ok(fields) => Some(ProductRow { line, fields }),
        Err(problems) => {
            for (_, problem) in problems {
                errors.add(line, problem);
            }
            None
        }
    }
}

/// One record's fields, or every problem with them; `first_lines` holds the skus seen so far.
pub(super) fn fields(
    record: Record,
    default_currency: &str,
    first_lines: &mut HashMap<String, usize>,
) -> Result<ProductFields, Problems> {
    let line = record.line;
    let mut problems = Problems::new();
    let mut known: Vec<(Field, Cell)> = Vec::new();
    let mut attributes = Map::new();
    for (key, cell) in record.fields {
        match known_field(&key) {
            Some(field) if known.iter().any(|(f, _)| *f == field) => {
                problems.push((Some(field), Problem::GivenTwice(field)));
            }
            Some(field) => known.push((field, cell)),
            None if key.is_empty() => problems.push((None, Problem::UnnamedKey)),
            None => match attribute(&key, cell) {
                Ok(Some(value)) => {
                    attributes.insert(key, value);
                }
                Ok(None) => {}
                Err(problem) => problems.push((None, problem)),
            },
        }
    }
    let mut take = |field: Field| {
        let i = known.iter().position(|(f, _)| *f == field)?;
        Some(known.swap_remove(i).1)
    };

    let sku = match text(take(Field::Sku), Field::Sku) {
        Ok(Some(sku)) if sku.chars().any(char::is_control) => {
            problems.push((Some(Field::Sku), Problem::ControlInSku(clip(&sku))));
            None
        }
        Ok(Some(sku)) => match too_long(&sku, Field::Sku) {
            Some(problem) => {
                problems.push((Some(Field::Sku), problem));
                None
            }
            None => Some(sku),
        },
        Ok(None) => {
            problems.push((Some(Field::Sku), Problem::Missing(Field::Sku)));
            None
        }
        Err(problem) => {
            problems.push((Some(Field::Sku), problem));
            None
        }
    };
    if let Some(sku) = &sku {
        match first_lines.get(sku) {
            Some(&first) => problems.push((
                Some(Field::Sku),
                Problem::DuplicateSku {
                    sku: clip(sku),
                    first,
                },
            )),
            None => {
                first_lines.insert(sku.clone(), line);
            }
        }
    }

    let title = match text(take(Field::Title), Field::Title) {
        Ok(Some(title)) => {
            if let Some(problem) = too_long(&title, Field::Title) {
                problems.push((Some(Field::Title), problem));
            }
            title
        }
        Ok(None) => {
            problems.push((Some(Field::Title), Problem::Missing(Field::Title)));
            String::new()
        }
        Err(problem) => {
            problems.push((Some(Field::Title), problem));
            String::new()
        }
    };
    let description = optional_text(take(Field::Description), Field::Description, &mut problems)
        .unwrap_or_default();
    if let Some(problem) = too_long(&description, Field::Description) {
        problems.push((Some(Field::Description), problem));
    }

    let currency = match optional_text(take(Field::Currency), Field::Currency, &mut problems) {
        Some(code) => {
            let upper = code.to_ascii_uppercase();
            if upper.len() == 3 && upper.bytes().all(|b| b.is_ascii_uppercase()) {
                upper
            } else {
                problems.push((Some(Field::Currency), Problem::Currency(clip(&code))));
                default_currency.to_string()
            }
        }
        None => default_currency.to_string(),
    };
    let price = amount(take(Field::Price), &currency, Field::Price).unwrap_or_else(|p| {
        problems.push((Some(Field::Price), p));
        None
    });
    let compare_at =
        amount(take(Field::CompareAt), &currency, Field::CompareAt).unwrap_or_else(|p| {
            problems.push((Some(Field::CompareAt), p));
            None
        });

    let url = optional_text(take(Field::Url), Field::Url, &mut problems).and_then(|url| {
        let web = web_url(&url);
        if web.is_none() {
            problems.push((Some(Field::Url), Problem::Url(clip(&url))));
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
            problems.push((Some(Field::Image), Problem::Image(clip(&image))));
        }
        valid
    });
    let category = optional_text(take(Field::Category), Field::Category, &mut problems);
    let brand = optional_text(take(Field::Brand), Field::Brand, &mut problems);
    let rating = rating(take(Field::Rating)).unwrap_or_else(|p| {
        problems.push((Some(Field::Rating), p));
        None
    });

    match sku {
        Some(sku) if problems.is_empty() => Ok(ProductFields {
            sku,
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
        }),
        _ => Err(problems),
    }
}

fn optional_text(cell: Option<Cell>, field: Field, problems: &mut Problems) -> Option<String> {
    text(cell, field).unwrap_or_else(|problem| {
        problems.push((Some(field), problem));
        None
    })
}

/// A problem when `value` is longer than `field` may be.
fn too_long(value: &str, field: Field) -> Option<Problem> {
    let limit = field.max_chars()?;
    let chars = value.chars().count();
    (chars > limit).then(|| Problem::TooLong {
        field,
        value: clip(value),
        chars,
        limit,
    })
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

#[cfg(test)]
mod tests {
    use crate::import::CatalogFormat;
    use crate::import::tests::{catalog, catalog_errors};

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
                .fields
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
    fn a_known_field_given_twice_is_an_error() {
        assert_eq!(
            catalog_errors(
                r#"{"sku": "a", "SKU": "b", "title": "T"}"#,
                CatalogFormat::Jsonl
            ),
            vec!["line 1: sku is given twice"]
        );
    }
}
