//! Formations: the structured parts of a reply (SPEC §6). The server builds them, the widget renders them,
//! and a widget that meets an unknown kind shows `fallback_text`.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The schema version every formation carries as `v`.
pub const VERSION: u8 = 1;

/// A formation: its version, its kind-specific body, and plain text for clients that cannot render it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Formation {
    pub v: u8,
    #[serde(flatten)]
    pub body: Body,
    pub fallback_text: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Body {
    /// Product cards in a grid, carousel or list.
    Cards {
        layout: Layout,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        title: Option<String>,
        items: Vec<Item>,
    },
    /// One product with its description, images and attributes.
    Detail { item: Box<Item> },
    /// Products side by side: items as columns, attributes as rows.
    Comparison {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        title: Option<String>,
        items: Vec<Item>,
        rows: Vec<Row>,
    },
    /// Options the visitor can tap; tapping sends `text`.
    QuickReplies { options: Vec<QuickReply> },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum Layout {
    Grid,
    Carousel,
    List,
}

/// A product as a card (and, with `description`/`images`/`attributes`, as a detail).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Item {
    pub id: String,
    pub title: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subtitle: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub price: Option<Price>,
    #[serde(default)]
    pub compare_at: Option<Price>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub rating: Option<f64>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub badges: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub url: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub actions: Vec<Action>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub images: Vec<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub attributes: Vec<Attribute>,
}

/// An amount in minor units, its currency, and the text the tenant's locale shows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Price {
    pub amount: i64,
    pub currency: String,
    pub display: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Action {
    /// Open the product's `detail` formation (`GET /api/v1/products/{id}`).
    Detail,
    /// Open a URL in a new tab.
    Link { url: String },
    /// Send `text` as the visitor.
    Ask { text: String },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Attribute {
    pub name: String,
    pub value: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Row {
    pub name: String,
    pub values: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct QuickReply {
    pub label: String,
    pub text: String,
}

impl Formation {
    pub fn new(body: Body, fallback_text: String) -> Formation {
        Formation {
            v: VERSION,
            body,
            fallback_text,
        }
    }

    /// Cards with a numbered plain-text fallback (`1. Title — price`).
    pub fn cards(layout: Layout, title: Option<String>, items: Vec<Item>) -> Formation {
        let fallback = items
            .iter()
            .enumerate()
            .map(|(i, item)| match &item.price {
                Some(p) => format!("{}. {} — {}", i + 1, item.title, p.display),
                None => format!("{}. {}", i + 1, item.title),
            })
            .collect::<Vec<_>>()
            .join("\n");
        Formation::new(
            Body::Cards {
                layout,
                title,
                items,
            },
            fallback,
        )
    }

    pub fn quick_replies(options: Vec<QuickReply>) -> Formation {
        let fallback = options
            .iter()
            .map(|o| o.label.as_str())
            .collect::<Vec<_>>()
            .join(" · ");
        Formation::new(Body::QuickReplies { options }, fallback)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn cards_serialise_in_the_published_shape() {
        let f = Formation::cards(
            Layout::Grid,
            Some("Tents".into()),
            vec![Item {
                id: "p_1".into(),
                title: "Ridgeline 2 Tent".into(),
                price: Some(Price {
                    amount: 24900,
                    currency: "USD".into(),
                    display: "$249".into(),
                }),
                actions: vec![
                    Action::Detail,
                    Action::Link {
                        url: "https://shop.example/p/1".into(),
                    },
                ],
                ..Item::default()
            }],
        );
        let v = serde_json::to_value(&f).unwrap();
        assert_eq!(v["v"], 1);
        assert_eq!(v["kind"], "cards");
        assert_eq!(v["layout"], "grid");
        assert_eq!(v["items"][0]["compare_at"], json!(null));
        assert_eq!(
            v["items"][0]["actions"][1],
            json!({"kind": "link", "url": "https://shop.example/p/1"})
        );
        assert_eq!(v["fallback_text"], "1. Ridgeline 2 Tent — $249");
        let back: Formation = serde_json::from_value(v).unwrap();
        assert_eq!(back, f);
    }

    #[test]
    fn unknown_kinds_do_not_parse() {
        let v = json!({"v": 1, "kind": "hologram", "fallback_text": "x"});
        assert!(serde_json::from_value::<Formation>(v).is_err());
    }
}
