//! The product's words that every layer shares: a tenant's locale, its provider, where its
//! launcher sits, what happens once its budget is spent, and a secret that never prints. The
//! bottom layer: it uses nothing of keepstar's, and how each word is stored, parsed from the
//! command line or shown is the business of the layer that does so.

use std::fmt;

use serde::{Deserialize, Serialize};

/// Words with a fixed set of names, as stored, typed on the command line and sent to widgets.
pub trait Named: Sized + Copy + 'static {
    /// What one of them is called, for errors ("locale", "provider").
    const WHAT: &'static str;
    const ALL: &'static [Self];
    fn as_str(self) -> &'static str;
    /// The one called `name`, if any.
    fn from_name(name: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|v| v.as_str() == name)
    }
}

macro_rules! named {
    ($(#[$doc:meta])* $name:ident, $what:literal { $($(#[$vdoc:meta])* $variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
        #[serde(rename_all = "lowercase")]
        pub enum $name { $($(#[$vdoc])* $variant),+ }

        impl Named for $name {
            const WHAT: &'static str = $what;
            const ALL: &'static [Self] = &[$($name::$variant),+];
            fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }
        }

        impl $name {
            pub fn as_str(self) -> &'static str {
                Named::as_str(self)
            }
        }
    };
}

named!(
    /// The language a tenant's widget and built-in replies use.
    Locale, "locale" { En = "en", Ru = "ru" }
);

impl Locale {
    /// The locale a language code names, if keepstar speaks it.
    pub fn from_code(code: &str) -> Option<Locale> {
        Locale::from_name(code)
    }

    /// The currency a tenant starts with when none is given.
    pub fn default_currency(self) -> &'static str {
        match self {
            Locale::En => "USD",
            Locale::Ru => "RUB",
        }
    }
}

named!(
    /// Who answers a tenant's visitors (SPEC §8).
    Provider, "provider" {
        Builtin = "builtin",
        Openai = "openai",
        Anthropic = "anthropic",
        N8n = "n8n",
        Webhook = "webhook",
    }
);

named!(
    /// What a tenant's visitors get once its monthly LLM budget is spent.
    OverBudget, "over-budget choice" {
        /// Answers from the catalog and FAQ, offline.
        Builtin = "builtin",
        /// A short notice and the offer of a person.
        Message = "message",
    }
);

named!(
    /// The side of the page the widget's launcher sits on.
    Position, "position" { Right = "right", Left = "left" }
);

named!(
    /// What a member of the team may do in the admin: an owner everything, an operator the
    /// conversations and inbox of the tenants named for them.
    Role, "role" { Owner = "owner", Operator = "operator" }
);

/// A secret value: redacted in `Debug`, so it cannot reach a log by accident.
#[derive(Clone, PartialEq, Eq, Deserialize)]
#[serde(transparent)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: String) -> Secret {
        Secret(value)
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret([redacted])")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_word_reads_back_from_its_name_and_nothing_else_does() {
        for l in Locale::ALL {
            assert_eq!(Locale::from_name(l.as_str()), Some(*l));
        }
        for p in Provider::ALL {
            assert_eq!(Provider::from_name(p.as_str()), Some(*p));
        }
        assert_eq!(Provider::from_name("gemini"), None);
        assert_eq!(Locale::from_code("de"), None);
    }

    #[test]
    fn a_secret_never_prints() {
        assert_eq!(
            format!("{:?}", Secret::new("hunter2hunter2".into())),
            "Secret([redacted])"
        );
    }
}
