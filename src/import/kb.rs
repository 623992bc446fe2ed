//! Knowledge entries from Markdown (a heading each) or CSV (`question` and `answer` columns).

use super::csv::read_table;
use super::{Errors, KbRow, Problem, clip, shorten};

struct Section {
    line: usize,
    level: usize,
    title: String,
    body: Vec<String>,
}

/// Entries from Markdown: each `#`/`##` heading outside code fences starts one.
pub(super) fn markdown_entries(content: &str, errors: &mut Errors) -> Vec<KbRow> {
    if content.trim().is_empty() {
        errors.add(1, Problem::NoEntries);
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
        errors.add(1, Problem::NoHeadings);
        return Vec::new();
    }
    let mut rows = Vec::with_capacity(sections.len());
    for (i, section) in sections.iter().enumerate() {
        let body = section.body.join("\n").trim().to_string();
        if section.title.is_empty() {
            errors.add(section.line, Problem::EmptyHeading);
            continue;
        }
        if body.is_empty() {
            let titles_next =
                section.level == 1 && sections.get(i + 1).is_some_and(|n| n.level == 2);
            if !titles_next {
                errors.add(section.line, Problem::NoText(clip(&section.title)));
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

/// Entries from a CSV file with `question` and `answer` columns.
pub(super) fn csv_entries(content: &str, errors: &mut Errors) -> Vec<KbRow> {
    let Some(table) = read_table(content, errors) else {
        errors.add(1, Problem::NoEntries);
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
            Problem::NoQuestionAnswer {
                found: shorten(&table.header.join(", "), 80),
            },
        );
        return Vec::new();
    };
    if table.rows.is_empty() && errors.is_empty() {
        errors.add(table.header_line, Problem::NoEntries);
    }
    let mut rows = Vec::with_capacity(table.rows.len());
    for (line, cells) in &table.rows {
        let cell = |i: usize| cells.get(i).map_or("", |c| c.as_str());
        match entry(cell(question), cell(answer)) {
            Ok(row) => rows.push(KbRow { line: *line, ..row }),
            Err(problems) => {
                for (_, problem) in problems {
                    errors.add(*line, problem);
                }
            }
        }
    }
    rows
}

/// A question and its answer, trimmed, or the problems with them by field (`title`, `body`).
pub(super) fn entry(title: &str, body: &str) -> Result<KbRow, Vec<(&'static str, Problem)>> {
    let (title, body) = (title.trim(), body.trim());
    let mut problems = Vec::new();
    if title.is_empty() {
        problems.push(("title", Problem::MissingQuestion));
    }
    if body.is_empty() {
        problems.push(("body", Problem::MissingAnswer));
    }
    if !problems.is_empty() {
        return Err(problems);
    }
    Ok(KbRow {
        line: 1,
        title: title.to_string(),
        body: body.to_string(),
    })
}

#[cfg(test)]
mod tests {
    use crate::import::tests::{kb, kb_errors};
    use crate::import::{KbFormat, KbRow};

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
}
