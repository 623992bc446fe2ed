//! The team: admin users (owners and operators), the tenants an operator serves, their sign-in
//! sessions and one-time sign-in links. Tokens are kept only as SHA-256.

use rusqlite::{Connection, OptionalExtension, Row, params};
use serde::Serialize;

use super::{Result, StoreError, conflict_on_unique, now_ms};
use crate::vocab::Role;

/// A member of the team. Never holds the password hash.
#[derive(Debug, Clone, Serialize)]
pub struct AdminUser {
    pub id: i64,
    pub email: String,
    pub name: Option<String>,
    pub role: Role,
    /// The slugs of the tenants an operator serves (an owner serves all).
    pub tenants: Vec<String>,
    pub created_at: i64,
    pub disabled_at: Option<i64>,
}

impl AdminUser {
    /// The name the visitor and the rest of the team see.
    pub fn display_name(&self) -> &str {
        self.name.as_deref().unwrap_or(&self.email)
    }
}

const USER: &str = "SELECT id, email, display_name, role, created_at, disabled_at FROM admin_users";

fn user(c: &Connection, r: &Row) -> rusqlite::Result<AdminUser> {
    let id: i64 = r.get(0)?;
    let mut stmt = c.prepare_cached(
        "SELECT t.slug FROM admin_user_tenants a JOIN tenants t ON t.id = a.tenant_id
         WHERE a.admin_user_id = ?1 ORDER BY t.slug",
    )?;
    let tenants = stmt
        .query_map([id], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    Ok(AdminUser {
        id,
        email: r.get(1)?,
        name: r.get(2)?,
        role: r.get(3)?,
        tenants,
        created_at: r.get(4)?,
        disabled_at: r.get(5)?,
    })
}

fn one(c: &Connection, filter: &str, value: &dyn rusqlite::ToSql) -> Result<Option<AdminUser>> {
    c.prepare_cached(&format!("{USER} WHERE {filter}"))?
        .query_row([value], |r| user(c, r))
        .optional()
        .map_err(Into::into)
}

pub fn find_by_email(c: &Connection, email: &str) -> Result<Option<AdminUser>> {
    one(c, "email = ?1", &email)
}

pub fn get_by_email(c: &Connection, email: &str) -> Result<AdminUser> {
    find_by_email(c, email)?.ok_or_else(|| StoreError::NotFound(format!("admin {email:?}")))
}

pub fn get(c: &Connection, id: i64) -> Result<AdminUser> {
    one(c, "id = ?1", &id)?.ok_or_else(|| StoreError::NotFound("admin".into()))
}

pub fn list(c: &Connection) -> Result<Vec<AdminUser>> {
    let mut stmt = c.prepare_cached(&format!("{USER} ORDER BY email"))?;
    let users = stmt
        .query_map([], |r| user(c, r))?
        .collect::<rusqlite::Result<_>>()?;
    Ok(users)
}

/// The Argon2id PHC string of the user's password, for checking a sign-in.
pub fn password_hash(c: &Connection, id: i64) -> Result<String> {
    Ok(c.query_row(
        "SELECT password_hash FROM admin_users WHERE id = ?1",
        [id],
        |r| r.get(0),
    )?)
}

pub fn insert(
    c: &Connection,
    email: &str,
    name: Option<&str>,
    role: Role,
    password_hash: &str,
) -> Result<AdminUser> {
    c.execute(
        "INSERT INTO admin_users (email, display_name, password_hash, role, created_at)
         VALUES (?1, ?2, ?3, ?4, ?5)",
        params![email, name, password_hash, role.as_str(), now_ms()],
    )
    .map_err(|e| conflict_on_unique(e, || format!("admin {email:?} already exists")))?;
    get(c, c.last_insert_rowid())
}

/// What `admin set` may change; `None` leaves a field as it is.
#[derive(Debug, Default)]
pub struct AdminPatch {
    pub name: Option<Option<String>>,
    pub role: Option<Role>,
    pub password_hash: Option<String>,
    pub disabled: Option<bool>,
}

pub fn update(c: &Connection, id: i64, patch: &AdminPatch) -> Result<AdminUser> {
    if let Some(name) = &patch.name {
        c.execute(
            "UPDATE admin_users SET display_name = ?1 WHERE id = ?2",
            params![name, id],
        )?;
    }
    if let Some(role) = patch.role {
        c.execute(
            "UPDATE admin_users SET role = ?1 WHERE id = ?2",
            params![role.as_str(), id],
        )?;
    }
    if let Some(hash) = &patch.password_hash {
        c.execute(
            "UPDATE admin_users SET password_hash = ?1 WHERE id = ?2",
            params![hash, id],
        )?;
    }
    if let Some(disabled) = patch.disabled {
        c.execute(
            "UPDATE admin_users SET disabled_at = CASE WHEN ?1 THEN COALESCE(disabled_at, ?2) END
             WHERE id = ?3",
            params![disabled, now_ms(), id],
        )?;
    }
    get(c, id)
}

/// Names the tenants an operator serves, replacing the list.
pub fn set_tenants(c: &Connection, id: i64, tenant_ids: &[i64]) -> Result<()> {
    c.execute(
        "DELETE FROM admin_user_tenants WHERE admin_user_id = ?1",
        [id],
    )?;
    let mut stmt = c.prepare_cached(
        "INSERT INTO admin_user_tenants (admin_user_id, tenant_id) VALUES (?1, ?2)",
    )?;
    for tenant in tenant_ids {
        stmt.execute([id, *tenant])?;
    }
    Ok(())
}

pub fn remove(c: &Connection, id: i64) -> Result<()> {
    c.execute("DELETE FROM admin_users WHERE id = ?1", [id])?;
    Ok(())
}

pub fn count_owners(c: &Connection) -> Result<i64> {
    Ok(c.query_row(
        "SELECT count(*) FROM admin_users WHERE role = 'owner' AND disabled_at IS NULL",
        [],
        |r| r.get(0),
    )?)
}

/// A signed-in browser.
#[derive(Debug, Clone)]
pub struct AdminSession {
    pub id: i64,
    pub user_id: i64,
    /// Sent with every form; a state-changing request without it changes nothing.
    pub csrf_token: String,
    pub created_at: i64,
    pub last_seen_at: i64,
    pub expires_at: i64,
}

pub fn create_session(
    c: &Connection,
    user_id: i64,
    token_hash: &[u8],
    csrf_token: &str,
    expires_at: i64,
) -> Result<AdminSession> {
    let now = now_ms();
    c.execute(
        "INSERT INTO admin_sessions (token_hash, admin_user_id, csrf_token, created_at, last_seen_at, expires_at)
         VALUES (?1, ?2, ?3, ?4, ?4, ?5)",
        params![token_hash, user_id, csrf_token, now, expires_at],
    )?;
    Ok(AdminSession {
        id: c.last_insert_rowid(),
        user_id,
        csrf_token: csrf_token.to_owned(),
        created_at: now,
        last_seen_at: now,
        expires_at,
    })
}

/// The session whose token hashes to `token_hash`, with its user, if any.
pub fn session(c: &Connection, token_hash: &[u8]) -> Result<Option<(AdminSession, AdminUser)>> {
    let found = c
        .prepare_cached(
            "SELECT id, admin_user_id, csrf_token, created_at, last_seen_at, expires_at
             FROM admin_sessions WHERE token_hash = ?1",
        )?
        .query_row([token_hash], |r| {
            Ok(AdminSession {
                id: r.get(0)?,
                user_id: r.get(1)?,
                csrf_token: r.get(2)?,
                created_at: r.get(3)?,
                last_seen_at: r.get(4)?,
                expires_at: r.get(5)?,
            })
        })
        .optional()?;
    match found {
        Some(s) => {
            let user = get(c, s.user_id)?;
            Ok(Some((s, user)))
        }
        None => Ok(None),
    }
}

pub fn touch_session(c: &Connection, id: i64) -> Result<()> {
    c.prepare_cached("UPDATE admin_sessions SET last_seen_at = ?1 WHERE id = ?2")?
        .execute(params![now_ms(), id])?;
    Ok(())
}

pub fn end_session(c: &Connection, id: i64) -> Result<()> {
    c.execute("DELETE FROM admin_sessions WHERE id = ?1", [id])?;
    Ok(())
}

/// Signs the user out everywhere; returns how many sessions ended.
pub fn end_sessions_of(c: &Connection, user_id: i64) -> Result<usize> {
    Ok(c.execute(
        "DELETE FROM admin_sessions WHERE admin_user_id = ?1",
        [user_id],
    )?)
}

/// Signs the user out everywhere but the session `keep` (none: everywhere); returns how many
/// sessions ended.
pub fn end_sessions_except(c: &Connection, user_id: i64, keep: Option<i64>) -> Result<usize> {
    Ok(c.execute(
        "DELETE FROM admin_sessions WHERE admin_user_id = ?1 AND id IS NOT ?2",
        params![user_id, keep],
    )?)
}

pub fn create_link(c: &Connection, user_id: i64, token_hash: &[u8], expires_at: i64) -> Result<()> {
    c.execute(
        "INSERT INTO admin_sign_in_links (token_hash, admin_user_id, created_at, expires_at)
         VALUES (?1, ?2, ?3, ?4)",
        params![token_hash, user_id, now_ms(), expires_at],
    )?;
    Ok(())
}

/// Uses the link whose token hashes to `token_hash`: its user when it is unused and unexpired,
/// and from then on never again.
pub fn use_link(c: &Connection, token_hash: &[u8]) -> Result<Option<AdminUser>> {
    let now = now_ms();
    let user_id: Option<i64> = c
        .query_row(
            "UPDATE admin_sign_in_links SET used_at = ?1
             WHERE token_hash = ?2 AND used_at IS NULL AND expires_at > ?1
             RETURNING admin_user_id",
            params![now, token_hash],
            |r| r.get(0),
        )
        .optional()?;
    user_id.map(|id| get(c, id)).transpose()
}
