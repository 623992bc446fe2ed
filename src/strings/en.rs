//! English.

use super::Strings;

pub const EN: Strings = Strings {
    greeting: "Hi! How can I help you today?",
    handoff_requested: "You asked for a person. A member of the team will join this chat.",
    nobody_came: "Nobody from the team could join just now. I can go on helping you here — ask for a person again any time.",
    reply_failed: "Sorry, I couldn't finish that answer. Please try again, or ask for a person.",
    shutting_down: "The server is restarting. Please send your message again in a moment.",
    over_budget: "Our assistant cannot answer right now, so I have asked a person from the team to join this chat.",
    sale: "Sale",
    price: "Price",
    brand: "Brand",
    rating: "Rating",
    language: "English",
    welcome: |shop| {
        format!(
            "Hi! I'm the {shop} assistant. Ask me about products, prices, delivery or returns — or pick a category:"
        )
    },
    thanks: "You're welcome! Ask me anytime.",
    handing_over: "Of course — I've asked a member of our team to join. They'll answer here.",
    talk_to_a_human: "Talk to a human",
    nothing_found: "I couldn't find anything for that. Could you put it in other words? I can also connect you with a person.",
    found: |n| match n {
        1 => "Here's one product that matches:".into(),
        n => format!("Here are {n} products that match:"),
    },
    under: |price| format!("under {price}"),
    from: |price| format!("from {price}"),
};
