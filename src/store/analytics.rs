//! What the admin's overview and analytics show: figures for a set of tenants since a time.

use rusqlite::{Connection, params_from_iter};
use serde::Serialize;

use super::Result;

#[derive(Debug, Clone, Default, Serialize)]
pub struct Figures {
    pub conversations: i64,
    pub messages: i64,
    /// Conversations handed to the team (waiting for or with a person).
    pub handoffs: i64,
    pub zero_results: i64,
    pub tokens: i64,
    /// First-token times of the replies, fastest first.
    #[serde(skip)]
    pub first_token_ms: Vec<i64>,
}

impl Figures {
    /// The `q`-quantile (0-1) of the first-token times, if there were replies.
    pub fn first_token_quantile(&self, q: f64) -> Option<i64> {
        let n = self.first_token_ms.len();
        (n > 0).then(|| self.first_token_ms[((n - 1) as f64 * q).round() as usize])
    }
}

/// The figures of the tenants `tenant_ids` since `since_ms`.
pub fn figures(c: &Connection, tenant_ids: &[i64], since_ms: i64) -> Result<Figures> {
    if tenant_ids.is_empty() {
        return Ok(Figures::default());
    }
    let list = vec!["?"; tenant_ids.len()].join(",");
    let n = tenant_ids.len() + 1;
    let args = || tenant_ids.iter().copied().chain(std::iter::once(since_ms));
    let count = |sql: &str| -> Result<i64> {
        Ok(c.query_row(
            &sql.replace("{list}", &list)
                .replace("{since}", &format!("?{n}")),
            params_from_iter(args()),
            |r| r.get(0),
        )?)
    };
    let mut figures = Figures {
        conversations: count(
            "SELECT count(*) FROM conversations WHERE tenant_id IN ({list}) AND created_at >= {since}",
        )?,
        messages: count(
            "SELECT count(*) FROM messages WHERE tenant_id IN ({list}) AND created_at >= {since}",
        )?,
        handoffs: count(
            "SELECT count(*) FROM conversations WHERE tenant_id IN ({list}) AND created_at >= {since} AND status IN ('waiting_human', 'human')",
        )?,
        zero_results: count(
            "SELECT count(*) FROM search_misses WHERE tenant_id IN ({list}) AND created_at >= {since}",
        )?,
        tokens: count(
            "SELECT coalesce(sum(prompt_tokens + completion_tokens), 0) FROM messages WHERE tenant_id IN ({list}) AND created_at >= {since}",
        )?,
        first_token_ms: Vec::new(),
    };
    let mut stmt = c.prepare(&format!(
        "SELECT first_token_ms FROM messages WHERE tenant_id IN ({list}) AND created_at >= ?{n}
         AND first_token_ms IS NOT NULL ORDER BY first_token_ms"
    ))?;
    figures.first_token_ms = stmt
        .query_map(params_from_iter(args()), |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    Ok(figures)
}
