//! CSV: the table reader both importers use (delimiter, field counts, true line numbers), and
//! catalog records from its rows.

use super::catalog::known_field;
use super::record::{Cell, Record};
use super::{Errors, Problem, clip, shorten};
use crate::store::catalog::Field;

/// A CSV file's header and its records.
pub(super) struct Table {
    pub(super) header_line: usize,
    pub(super) header: Vec<String>,
    /// Non-blank records with their starting lines.
    pub(super) rows: Vec<(usize, Vec<String>)>,
}

/// Reads a header and its records; `None` when there is not even a header.
///
/// The delimiter is ',' unless the header line has more ';' (a Russian or German Excel export)
/// or tabs. Extra trailing empty fields are tolerated; any other field-count mismatch is an error.
pub(super) fn read_table(content: &str, errors: &mut Errors) -> Option<Table> {
    let mut reader = ::csv::ReaderBuilder::new()
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
                errors.add(line, Problem::UnreadableCsv(e.to_string()));
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
                Problem::FieldCount {
                    expected: names.len(),
                    found: cells.len(),
                },
            );
            continue;
        }
        rows.push((line, cells));
    }
    let (header_line, header) = header?;
    Some(Table {
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

/// Catalog records from a CSV file: the header must name `sku` and `title`, each column once.
pub(super) fn records(content: &str, errors: &mut Errors) -> Vec<Record> {
    let Some(table) = read_table(content, errors) else {
        return Vec::new();
    };
    let names: Vec<String> = table.header.iter().map(|n| n.trim().to_string()).collect();
    let mut header_ok = true;
    let mut seen: Vec<String> = Vec::new();
    for name in names.iter().filter(|n| !n.is_empty()) {
        let key = known_field(name).map_or_else(|| name.clone(), |f| f.name().to_string());
        if seen.contains(&key) {
            errors.add(table.header_line, Problem::ColumnTwice(clip(name)));
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
        errors.add(
            table.header_line,
            Problem::NoColumns {
                missing,
                found: shorten(&names.join(", "), 80),
            },
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
                        Problem::UnnamedColumn {
                            column: i + 1,
                            value: clip(cell),
                        },
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

#[cfg(test)]
mod tests {
    use serde_json::{Map, json};

    use crate::import::CatalogFormat;
    use crate::import::tests::{catalog, catalog_errors};

    #[test]
    fn csv_happy_path_with_quotes_newlines_and_a_bom() {
        let content = "\u{feff}sku,title,description,price,currency,url,image,category,brand,rating\n\
            A-1,\"Tent, 2 person\",\"Line one\nline two, with \"\"quotes\"\"\",49.9,,https://shop.example/a,/img/a.svg,Tents,Acme,4.5\n\
            \n\
            A-2,Stove,,12990,rub,,https://cdn.example/s.png,,,\n";
        let rows = catalog(content, CatalogFormat::Csv);
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].line, 2);
        let a = &rows[0].fields;
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

        assert_eq!(
            rows[1].line, 5,
            "starts after the quoted newline and the blank line"
        );
        let b = &rows[1].fields;
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
        let r = &rows[0].fields;
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
        assert_eq!(rows[0].fields.title, "Tent, big");
        assert_eq!(rows[0].fields.price, Some(1000));
        let tsv = "sku\ttitle\tprice\nA\tTent; big, red\t10\n";
        assert_eq!(
            catalog(tsv, CatalogFormat::Csv)[0].fields.title,
            "Tent; big, red"
        );
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
        assert_eq!(rows[1].fields.title, "two\r\nlines");
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
}
