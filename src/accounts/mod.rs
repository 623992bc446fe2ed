//! The team's accounts: members (owners and operators) added and changed from the CLI or the
//! admin, signing in with a password or a one-time link, and the sessions that follow. The CLI,
//! the admin and `serve --demo` all come here: each rule lives once.

pub mod password;
mod sessions;

use crate::store::admins::{self, AdminPatch, AdminUser};
use crate::store::{Db, StoreError, audit, tenants};
use crate::vocab::{Role, Secret};

pub use self::sessions::{
    ABSOLUTE_LIFETIME_MS, IDLE_EXPIRY_MS, LINK_LIFETIME_MS, SignedIn, open_session, session,
    sign_in_link, sign_in_with_link, sign_in_with_password, sign_out, sign_out_everywhere,
};

/// Why an account change or a sign-in was refused.
#[derive(Debug, thiserror::Error)]
pub enum AccountError {
    #[error("{message}")]
    Invalid { code: &'static str, message: String },
    /// A wrong email, a wrong password, a used or expired link: told apart nowhere.
    #[error("the email or password is wrong, or the link was used or has expired")]
    Refused,
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{0}")]
    Internal(String),
}

impl AccountError {
    fn invalid(code: &'static str, message: impl Into<String>) -> AccountError {
        AccountError::Invalid {
            code,
            message: message.into(),
        }
    }
}

/// A member to add.
pub struct NewMember {
    pub email: String,
    pub name: Option<String>,
    pub role: Role,
    /// The tenants an operator serves, by slug.
    pub tenants: Vec<String>,
    /// None: the member signs in with a one-time link until they set one.
    pub password: Option<Secret>,
}

/// What to change about a member; `None` leaves it.
#[derive(Default)]
pub struct MemberChange {
    pub name: Option<Option<String>>,
    pub role: Option<Role>,
    pub tenants: Option<Vec<String>>,
    pub password: Option<Secret>,
    pub disabled: Option<bool>,
    /// The session that asked: a new password ends the member's other sessions but not this
    /// one (a member changing their own password stays signed in where they did it).
    pub keep_session: Option<i64>,
}

/// What a member changes about themselves; `None` leaves it.
pub struct OwnChange {
    pub name: Option<Option<String>>,
    /// Needed for a new password when the member has one.
    pub current_password: Option<Secret>,
    pub new_password: Option<Secret>,
}

/// The longest name taken, in characters.
const MAX_NAME_CHARS: usize = 100;

/// Whether `email` (trimmed) looks like an address: one `@` with something on both sides, a dot
/// in the domain, no spaces. The one rule for a team member's and a visitor's email.
pub fn is_email(email: &str) -> bool {
    let email = email.trim();
    email.len() <= 254
        && !email.chars().any(char::is_whitespace)
        && email.split_once('@').is_some_and(|(user, domain)| {
            !user.is_empty() && domain.contains('.') && !domain.contains('@')
        })
}

/// An email as keepstar takes it: trimmed and shaped like one ([`is_email`]).
fn checked_email(email: &str) -> Result<String, AccountError> {
    let email = email.trim();
    if is_email(email) {
        Ok(email.to_owned())
    } else {
        Err(AccountError::invalid(
            "invalid_email",
            format!("{email:?} is not an email address."),
        ))
    }
}

/// A name as keepstar takes it: trimmed, none when empty, at most [`MAX_NAME_CHARS`].
fn checked_name(name: Option<String>) -> Result<Option<String>, AccountError> {
    let name = name.map(|n| n.trim().to_owned()).filter(|n| !n.is_empty());
    if name
        .as_ref()
        .is_some_and(|n| n.chars().count() > MAX_NAME_CHARS)
    {
        return Err(AccountError::invalid(
            "name_too_long",
            format!("The name must have at most {MAX_NAME_CHARS} characters."),
        ));
    }
    Ok(name)
}

/// The tenants' ids, refusing a slug that names none.
fn tenant_ids(c: &rusqlite::Connection, slugs: &[String]) -> Result<Vec<i64>, StoreError> {
    slugs
        .iter()
        .map(|slug| tenants::get(c, slug).map(|t| t.id))
        .collect()
}

fn record(
    c: &rusqlite::Connection,
    actor: &str,
    action: &str,
    user: &AdminUser,
    details: serde_json::Value,
) -> Result<(), StoreError> {
    audit::record(
        c,
        audit::Entry {
            tenant: None,
            actor,
            action,
            target: Some(&user.email),
            details,
        },
    )
}

/// Adds a member; `actor` is who did it, for the audit log.
pub async fn add(db: &Db, member: NewMember, actor: &str) -> Result<AdminUser, AccountError> {
    let email = checked_email(&member.email)?;
    let name = checked_name(member.name)?;
    let hash = match &member.password {
        Some(p) => password::hash(p.expose())?,
        None => password::NONE.to_owned(),
    };
    let actor = actor.to_owned();
    Ok(db
        .write(move |c| {
            let ids = tenant_ids(c, &member.tenants)?;
            let user = admins::insert(c, &email, name.as_deref(), member.role, &hash)?;
            admins::set_tenants(c, user.id, &ids)?;
            let user = admins::get(c, user.id)?;
            record(
                c,
                &actor,
                "admin.add",
                &user,
                serde_json::json!({"role": user.role.as_str(), "tenants": user.tenants}),
            )?;
            Ok(user)
        })
        .await?)
}

/// Changes a member. The last owner cannot stop being one.
pub async fn change(
    db: &Db,
    email: &str,
    mut change: MemberChange,
    actor: &str,
) -> Result<AdminUser, AccountError> {
    change.name = change.name.map(checked_name).transpose()?;
    let password_hash = change
        .password
        .as_ref()
        .map(|p| password::hash(p.expose()))
        .transpose()?;
    let (email, actor) = (email.trim().to_owned(), actor.to_owned());
    db.write(move |c| {
        let before = admins::get_by_email(c, &email)?;
        let demoted = before.role == Role::Owner
            && (change.role == Some(Role::Operator) || change.disabled == Some(true));
        if demoted && admins::count_owners(c)? <= 1 {
            return Ok(Err(AccountError::invalid(
                "last_owner",
                "This is the only owner; make someone else an owner first.",
            )));
        }
        let patch = AdminPatch {
            name: change.name.clone(),
            role: change.role,
            password_hash: password_hash.clone(),
            disabled: change.disabled,
        };
        admins::update(c, before.id, &patch)?;
        if let Some(slugs) = &change.tenants {
            admins::set_tenants(c, before.id, &tenant_ids(c, slugs)?)?;
        }
        // A disabled account ends every session it had; a new password every one but the
        // session that set it.
        if change.disabled == Some(true) {
            admins::end_sessions_of(c, before.id)?;
        } else if password_hash.is_some() {
            admins::end_sessions_except(c, before.id, change.keep_session)?;
        }
        let user = admins::get(c, before.id)?;
        record(
            c,
            &actor,
            "admin.set",
            &user,
            serde_json::json!({
                "role": user.role.as_str(),
                "tenants": user.tenants,
                "password_changed": password_hash.is_some(),
                "disabled": user.disabled_at.is_some(),
            }),
        )?;
        Ok(Ok(user))
    })
    .await?
}

/// Removes a member, but never the last owner.
pub async fn remove(db: &Db, email: &str, actor: &str) -> Result<AdminUser, AccountError> {
    let (email, actor) = (email.trim().to_owned(), actor.to_owned());
    db.write(move |c| {
        let user = admins::get_by_email(c, &email)?;
        if user.role == Role::Owner && admins::count_owners(c)? <= 1 {
            return Ok(Err(AccountError::invalid(
                "last_owner",
                "This is the only owner; add another owner first.",
            )));
        }
        admins::remove(c, user.id)?;
        record(c, &actor, "admin.remove", &user, serde_json::json!({}))?;
        Ok(Ok(user))
    })
    .await?
}

/// A member changes their own name or password from the session `session_id`. A new password
/// needs the current one (unless they have none yet, having signed in with a link) and ends
/// their other sessions, not this one.
pub async fn change_own(
    db: &Db,
    user: &AdminUser,
    session_id: i64,
    own: OwnChange,
    actor: &str,
) -> Result<AdminUser, AccountError> {
    if own.new_password.is_some() {
        let id = user.id;
        let stored = db.read(move |c| admins::password_hash(c, id)).await?;
        let given = own.current_password.as_ref().map(|p| p.expose().to_owned());
        let ok = tokio::task::spawn_blocking(move || {
            stored == password::NONE
                || given.is_some_and(|given| password::matches(&stored, &given))
        })
        .await
        .map_err(|e| AccountError::Internal(e.to_string()))?;
        if !ok {
            return Err(AccountError::invalid(
                "wrong_password",
                "The current password is wrong.",
            ));
        }
    }
    let change = MemberChange {
        name: own.name,
        password: own.new_password,
        keep_session: Some(session_id),
        ..MemberChange::default()
    };
    self::change(db, &user.email, change, actor).await
}

pub async fn list(db: &Db) -> Result<Vec<AdminUser>, AccountError> {
    Ok(db.read(admins::list).await?)
}

/// The member with the id `id`.
pub async fn member(db: &Db, id: i64) -> Result<AdminUser, AccountError> {
    Ok(db.read(move |c| admins::get(c, id)).await?)
}
