//! API keys: public `pk_…` keys embedded in pages and secret `sk_…` keys for the tenant API.
//! A key is looked up by its SHA-256; the clear text of a secret key is never stored.

use rusqlite::{Connection, OptionalExtension, Row, params};
use serde::Serialize;
use serde_json::json;

use super::{Result, StoreError, audit, now_ms};
use crate::token;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum KeyKind {
    Public,
    Secret,
}

impl KeyKind {
    pub fn as_str(self) -> &'static str {
        match self {
            KeyKind::Public => "public",
            KeyKind::Secret => "secret",
        }
    }
    fn marker(self) -> &'static str {
        match self {
            KeyKind::Public => "pk",
            KeyKind::Secret => "sk",
        }
    }
}

/// Characters of randomness in a key: 32 × 5.95 ≈ 190 bits.
const KEY_CHARS: usize = 32;
/// How much of a key is kept as its lookup prefix (the marker and 8 characters).
const PREFIX_LEN: usize = 3 + 8;

/// A key as listed: never the secret itself.
#[derive(Debug, Clone, Serialize)]
pub struct ApiKey {
    pub id: String,
    #[serde(skip)]
    pub tenant_id: i64,
    pub tenant: String,
    pub kind: KeyKind,
    pub prefix: String,
    /// The whole key, for public keys only (they are published in pages).
    pub public_key: Option<String>,
    pub label: Option<String>,
    pub created_at: i64,
    pub last_used_at: Option<i64>,
    pub revoked_at: Option<i64>,
}

/// A key just issued: the only moment its clear text exists.
#[derive(Debug, Serialize)]
pub struct IssuedKey {
    #[serde(flatten)]
    pub key: ApiKey,
    pub secret: String,
}

const COLUMNS: &str = "k.public_id, k.tenant_id, t.slug, k.kind, k.prefix, k.public_key, k.label, \
    k.created_at, k.last_used_at, k.revoked_at";

fn from_row(r: &Row) -> rusqlite::Result<ApiKey> {
    Ok(ApiKey {
        id: r.get(0)?,
        tenant_id: r.get(1)?,
        tenant: r.get(2)?,
        kind: if r.get::<_, String>(3)? == "secret" {
            KeyKind::Secret
        } else {
            KeyKind::Public
        },
        prefix: r.get(4)?,
        public_key: r.get(5)?,
        label: r.get(6)?,
        created_at: r.get(7)?,
        last_used_at: r.get(8)?,
        revoked_at: r.get(9)?,
    })
}

/// Issues a new key for a tenant.
pub fn issue(
    c: &Connection,
    tenant_id: i64,
    kind: KeyKind,
    label: Option<&str>,
) -> Result<IssuedKey> {
    let secret = format!("{}_{}", kind.marker(), token::random_base62(KEY_CHARS));
    let id = token::public_id("key");
    let public_key = (kind == KeyKind::Public).then_some(secret.as_str());
    c.prepare_cached(        "INSERT INTO api_keys (public_id, tenant_id, kind, prefix, hash, public_key, label, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)")?.execute(
        params![
            id,
            tenant_id,
            kind.as_str(),
            &secret[..PREFIX_LEN],
            token::sha256(&secret),
            public_key,
            label,
            now_ms()
        ],
    )?;
    Ok(IssuedKey {
        key: get(c, &id)?,
        secret,
    })
}

/// `issue`, recorded in the audit log as done by `actor` (the key's prefix, never the key).
pub fn issue_audited(
    c: &Connection,
    actor: &str,
    tenant: (i64, &str),
    kind: KeyKind,
    label: Option<&str>,
) -> Result<IssuedKey> {
    let issued = issue(c, tenant.0, kind, label)?;
    audit::record(
        c,
        audit::Entry {
            tenant: Some(tenant),
            actor,
            action: "key.issue",
            target: Some(&issued.key.id),
            details: json!({ "kind": kind, "prefix": issued.key.prefix, "label": label }),
        },
    )?;
    Ok(issued)
}

/// `revoke`, recorded in the audit log as done by `actor`. With `tenant_id`, a key of another
/// tenant is `NotFound`, as one that does not exist.
pub fn revoke_audited(
    c: &Connection,
    actor: &str,
    tenant_id: Option<i64>,
    id: &str,
) -> Result<ApiKey> {
    if tenant_id.is_some_and(|t| get(c, id).is_ok_and(|k| k.tenant_id != t)) {
        return Err(StoreError::NotFound(format!("key {id:?}")));
    }
    let key = revoke(c, id)?;
    audit::record(
        c,
        audit::Entry {
            tenant: Some((key.tenant_id, &key.tenant)),
            actor,
            action: "key.revoke",
            target: Some(&key.id),
            details: json!({ "kind": key.kind, "prefix": key.prefix }),
        },
    )?;
    Ok(key)
}

