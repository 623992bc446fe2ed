//! What the admin's overview and analytics show. The daily rollup (`analytics_daily` and the
//! first-token histogram `first_token_daily`) is kept in the same transaction as what it counts:
//! a conversation started, a message stored, a conversation handed to the team, a search made.
//! The pages read the rollup, never the messages, except for the busiest hours and the searches.

use std::collections::BTreeMap;

use rusqlite::{Connection, params, params_from_iter};
use serde::Serialize;

use super::{Result, now_ms};

/// A UTC day as `YYYY-MM-DD`, in SQL.
const DAY: &str = "strftime('%Y-%m-%d', ?2 / 1000, 'unixepoch')";

/// The E12 series: a first-token time counts in the largest of these (times a power of ten)
/// that is not above it.
const E12: [i64; 12] = [10, 12, 15, 18, 22, 27, 33, 39, 47, 56, 68, 82];

/// The histogram bucket of a first-token time (see `first_token_daily` in the migrations).
pub fn bucket(ms: i64) -> i64 {
    let ms = ms.max(0);
    if ms < 10 {
        return ms;
    }
    let mut p = 1;
    while ms / p >= 100 && p < 100_000 {
        p *= 10;
    }
    let m = ms / p;
    p * E12.iter().rev().find(|&&e| e <= m).copied().unwrap_or(10)
}

fn bump(c: &Connection, column: &str, tenant_id: i64, at_ms: i64) -> Result<()> {
    c.prepare_cached(&format!(
        "INSERT INTO analytics_daily (tenant_id, day, {column}) VALUES (?1, {DAY}, 1)
         ON CONFLICT (tenant_id, day) DO UPDATE SET {column} = {column} + 1"
    ))?
    .execute(params![tenant_id, at_ms])?;
    Ok(())
}

/// Counts a conversation started.
pub fn conversation_started(c: &Connection, tenant_id: i64, at_ms: i64) -> Result<()> {
    bump(c, "conversations", tenant_id, at_ms)
}

/// Counts a conversation handed to the team for the first time.
pub fn handed_over(c: &Connection, tenant_id: i64, at_ms: i64) -> Result<()> {
    bump(c, "handoffs", tenant_id, at_ms)
}

/// Counts a message stored, and its reply's first-token time.
pub fn message_stored(
    c: &Connection,
    tenant_id: i64,
    at_ms: i64,
    first_token_ms: Option<i64>,
) -> Result<()> {
    let (sum, count) = first_token_ms.map_or((0, 0), |ms| (ms, 1));
    c.prepare_cached(&format!(
        "INSERT INTO analytics_daily (tenant_id, day, messages, first_token_ms_sum, first_token_count)
         VALUES (?1, {DAY}, 1, ?3, ?4)
         ON CONFLICT (tenant_id, day) DO UPDATE SET messages = messages + 1,
             first_token_ms_sum = first_token_ms_sum + excluded.first_token_ms_sum,
             first_token_count = first_token_count + excluded.first_token_count"
    ))?
    .execute(params![tenant_id, at_ms, sum, count])?;
    if let Some(ms) = first_token_ms {
        c.prepare_cached(&format!(
            "INSERT INTO first_token_daily (tenant_id, day, bucket_ms, count) VALUES (?1, {DAY}, ?3, 1)
             ON CONFLICT (tenant_id, day, bucket_ms) DO UPDATE SET count = count + 1"
        ))?
        .execute(params![tenant_id, at_ms, bucket(ms)])?;
    }
    Ok(())
}

/// Keeps a catalog search a responder made and how many products it found; one that found
/// nothing is also a search miss (`catalog::record_miss`) and counted in the day's rollup.
pub fn search_made(c: &Connection, tenant_id: i64, query: &str, found: usize) -> Result<()> {
    let query: String = query.chars().take(500).collect();
    let now = now_ms();
    c.prepare_cached(
        "INSERT INTO searches (tenant_id, query, found, created_at) VALUES (?1, ?2, ?3, ?4)",
    )?
    .execute(params![tenant_id, query, found as i64, now])?;
    if found == 0 {
        super::catalog::record_miss(c, tenant_id, &query)?;
        bump(c, "search_misses", tenant_id, now)?;
    }
    Ok(())
}

