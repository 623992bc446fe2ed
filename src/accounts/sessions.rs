//! Signing in and staying signed in. A session token and a link token carry 190 random bits
//! and are stored only as SHA-256; a session ends after [`IDLE_EXPIRY_MS`] without use and
//! [`ABSOLUTE_LIFETIME_MS`] after it began, whatever happens.

use super::{AccountError, password, record};
use crate::store::admins::{self, AdminSession, AdminUser};
use crate::store::{Db, now_ms};
use crate::token;

/// How long a one-time sign-in link works.
pub const LINK_LIFETIME_MS: i64 = 15 * 60 * 1000;
/// A session nobody used for this long is over.
pub const IDLE_EXPIRY_MS: i64 = 2 * 60 * 60 * 1000;
/// A session is over this long after it began, however busy.
pub const ABSOLUTE_LIFETIME_MS: i64 = 12 * 60 * 60 * 1000;
/// How stale `last_seen_at` may get before a request writes it again.
const TOUCH_EVERY_MS: i64 = 60 * 1000;
const TOKEN_CHARS: usize = 32;

/// A member just signed in: the session and the token for their cookie.
pub struct SignedIn {
    pub user: AdminUser,
    pub session: AdminSession,
    /// The cookie's value; only its hash is stored.
    pub token: String,
}

/// A one-time sign-in URL for the member `email` under `public_url`, valid for 15 minutes.
pub async fn sign_in_link(
    db: &Db,
    public_url: &str,
    email: &str,
    actor: &str,
) -> Result<String, AccountError> {
    let token = token::random_base62(TOKEN_CHARS);
    let (email, hash, actor) = (
        email.trim().to_owned(),
        token::sha256(&token),
        actor.to_owned(),
    );
    db.write(move |c| {
        let user = admins::get_by_email(c, &email)?;
        admins::create_link(c, user.id, &hash, now_ms() + LINK_LIFETIME_MS)?;
        record(c, &actor, "admin.link", &user, serde_json::json!({}))?;
        Ok(())
    })
    .await?;
    Ok(format!(
        "{}/admin/link/{token}",
        public_url.trim_end_matches('/')
    ))
}

/// The member a password signs in, the same refusal for an unknown email and a wrong password,
/// and the same time spent on either.
pub async fn sign_in_with_password(
    db: &Db,
    email: &str,
    password: &str,
) -> Result<AdminUser, AccountError> {
    let email = email.trim().to_owned();
    let found = db
        .read(move |c| {
            let Some(user) = admins::find_by_email(c, &email)? else {
                return Ok(None);
            };
            let hash = admins::password_hash(c, user.id)?;
            Ok(Some((user, hash)))
        })
        .await?;
    let password = password.to_owned();
    // Argon2id takes tens of milliseconds of CPU: off the async threads.
    tokio::task::spawn_blocking(move || match found {
        Some((user, hash)) if password::matches(&hash, &password) && user.disabled_at.is_none() => {
            Ok(user)
        }
        Some(_) => Err(AccountError::Refused),
        None => {
            password::waste_time(&password);
            Err(AccountError::Refused)
        }
    })
    .await
    .map_err(|e| AccountError::Internal(e.to_string()))?
}

/// The member a one-time link signs in; the link is used up either way.
pub async fn sign_in_with_link(db: &Db, link_token: &str) -> Result<AdminUser, AccountError> {
    let hash = token::sha256(link_token);
    match db.write(move |c| admins::use_link(c, &hash)).await? {
        Some(user) if user.disabled_at.is_none() => Ok(user),
        _ => Err(AccountError::Refused),
    }
}

/// Starts a session for a member who just signed in.
pub async fn open_session(db: &Db, user: AdminUser) -> Result<SignedIn, AccountError> {
    let token = token::random_base62(TOKEN_CHARS);
    let csrf = token::random_base62(TOKEN_CHARS);
    let (hash, id) = (token::sha256(&token), user.id);
    let session = db
        .write(move |c| {
            admins::create_session(c, id, &hash, &csrf, now_ms() + ABSOLUTE_LIFETIME_MS)
        })
        .await?;
    Ok(SignedIn {
        user,
        session,
        token,
    })
}

/// The live session a cookie's token names, with its member; an expired or idle session, or one
/// of a disabled member, is ended and is none.
pub async fn session(
    db: &Db,
    cookie_token: &str,
) -> Result<Option<(AdminSession, AdminUser)>, AccountError> {
    let hash = token::sha256(cookie_token);
    let Some((session, user)) = db.read(move |c| admins::session(c, &hash)).await? else {
        return Ok(None);
    };
    let now = now_ms();
    let over = now >= session.expires_at
        || now - session.last_seen_at >= IDLE_EXPIRY_MS
        || user.disabled_at.is_some();
    if over {
        let id = session.id;
        db.write(move |c| admins::end_session(c, id)).await?;
        return Ok(None);
    }
    if now - session.last_seen_at >= TOUCH_EVERY_MS {
        let id = session.id;
        db.write(move |c| admins::touch_session(c, id)).await?;
    }
    Ok(Some((session, user)))
}

pub async fn sign_out(db: &Db, session: &AdminSession) -> Result<(), AccountError> {
    let id = session.id;
    Ok(db.write(move |c| admins::end_session(c, id)).await?)
}

/// Ends every session of the member, this one included.
pub async fn sign_out_everywhere(db: &Db, user: &AdminUser) -> Result<usize, AccountError> {
    let user = user.clone();
    Ok(db
        .write(move |c| {
            let ended = admins::end_sessions_of(c, user.id)?;
            record(
                c,
                &format!("admin:{}", user.email),
                "admin.sign_out_everywhere",
                &user,
                serde_json::json!({"sessions": ended}),
            )?;
            Ok(ended)
        })
        .await?)
}
