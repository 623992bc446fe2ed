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
}

/// An email as keepstar takes it: trimmed, one `@` with something on both sides, no spaces.
fn checked_email(email: &str) -> Result<String, AccountError> {
    let email = email.trim();
    let ok = email.len() <= 254
        && !email.chars().any(char::is_whitespace)
        && email.split_once('@').is_some_and(|(user, domain)| {
            !user.is_empty() && domain.contains('.') && !domain.contains('@')
        });
    if ok {
        Ok(email.to_owned())
    } else {
        Err(AccountError::invalid(
            "invalid_email",
            format!("{email:?} is not an email address."),
        ))
    }
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
    let hash = match &member.password {
        Some(p) => password::hash(p.expose())?,
        None => password::NONE.to_owned(),
    };
    let actor = actor.to_owned();
    Ok(db
        .write(move |c| {
            let ids = tenant_ids(c, &member.tenants)?;
            let user = admins::insert(c, &email, member.name.as_deref(), member.role, &hash)?;
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
    change: MemberChange,
    actor: &str,
) -> Result<AdminUser, AccountError> {
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
        if password_hash.is_some() || change.disabled == Some(true) {
            // A new password or a disabled account ends every session it had.
            admins::end_sessions_of(c, before.id)?;
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

pub async fn list(db: &Db) -> Result<Vec<AdminUser>, AccountError> {
    Ok(db.read(admins::list).await?)
}