/// One day's figures (or a period's, summed).
#[derive(Debug, Clone, Default, Serialize)]
pub struct Figures {
    pub conversations: i64,
    pub messages: i64,
    /// Conversations handed to the team (waiting for or with a person).
    pub handoffs: i64,
    pub zero_results: i64,
    pub tokens: i64,
    pub cost_micros: i64,
    /// First-token times: bucket (ms) → replies.
    #[serde(skip)]
    pub first_token: BTreeMap<i64, i64>,
}

impl Figures {
    /// The `q`-quantile (0-1) of the first-token times (rounded down to their bucket), if
    /// there were replies.
    pub fn first_token_quantile(&self, q: f64) -> Option<i64> {
        let n: i64 = self.first_token.values().sum();
        if n == 0 {
            return None;
        }
        let rank = ((n - 1) as f64 * q).round() as i64;
        let mut seen = 0;
        for (&bucket, &count) in &self.first_token {
            seen += count;
            if seen > rank {
                return Some(bucket);
            }
        }
        self.first_token.keys().next_back().copied()
    }

    fn add(&mut self, other: &Figures) {
        self.conversations += other.conversations;
        self.messages += other.messages;
        self.handoffs += other.handoffs;
        self.zero_results += other.zero_results;
        self.tokens += other.tokens;
        self.cost_micros += other.cost_micros;
        for (b, n) in &other.first_token {
            *self.first_token.entry(*b).or_default() += n;
        }
    }

    /// The share of conversations handed to the team, in percent.
    pub fn handoff_rate(&self) -> Option<f64> {
        (self.conversations > 0).then(|| 100.0 * self.handoffs as f64 / self.conversations as f64)
    }
}

/// The figures of the tenants `tenant_ids` per UTC day from `from_day` (`YYYY-MM-DD`) on,
/// summed over the tenants; days without a row are absent.
pub fn daily(
    c: &Connection,
    tenant_ids: &[i64],
    from_day: &str,
) -> Result<BTreeMap<String, Figures>> {
    let mut days: BTreeMap<String, Figures> = BTreeMap::new();
    if tenant_ids.is_empty() {
        return Ok(days);
    }
    let list = vec!["?"; tenant_ids.len()].join(",");
    let n = tenant_ids.len() + 1;
    let args = || {
        tenant_ids
            .iter()
            .map(|id| rusqlite::types::Value::Integer(*id))
            .chain(std::iter::once(rusqlite::types::Value::Text(
                from_day.to_owned(),
            )))
    };
    let mut stmt = c.prepare_cached(&format!(
        "SELECT day, sum(conversations), sum(messages), sum(handoffs), sum(search_misses),
                sum(prompt_tokens + completion_tokens), sum(cost_micros)
         FROM analytics_daily WHERE tenant_id IN ({list}) AND day >= ?{n} GROUP BY day"
    ))?;
    let mut rows = stmt.query(params_from_iter(args()))?;
    while let Some(r) = rows.next()? {
        days.insert(
            r.get(0)?,
            Figures {
                conversations: r.get(1)?,
                messages: r.get(2)?,
                handoffs: r.get(3)?,
                zero_results: r.get(4)?,
                tokens: r.get(5)?,
                cost_micros: r.get(6)?,
                first_token: BTreeMap::new(),
            },
        );
    }
    let mut stmt = c.prepare_cached(&format!(
        "SELECT day, bucket_ms, sum(count) FROM first_token_daily
         WHERE tenant_id IN ({list}) AND day >= ?{n} GROUP BY day, bucket_ms"
    ))?;
    let mut rows = stmt.query(params_from_iter(args()))?;
    while let Some(r) = rows.next()? {
        let day: String = r.get(0)?;
        days.entry(day)
            .or_default()
            .first_token
            .insert(r.get(1)?, r.get(2)?);
    }
    Ok(days)
}

/// The days' figures summed from `from_day` on.
pub fn total<'a>(
    days: impl IntoIterator<Item = (&'a String, &'a Figures)>,
    from_day: &str,
) -> Figures {
    let mut sum = Figures::default();
    for (_, f) in days.into_iter().filter(|(d, _)| d.as_str() >= from_day) {
        sum.add(f);
    }
    sum
}

