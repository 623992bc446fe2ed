//! The built-in responder: offline and deterministic. Answers FAQ questions from the knowledge base,
//! finds products in the catalog (word forms, price phrases, categories, brands), greets, and offers
//! a human when it cannot help. English and Russian.

mod understand;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use futures_util::stream::{self, BoxStream};

use self::understand::{Intent, Understood, understand};
use super::{ReplyPart, Responder, ResponderError, Turn};
use crate::chat::cards;
use crate::formation::{Formation, QuickReply};
use crate::money;
use crate::store::catalog::{self, Product, Search};
use crate::store::kb::{self, KbEntry};
use crate::store::tenants::Tenant;
use crate::store::{Db, StoreError, analytics};
use crate::strings;
use crate::sync::lock;
use crate::text;
use crate::vocab::Locale;

/// Cards shown for one search.
const CARDS: usize = 6;
/// Share of the visitor's words an FAQ entry must contain to be given as the answer.
const FAQ_CONFIDENCE: f64 = 0.5;

/// How long a tenant's categories and brands are reused before they are read again
/// (a catalog import shows up in replies within this time).
const FACETS_FRESH: Duration = Duration::from_secs(30);

/// A tenant's categories and brands.
type Facets = Arc<(Vec<String>, Vec<String>)>;

pub struct Builtin {
    shared: Arc<Shared>,
}

struct Shared {
    db: Db,
    /// keepstar's public URL, to make site-relative image paths absolute.
    base_url: String,
    facets: Mutex<HashMap<i64, (Instant, Facets)>>,
}

impl Builtin {
    pub fn new(db: Db, base_url: String) -> Builtin {
        Builtin {
            shared: Arc::new(Shared {
                db,
                base_url,
                facets: Mutex::default(),
            }),
        }
    }
}

impl Shared {
    /// The tenant's facets, read at most every [`FACETS_FRESH`] (every search needs them).
    async fn facets(&self, tenant_id: i64) -> Result<Facets, StoreError> {
        if let Some((at, facets)) = lock(&self.facets).get(&tenant_id)
            && at.elapsed() < FACETS_FRESH
        {
            return Ok(facets.clone());
        }
        let facets: Facets = Arc::new(self.db.read(move |c| catalog::facets(c, tenant_id)).await?);
        lock(&self.facets).insert(tenant_id, (Instant::now(), facets.clone()));
        Ok(facets)
    }
}

impl Responder for Builtin {
    fn name(&self) -> &'static str {
        "builtin"
    }

    fn respond(&self, turn: Turn) -> BoxStream<'static, Result<ReplyPart, ResponderError>> {
        let shared = self.shared.clone();
        stream::once(async move { answer(&shared, &turn).await })
            .flat_map(|result| match result {
                Ok(parts) => stream::iter(parts.into_iter().map(Ok)).boxed(),
                Err(e) => stream::iter([Err(ResponderError {
                    code: "store_failed",
                    message: e.to_string(),
                    retryable: true,
                })])
                .boxed(),
            })
            .boxed()
    }
}

/// The reply's text in a few pieces, so it streams like any other responder's.
fn streamed(text: &str) -> Vec<ReplyPart> {
    let mut parts = Vec::new();
    let mut piece = String::new();
    for (i, word) in text.split_inclusive(' ').enumerate() {
        piece.push_str(word);
        if i % 4 == 3 {
            parts.push(ReplyPart::Text(std::mem::take(&mut piece)));
        }
    }
    if !piece.is_empty() {
        parts.push(ReplyPart::Text(piece));
    }
    parts
}

async fn answer(shared: &Shared, turn: &Turn) -> Result<Vec<ReplyPart>, StoreError> {
    let (db, base_url) = (&shared.db, shared.base_url.as_str());
    let tenant = turn.tenant.clone();
    let locale = tenant.locale;
    let say = strings::of(locale);
    let understood = understand(&turn.text);
    let mut parts;
    match understood.intent {
        Intent::Greeting => {
            let facets = shared.facets(tenant.id).await?;
            let categories = &facets.0;
            parts = streamed(&(say.welcome)(&tenant.name));
            if !categories.is_empty() {
                parts.push(ReplyPart::Formation(Box::new(category_chips(categories))));
            }
        }
        Intent::Thanks => parts = streamed(say.thanks),
        Intent::Human => {
            parts = streamed(say.handing_over);
            parts.push(ReplyPart::Handoff);
        }
        Intent::Search => {
            let facets = shared.facets(tenant.id).await?;
            let found = {
                let (tenant, understood) = (tenant.clone(), understood.clone());
                db.read(move |c| find(c, &tenant, &understood, &facets))
                    .await?
            };
            parts = match found {
                Found::Faq(entry) => streamed(&entry.body),
                Found::Products { products, title } => {
                    let (id, query, n) = (tenant.id, turn.text.clone(), products.len());
                    db.write(move |c| analytics::search_made(c, id, &query, n))
                        .await?;
                    let mut p = streamed(&(say.found)(products.len()));
                    p.push(ReplyPart::Formation(Box::new(cards::cards(
                        &products, title, locale, base_url,
                    ))));
                    p
                }
                Found::Nothing { categories } => {
                    let (id, query) = (tenant.id, turn.text.clone());
                    db.write(move |c| analytics::search_made(c, id, &query, 0))
                        .await?;
                    let mut p = streamed(say.nothing_found);
                    let mut chips = vec![QuickReply {
                        label: say.talk_to_a_human.into(),
                        text: say.talk_to_a_human.into(),
                    }];
                    chips.extend(categories.iter().take(3).map(|c| QuickReply {
                        label: c.clone(),
                        text: c.clone(),
                    }));
                    p.push(ReplyPart::Formation(Box::new(Formation::quick_replies(
                        chips,
                    ))));
                    p
                }
            };
        }
    }
    Ok(parts)
}

