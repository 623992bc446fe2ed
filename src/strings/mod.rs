//! What keepstar says to visitors, one file per language (like the widget's `i18n.ts`): a
//! language is one more file and one more line in [`of`].

mod en;
mod ru;

use crate::vocab::Locale;

/// Every sentence and label the server sends a visitor, in one language.
pub struct Strings {
    /// The widget's greeting when the tenant set none.
    pub greeting: &'static str,
    /// The note stored when the visitor asks for a person.
    pub handoff_requested: &'static str,
    /// The note stored when nobody from the team took over in time.
    pub nobody_came: &'static str,
    /// A reply that broke off or could not be stored.
    pub reply_failed: &'static str,
    /// A reply cut short because the server is restarting.
    pub shutting_down: &'static str,
    /// Instead of a reply once the tenant's monthly budget is spent.
    pub over_budget: &'static str,
    /// The badge on a product that is on sale.
    pub sale: &'static str,
    /// The rows of a comparison that every product has.
    pub price: &'static str,
    pub brand: &'static str,
    pub rating: &'static str,
    /// The language's English name, for a model's instructions.
    pub language: &'static str,
    /// The builtin responder's greeting, with the shop's name.
    pub welcome: fn(shop: &str) -> String,
    pub thanks: &'static str,
    /// The builtin responder hands the visitor to the team.
    pub handing_over: &'static str,
    /// The quick reply that asks for a person.
    pub talk_to_a_human: &'static str,
    pub nothing_found: &'static str,
    /// Above the cards of `n` products found.
    pub found: fn(n: usize) -> String,
    /// A price range open at the top ("under $300") or at the bottom ("from $100").
    pub under: fn(price: &str) -> String,
    pub from: fn(price: &str) -> String,
}

/// What keepstar says in `locale`.
pub fn of(locale: Locale) -> &'static Strings {
    match locale {
        Locale::En => &en::EN,
        Locale::Ru => &ru::RU,
    }
}