/// The figures of the tenants `tenant_ids` since the UTC day `from_day`.
pub fn figures(c: &Connection, tenant_ids: &[i64], from_day: &str) -> Result<Figures> {
    Ok(total(&daily(c, tenant_ids, from_day)?, from_day))
}

/// A search and how often it was made.
#[derive(Debug, Clone, Serialize)]
pub struct SearchCount {
    pub query: String,
    pub count: i64,
    /// Products the latest of them found.
    pub found: i64,
}

/// The tenant's most frequent searches since `since_ms` (case-insensitively the same query).
pub fn top_searches(
    c: &Connection,
    tenant_id: i64,
    since_ms: i64,
    limit: i64,
) -> Result<Vec<SearchCount>> {
    let mut stmt = c.prepare_cached(
        "SELECT query, count(*) AS n, found FROM (
             SELECT lower(trim(query)) AS query, found, created_at FROM searches
             WHERE tenant_id = ?1 AND created_at >= ?2 ORDER BY created_at)
         GROUP BY query ORDER BY n DESC, query LIMIT ?3",
    )?;
    let rows = stmt
        .query_map(params![tenant_id, since_ms, limit], |r| {
            Ok(SearchCount {
                query: r.get(0)?,
                count: r.get(1)?,
                found: r.get(2)?,
            })
        })?
        .collect::<rusqlite::Result<_>>()?;
    Ok(rows)
}

/// The tenant's most frequent searches that found nothing since `since_ms`.
pub fn top_misses(
    c: &Connection,
    tenant_id: i64,
    since_ms: i64,
    limit: i64,
) -> Result<Vec<SearchCount>> {
    let mut stmt = c.prepare_cached(
        "SELECT lower(trim(query)) AS q, count(*) AS n FROM search_misses
         WHERE tenant_id = ?1 AND created_at >= ?2 GROUP BY q ORDER BY n DESC, q LIMIT ?3",
    )?;
    let rows = stmt
        .query_map(params![tenant_id, since_ms, limit], |r| {
            Ok(SearchCount {
                query: r.get(0)?,
                count: r.get(1)?,
                found: 0,
            })
        })?
        .collect::<rusqlite::Result<_>>()?;
    Ok(rows)
}

/// The tenant's messages since `since_ms` per UTC hour of the day (0-23).
pub fn by_hour(c: &Connection, tenant_id: i64, since_ms: i64) -> Result<[i64; 24]> {
    let mut hours = [0; 24];
    let mut stmt = c.prepare_cached(
        "SELECT (created_at / 3600000) % 24 AS h, count(*) FROM messages
         WHERE tenant_id = ?1 AND created_at >= ?2 GROUP BY h",
    )?;
    let mut rows = stmt.query(params![tenant_id, since_ms])?;
    while let Some(r) = rows.next()? {
        let h: i64 = r.get(0)?;
        hours[h.clamp(0, 23) as usize] = r.get(1)?;
    }
    Ok(hours)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_round_down_to_the_e12_series() {
        assert_eq!(bucket(-5), 0);
        assert_eq!(bucket(7), 7);
        assert_eq!(bucket(10), 10);
        assert_eq!(bucket(14), 12);
        assert_eq!(bucket(99), 82);
        assert_eq!(bucket(100), 100);
        assert_eq!(bucket(1234), 1200);
        assert_eq!(bucket(4_999), 4_700);
        assert_eq!(bucket(250_000), 220_000);
    }

    #[test]
    fn quantiles_come_from_the_buckets() {
        let mut f = Figures::default();
        assert_eq!(f.first_token_quantile(0.5), None);
        f.first_token.extend([(100, 50), (1000, 45), (3300, 5)]);
        assert_eq!(f.first_token_quantile(0.5), Some(1000));
        assert_eq!(f.first_token_quantile(0.95), Some(1000));
        assert_eq!(f.first_token_quantile(0.99), Some(3300));
        assert_eq!(f.first_token_quantile(0.0), Some(100));
    }
}