fn category_chips(categories: &[String]) -> Formation {
    Formation::quick_replies(
        categories
            .iter()
            .take(4)
            .map(|c| QuickReply {
                label: c.clone(),
                text: c.clone(),
            })
            .collect(),
    )
}

enum Found {
    Faq(KbEntry),
    Products {
        products: Vec<Product>,
        title: Option<String>,
    },
    Nothing {
        categories: Vec<String>,
    },
}

/// The facet whose every stem is among the visitor's terms (the longest such name wins).
fn facet_in(names: &[String], terms: &[String]) -> Option<(String, Vec<String>)> {
    names
        .iter()
        .map(|name| (name, text::terms(name)))
        .filter(|(_, stems)| !stems.is_empty() && stems.iter().all(|s| terms.contains(s)))
        .max_by_key(|(_, stems)| stems.len())
        .map(|(name, stems)| (name.clone(), stems))
}

fn find(
    c: &rusqlite::Connection,
    tenant: &Tenant,
    u: &Understood,
    facets: &Facets,
) -> Result<Found, StoreError> {
    let (categories, brands) = (&facets.0, &facets.1);
    let mut terms = u.terms.clone();
    let category = facet_in(categories, &terms);
    let brand = facet_in(brands, &terms);
    for (_, stems) in category.iter().chain(brand.iter()) {
        terms.retain(|t| !stems.contains(t));
    }
    let to_minor = |major: Option<f64>| major.map(|m| money::major_to_minor(m, &tenant.currency));
    let filtered =
        category.is_some() || brand.is_some() || u.min_price.is_some() || u.max_price.is_some();

    // An FAQ entry answers when it holds enough of the visitor's words.
    let faq = kb::search(c, tenant.id, &u.terms, 3)?
        .into_iter()
        .map(|e| {
            let matched = u.terms.iter().filter(|t| e.terms.contains(t)).count();
            (matched, e)
        })
        .max_by_key(|(matched, _)| *matched)
        .filter(|(matched, _)| {
            *matched as f64 >= FAQ_CONFIDENCE * u.terms.len() as f64 && *matched > 0
        });
    if let Some((matched, entry)) = &faq
        && u.question
        && !filtered
        && *matched >= 2
    {
        return Ok(Found::Faq(entry.clone()));
    }

    if !terms.is_empty() || filtered {
        let mut search = Search {
            terms: terms.clone(),
            any_term: false,
            min_price: to_minor(u.min_price),
            max_price: to_minor(u.max_price),
            category: category.as_ref().map(|c| c.0.clone()),
            brand: brand.as_ref().map(|b| b.0.clone()),
            limit: CARDS,
        };
        let mut products = catalog::search(c, tenant.id, &search)?;
        if products.is_empty() && terms.len() > 1 {
            search.any_term = true;
            products = catalog::search(c, tenant.id, &search)?;
        }
        if products.is_empty() && filtered && !terms.is_empty() {
            // Words we do not know ("cheap", "nice") must not hide what the filters find.
            search.terms.clear();
            products = catalog::search(c, tenant.id, &search)?;
        }
        if !products.is_empty() {
            let title = title(category.map(|c| c.0), u, &tenant.currency, tenant.locale);
            return Ok(Found::Products { products, title });
        }
    }
    if let Some((_, entry)) = faq {
        return Ok(Found::Faq(entry));
    }
    Ok(Found::Nothing {
        categories: categories.clone(),
    })
}

/// "Tents under $300", "Палатки до 15 000 ₽", "$100 – $300".
fn title(
    category: Option<String>,
    u: &Understood,
    currency: &str,
    locale: Locale,
) -> Option<String> {
    let show =
        |major: f64| money::display(money::major_to_minor(major, currency), currency, locale);
    let say = strings::of(locale);
    let range = match (u.min_price, u.max_price) {
        (Some(lo), Some(hi)) => Some(format!("{} – {}", show(lo), show(hi))),
        (None, Some(hi)) => Some((say.under)(&show(hi))),
        (Some(lo), None) => Some((say.from)(&show(lo))),
        (None, None) => None,
    };
    match (category, range) {
        (Some(c), Some(r)) => Some(format!("{c} {r}")),
        (Some(c), None) => Some(c),
        (None, Some(r)) => {
            let mut chars = r.chars();
            chars
                .next()
                .map(|f| f.to_uppercase().chain(chars).collect())
        }
        (None, None) => None,
    }
}
