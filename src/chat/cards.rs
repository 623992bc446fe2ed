//! Products as formation items, cards and details, priced for the tenant's locale.

use crate::formation::{Action, Attribute, Body, Formation, Item, Layout, Price, Row};
use crate::money;
use crate::store::catalog::Product;
use crate::strings;
use crate::vocab::Locale;

/// Makes a site-relative image path absolute: the widget renders on the shop's own origin.
fn absolute(base_url: &str, link: &Option<String>) -> Option<String> {
    link.as_ref().map(|l| {
        if l.starts_with('/') {
            format!("{base_url}{l}")
        } else {
            l.clone()
        }
    })
}

fn price(amount: Option<i64>, currency: &str, locale: Locale) -> Option<Price> {
    amount.map(|amount| Price {
        amount,
        currency: currency.to_owned(),
        display: money::display(amount, currency, locale),
    })
}

/// A product as a card.
pub fn item(p: &Product, locale: Locale, base_url: &str) -> Item {
    let subtitle = [p.brand.as_deref(), p.category.as_deref()]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" · ");
    let on_sale = matches!((p.compare_at, p.price), (Some(was), Some(now)) if was > now);
    let mut actions = vec![Action::Detail];
    if let Some(url) = &p.url {
        actions.push(Action::Link { url: url.clone() });
    }
    Item {
        id: p.public_id.clone(),
        title: p.title.clone(),
        subtitle: (!subtitle.is_empty()).then_some(subtitle),
        image: absolute(base_url, &p.image),
        price: price(p.price, &p.currency, locale),
        compare_at: if on_sale {
            price(p.compare_at, &p.currency, locale)
        } else {
            None
        },
        rating: p.rating,
        badges: if on_sale {
            vec![strings::of(locale).sale.into()]
        } else {
            Vec::new()
        },
        url: p.url.clone(),
        actions,
        ..Item::default()
    }
}

/// Products as cards: a grid for a few, a carousel for more.
pub fn cards(
    products: &[Product],
    title: Option<String>,
    locale: Locale,
    base_url: &str,
) -> Formation {
    let layout = if products.len() <= 4 {
        Layout::Grid
    } else {
        Layout::Carousel
    };
    let items = products.iter().map(|p| item(p, locale, base_url)).collect();
    Formation::cards(layout, title, items)
}

/// One product with its description, image and attributes.
pub fn detail(p: &Product, locale: Locale, base_url: &str) -> Formation {
    let mut item = item(p, locale, base_url);
    item.actions.retain(|a| !matches!(a, Action::Detail));
    item.description = Some(p.description.clone()).filter(|d| !d.is_empty());
    item.images = item.image.iter().cloned().collect();
    item.attributes = p
        .attributes
        .iter()
        .map(|(name, value)| Attribute {
            name: humanize(name),
            value: attribute_text(locale)(value),
        })
        .filter(|a| !a.value.is_empty())
        .collect();
    let mut fallback = item.title.clone();
    if let Some(p) = &item.price {
        fallback.push_str(&format!(" — {}", p.display));
    }
    if let Some(d) = &item.description {
        fallback.push_str(&format!("\n{d}"));
    }
    Formation::new(
        Body::Detail {
            item: Box::new(item),
        },
        fallback,
    )
}

/// Products side by side: price, brand, rating and every attribute any of them has.
pub fn comparison(products: &[Product], locale: Locale, base_url: &str) -> Formation {
    let items: Vec<Item> = products.iter().map(|p| item(p, locale, base_url)).collect();
    let say = strings::of(locale);
    let (price, brand, rating) = (say.price, say.brand, say.rating);
    let mut rows = vec![
        Row {
            name: price.into(),
            values: items
                .iter()
                .map(|i| {
                    i.price
                        .as_ref()
                        .map(|p| p.display.clone())
                        .unwrap_or_default()
                })
                .collect(),
        },
        Row {
            name: brand.into(),
            values: products
                .iter()
                .map(|p| p.brand.clone().unwrap_or_default())
                .collect(),
        },
        Row {
            name: rating.into(),
            values: products
                .iter()
                .map(|p| p.rating.map(|r| format!("{r:.1}")).unwrap_or_default())
                .collect(),
        },
    ];
    let mut keys: Vec<&String> = Vec::new();
    for p in products {
        for k in p.attributes.keys() {
            if !keys.contains(&k) {
                keys.push(k);
            }
        }
    }
    for key in keys {
        rows.push(Row {
            name: humanize(key),
            values: products
                .iter()
                .map(|p| {
                    p.attributes
                        .get(key)
                        .map(attribute_text(locale))
                        .unwrap_or_default()
                })
                .collect(),
        });
    }
    rows.retain(|r| r.values.iter().any(|v| !v.is_empty()));
    let fallback = rows
        .iter()
        .map(|r| format!("{}: {}", r.name, r.values.join(" | ")))
        .collect::<Vec<_>>()
        .join("\n");
    let header = items
        .iter()
        .map(|i| i.title.as_str())
        .collect::<Vec<_>>()
        .join(" | ");
    Formation::new(
        Body::Comparison {
            title: None,
            items,
            rows,
        },
        format!("{header}\n{fallback}"),
    )
}

/// An attribute's value as the locale writes it (`true` → "yes" / "да").
fn attribute_text(locale: Locale) -> impl Fn(&serde_json::Value) -> String {
    move |value| match value {
        serde_json::Value::String(s) => s.clone(),
        serde_json::Value::Number(n) => n.to_string(),
        serde_json::Value::Bool(b) => match (b, locale) {
            (true, Locale::En) => "yes".into(),
            (false, Locale::En) => "no".into(),
            (true, Locale::Ru) => "да".into(),
            (false, Locale::Ru) => "нет".into(),
        },
        _ => String::new(),
    }
}

/// `weight_g` → `Weight g`.
fn humanize(key: &str) -> String {
    let spaced = key.replace('_', " ");
    let mut chars = spaced.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => spaced,
    }
}
