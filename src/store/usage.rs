//! Token usage and what it cost, per tenant and day (the `analytics_daily` token columns), for the
//! monthly budget and the admin's spend figures.

use rusqlite::{Connection, params};
use time::OffsetDateTime;

use super::Result;

/// `ms` as a UTC day, `YYYY-MM-DD`.
fn day(ms: i64) -> String {
    let t = OffsetDateTime::from_unix_timestamp(ms.div_euclid(1000))
        .unwrap_or(OffsetDateTime::UNIX_EPOCH);
    format!("{:04}-{:02}-{:02}", t.year(), u8::from(t.month()), t.day())
}

/// Adds one reply's tokens and cost to the tenant's day.
pub fn record(
    c: &Connection,
    tenant_id: i64,
    at_ms: i64,
    prompt: i64,
    completion: i64,
    cost_micros: i64,
) -> Result<()> {
    c.prepare_cached(
        "INSERT INTO analytics_daily (tenant_id, day, prompt_tokens, completion_tokens, cost_micros)
         VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT (tenant_id, day) DO UPDATE SET
             prompt_tokens = prompt_tokens + excluded.prompt_tokens,
             completion_tokens = completion_tokens + excluded.completion_tokens,
             cost_micros = cost_micros + excluded.cost_micros",
    )?
    .execute(params![tenant_id, day(at_ms), prompt, completion, cost_micros])?;
    Ok(())
}

/// What the tenant spent in the UTC calendar month of `at_ms`, in millionths.
pub fn month_spend(c: &Connection, tenant_id: i64, at_ms: i64) -> Result<i64> {
    let first = format!("{}-01", &day(at_ms)[..7]);
    Ok(c
        .prepare_cached(
            "SELECT COALESCE(SUM(cost_micros), 0) FROM analytics_daily WHERE tenant_id = ?1 AND day >= ?2",
        )?
        .query_row(params![tenant_id, first], |r| r.get(0))?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_are_utc_calendar_days() {
        assert_eq!(day(0), "1970-01-01");
        // 2026-11-30T23:59:59.999Z and one millisecond later.
        assert_eq!(day(1_796_083_199_999), "2026-11-30");
        assert_eq!(day(1_796_083_200_000), "2026-12-01");
    }
}
