//! Charts as server-rendered SVG: this computes the shapes, `templates/admin/chart.html` draws
//! them with presentation attributes and classes only (the CSP allows no inline style).

use std::collections::BTreeMap;

use time::OffsetDateTime;

use crate::store::analytics::Figures;

pub const DAY_MS: i64 = 24 * 60 * 60 * 1000;

const WIDTH: i64 = 600;
const HEIGHT: i64 = 160;
/// Room at the bottom for the axis labels and on the left for the scale.
const BOTTOM: i64 = 20;
const LEFT: i64 = 40;

/// `ms` as a UTC day, `YYYY-MM-DD`.
pub fn day_of(ms: i64) -> String {
    OffsetDateTime::from_unix_timestamp(ms.div_euclid(1000))
        .unwrap_or(OffsetDateTime::UNIX_EPOCH)
        .date()
        .to_string()
}

/// The last `n` UTC days up to `now_ms`, oldest first.
pub fn last_days(now_ms: i64, n: i64) -> Vec<String> {
    (0..n).rev().map(|i| day_of(now_ms - i * DAY_MS)).collect()
}

pub struct Bar {
    pub x: i64,
    pub y: i64,
    pub w: i64,
    pub h: i64,
    /// What a pointer or a screen reader is told.
    pub label: String,
}

pub struct Line {
    /// A class in admin.css (its colour).
    pub class: &'static str,
    pub name: &'static str,
    /// `x,y x,y …`
    pub points: String,
}

pub struct Tick {
    pub x: i64,
    pub text: String,
}

pub struct Chart {
    pub id: &'static str,
    pub title: String,
    pub width: i64,
    pub height: i64,
    pub base: i64,
    pub left: i64,
    pub max_label: String,
    pub bars: Vec<Bar>,
    pub lines: Vec<Line>,
    pub ticks: Vec<Tick>,
}

impl Chart {
    fn new(id: &'static str, title: String, max: i64, unit: &str) -> Chart {
        Chart {
            id,
            title,
            width: WIDTH,
            height: HEIGHT,
            base: HEIGHT - BOTTOM,
            left: LEFT,
            max_label: format!("{max}{unit}"),
            bars: Vec::new(),
            lines: Vec::new(),
            ticks: Vec::new(),
        }
    }

    fn y(&self, value: i64, max: i64) -> i64 {
        let room = self.base - 8;
        self.base - value * room / max.max(1)
    }

    /// One bar per label, each with its value.
    pub fn bars(id: &'static str, title: String, values: &[(String, i64)]) -> Chart {
        let max = values.iter().map(|(_, v)| *v).max().unwrap_or(0).max(1);
        let mut chart = Chart::new(id, title, max, "");
        let slot = (WIDTH - LEFT) / values.len().max(1) as i64;
        let every = (values.len() / 6).max(1);
        for (i, (label, v)) in values.iter().enumerate() {
            let x = LEFT + i as i64 * slot;
            let y = chart.y(*v, max);
            chart.bars.push(Bar {
                x: x + 1,
                y,
                w: (slot - 2).max(1),
                h: chart.base - y,
                label: format!("{label}: {v}"),
            });
            if i % every == 0 {
                chart.ticks.push(Tick {
                    x,
                    text: short(label),
                });
            }
        }
        chart
    }

    /// Lines over the days, a point for each day that has a value.
    pub fn lines(
        id: &'static str,
        title: String,
        days: &[String],
        series: Vec<(&'static str, &'static str, Vec<Option<i64>>)>,
    ) -> Chart {
        let max = series
            .iter()
            .flat_map(|(_, _, v)| v.iter().flatten().copied())
            .max()
            .unwrap_or(0)
            .max(1);
        let mut chart = Chart::new(id, title, max, " ms");
        let slot = (WIDTH - LEFT) / days.len().max(1) as i64;
        let every = (days.len() / 6).max(1);
        for (i, d) in days.iter().enumerate() {
            if i % every == 0 {
                chart.ticks.push(Tick {
                    x: LEFT + i as i64 * slot,
                    text: short(d),
                });
            }
        }
        for (class, name, values) in series {
            let points = values
                .iter()
                .enumerate()
                .filter_map(|(i, v)| {
                    v.map(|v| {
                        let x = LEFT + i as i64 * slot + slot / 2;
                        format!("{x},{}", chart.y(v, max))
                    })
                })
                .collect::<Vec<_>>()
                .join(" ");
            chart.lines.push(Line {
                class,
                name,
                points,
            });
        }
        chart
    }
}

/// A day label without its year ("05-31"); other labels as they are.
fn short(label: &str) -> String {
    match label.len() {
        10 => label[5..].to_owned(),
        _ => label.to_owned(),
    }
}

/// The day-by-day charts of the overview and of a tenant's analytics.
pub fn daily_charts(
    t: &super::super::text::Text,
    days: &[String],
    figures: &BTreeMap<String, Figures>,
) -> Vec<Chart> {
    let get = |d: &String| figures.get(d).cloned().unwrap_or_default();
    let per_day = |f: fn(&Figures) -> i64| -> Vec<(String, i64)> {
        days.iter().map(|d| (d.clone(), f(&get(d)))).collect()
    };
    let quantile = |q: f64| -> Vec<Option<i64>> {
        days.iter()
            .map(|d| get(d).first_token_quantile(q))
            .collect()
    };
    vec![
        Chart::bars(
            "conversations",
            t.conversations.to_owned(),
            &per_day(|f| f.conversations),
        ),
        Chart::bars("messages", t.messages.to_owned(), &per_day(|f| f.messages)),
        Chart::lines(
            "first-token",
            t.first_token.to_owned(),
            days,
            vec![
                ("median", t.talk.median, quantile(0.5)),
                ("p95", t.talk.p95, quantile(0.95)),
            ],
        ),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bars_fit_the_box() {
        let values: Vec<(String, i64)> = (0..30).map(|i| (format!("d{i}"), i * 3)).collect();
        let c = Chart::bars("x", "X".into(), &values);
        assert_eq!(c.bars.len(), 30);
        for b in &c.bars {
            assert!(b.y >= 0 && b.y + b.h == c.base && b.x + b.w <= c.width);
        }
        assert_eq!(c.max_label, "87");
        assert_eq!(day_of(0), "1970-01-01");
    }
}