/// The embed tag for a tenant's public key: where the widget is loaded from, and the tag.
#[derive(Debug, Serialize)]
pub struct Snippet {
    pub src: String,
    pub html: String,
}

impl Snippet {
    /// The tag a page embeds: keepstar's `widget.js` at `public_url`, `version` busting caches
    /// between the page and keepstar when the widget changes.
    pub fn new(public_url: &str, version: &str, tenant: &str, public_key: &str) -> Snippet {
        let src = format!("{}/widget.js?v={version}", public_url.trim_end_matches('/'));
        let html = format!(
            r#"<script async src="{src}" data-tenant="{tenant}" data-key="{public_key}"></script>"#
        );
        Snippet { src, html }
    }
}

pub fn get(c: &Connection, id: &str) -> Result<ApiKey> {
    c.prepare_cached(        &format!("SELECT {COLUMNS} FROM api_keys k JOIN tenants t ON t.id = k.tenant_id WHERE k.public_id = ?1"))?.query_row(
        [id],
        from_row,
    )
    .optional()?
    .ok_or_else(|| StoreError::NotFound(format!("key {id:?}")))
}

/// A tenant's keys, newest first.
pub fn list(c: &Connection, tenant_id: i64) -> Result<Vec<ApiKey>> {
    let mut stmt = c.prepare(&format!(
        "SELECT {COLUMNS} FROM api_keys k JOIN tenants t ON t.id = k.tenant_id
         WHERE k.tenant_id = ?1 ORDER BY k.created_at DESC, k.id DESC"
    ))?;
    let rows = stmt.query_map([tenant_id], from_row)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Revokes a key at once. Revoking a revoked key is a conflict.
pub fn revoke(c: &Connection, id: &str) -> Result<ApiKey> {
    let key = get(c, id)?;
    if key.revoked_at.is_some() {
        return Err(StoreError::Conflict(format!(
            "key {id:?} is already revoked"
        )));
    }
    c.prepare_cached("UPDATE api_keys SET revoked_at = ?1 WHERE public_id = ?2")?
        .execute(params![now_ms(), id])?;
    get(c, id)
}

/// The active key of `kind` whose clear text is `presented`, within the tenant `tenant_id`.
/// Unknown, revoked and other tenants' keys all answer `None`.
pub fn verify(
    c: &Connection,
    tenant_id: i64,
    kind: KeyKind,
    presented: &str,
) -> Result<Option<ApiKey>> {
    if presented.len() < PREFIX_LEN || !presented.starts_with(kind.marker()) {
        return Ok(None);
    }
    Ok(c.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM api_keys k JOIN tenants t ON t.id = k.tenant_id
             WHERE k.hash = ?1 AND k.tenant_id = ?2 AND k.kind = ?3 AND k.revoked_at IS NULL"
    ))?
    .query_row(
        params![token::sha256(presented), tenant_id, kind.as_str()],
        from_row,
    )
    .optional()?)
}

/// Whether the key `id` of the tenant is still active (checked on every widget request).
pub fn is_active(c: &Connection, tenant_id: i64, id: &str) -> Result<bool> {
    Ok(c.prepare_cached(        "SELECT EXISTS (SELECT 1 FROM api_keys WHERE public_id = ?1 AND tenant_id = ?2 AND revoked_at IS NULL)")?.query_row(
        params![id, tenant_id],
        |r| r.get(0),
    )?)
}

/// Marks a key as used now.
pub fn touch(c: &Connection, id: &str) -> Result<()> {
    c.prepare_cached("UPDATE api_keys SET last_used_at = ?1 WHERE public_id = ?2")?
        .execute(params![now_ms(), id])?;
    Ok(())
}

/// The newest active public key of a tenant, the one `snippet` embeds by default.
pub fn active_public(c: &Connection, tenant_id: i64) -> Result<Option<ApiKey>> {
    Ok(list(c, tenant_id)?
        .into_iter()
        .find(|k| k.kind == KeyKind::Public && k.revoked_at.is_none()))
}
