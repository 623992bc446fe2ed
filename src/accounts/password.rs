//! Passwords: Argon2id with 46 MiB, 2 passes and 1 lane, at least 12
//! characters. Only the PHC string is stored.

use std::sync::LazyLock;

use argon2::password_hash::{PasswordHasher, PasswordVerifier};
use argon2::{Algorithm, Argon2, Params, PasswordHash, Version};

use super::AccountError;

/// The shortest password taken, in characters.
pub const MIN_CHARS: usize = 12;
/// The longest, so hashing cannot be made to cost more than it should.
const MAX_CHARS: usize = 1024;

/// What a member without a password has instead of a hash: no password ever matches it.
pub const NONE: &str = "!no-password";

fn argon2() -> Argon2<'static> {
    // OWASP's least is 19 MiB and 2 passes (about 22 ms here); more memory is what costs an
    // attacker with GPUs most, and 46 MiB brings one check to about 50 ms (docs/BENCHMARKS.md).
    let params = Params::new(46 * 1024, 2, 1, None).expect("valid Argon2id parameters");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// The PHC string to store for `password`, once it is long enough.
pub fn hash(password: &str) -> Result<String, AccountError> {
    let chars = password.chars().count();
    if chars < MIN_CHARS {
        return Err(AccountError::invalid(
            "password_too_short",
            format!("The password must have at least {MIN_CHARS} characters."),
        ));
    }
    if chars > MAX_CHARS {
        return Err(AccountError::invalid(
            "password_too_long",
            format!("The password must have at most {MAX_CHARS} characters."),
        ));
    }
    argon2()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| AccountError::Internal(format!("hashing a password failed: {e}")))
}

/// Whether `password` is the one `stored` was made from. Always costs one Argon2id run, also
/// for a member without a password, so the answer's timing tells nothing.
pub fn matches(stored: &str, password: &str) -> bool {
    static DECOY: LazyLock<String> =
        LazyLock::new(|| hash("a password nobody has, for timing only").expect("the decoy hashes"));
    let (stored, real) = match PasswordHash::new(stored) {
        Ok(_) => (stored, true),
        Err(_) => (DECOY.as_str(), false),
    };
    let Ok(parsed) = PasswordHash::new(stored) else {
        return false;
    };
    let ok = argon2()
        .verify_password(password.as_bytes(), &parsed)
        .is_ok();
    ok && real
}

/// Spends what checking a password spends, for a sign-in whose email nobody has.
pub fn waste_time(password: &str) {
    matches(NONE, password);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_hash_matches_its_password_only() {
        let stored = hash("correct horse battery").unwrap();
        assert!(
            stored.starts_with("$argon2id$v=19$m=47104,t=2,p=1$"),
            "{stored}"
        );
        assert!(matches(&stored, "correct horse battery"));
        assert!(!matches(&stored, "correct horse batterz"));
        assert!(!matches(NONE, "correct horse battery"));
    }

    #[test]
    fn short_passwords_are_refused() {
        let Err(AccountError::Invalid { code, .. }) = hash("elevenchars") else {
            panic!("taken");
        };
        assert_eq!(code, "password_too_short");
        assert!(hash("twelve chars").is_ok());
    }
}
