//! What an LLM is told: the tenant's instructions, the knowledge-base passages that match the
//! visitor's words, and the conversation so far.

use super::{ResponderError, Turn};
use crate::store::Db;
use crate::store::conversations::{self, MessageStatus, Role};
use crate::store::kb;
use crate::store::tenants::Tenant;
use crate::strings;
use crate::text;

/// Messages of the conversation the model sees.
const HISTORY: i64 = 20;
/// Knowledge-base passages put into the prompt.
const PASSAGES: usize = 3;
/// Characters of one passage.
const PASSAGE_CHARS: usize = 1500;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Speaker {
    Visitor,
    Assistant,
}

#[derive(Debug, Clone)]
pub struct Said {
    pub speaker: Speaker,
    pub text: String,
}

#[derive(Debug, Clone)]
pub struct Prompt {
    pub system: String,
    /// Oldest first; the last is the visitor's message being answered.
    pub history: Vec<Said>,
}

impl Prompt {
    /// Characters the prompt holds, for estimating tokens when the provider does not count them.
    pub fn chars(&self) -> usize {
        self.system.chars().count()
            + self
                .history
                .iter()
                .map(|s| s.text.chars().count())
                .sum::<usize>()
    }
}

fn instructions(tenant: &Tenant) -> String {
    let language = strings::of(tenant.locale).language;
    format!(
        "You are the shop assistant of {name}, chatting with a visitor of its website. \
         Answer in {language} unless the visitor writes in another language. Be brief and friendly. \
         Use search_products to find products and never invent products, prices or policies; \
         prices are in {currency}. Products you find are shown to the visitor as cards, so do not \
         repeat their details in text. Use handoff_to_human when the visitor asks for a person \
         or you cannot help.",
        name = tenant.name,
        currency = tenant.currency,
    )
}

/// The prompt for `turn`: instructions, matching kb passages, and the conversation up to the
/// visitor's message.
pub async fn build(db: &Db, turn: &Turn) -> Result<Prompt, ResponderError> {
    let mut system = instructions(&turn.tenant);
    if let Some(own) = turn.tenant.provider.system_prompt.as_deref() {
        system.push_str("\n\n");
        system.push_str(own);
    }
    let (tenant_id, conv, message_id) = (
        turn.tenant.id,
        turn.conversation.clone(),
        turn.message_id.clone(),
    );
    let terms = text::terms(&turn.text);
    let (passages, messages) = db
        .read(move |c| {
            let passages = kb::search(c, tenant_id, &terms, PASSAGES)?;
            let (messages, _) = conversations::history(c, &conv, None, HISTORY)?;
            Ok((passages, messages))
        })
        .await
        .map_err(|e| ResponderError {
            code: "store_failed",
            message: e.to_string(),
            retryable: true,
        })?;
    if !passages.is_empty() {
        system
            .push_str("\n\nFrom the shop's knowledge base (use it when it answers the question):");
        for p in passages {
            let body: String = p.body.chars().take(PASSAGE_CHARS).collect();
            system.push_str(&format!("\n\n## {}\n{}", p.title, body));
        }
    }
    // Messages that arrived after this one are answered by their own turns.
    let end = messages
        .iter()
        .position(|m| m.id == message_id)
        .map_or(messages.len(), |i| i + 1);
    let history = messages[..end]
        .iter()
        .filter(|m| m.status != MessageStatus::Failed)
        .filter_map(|m| {
            let speaker = match m.role {
                Role::Visitor => Speaker::Visitor,
                Role::Assistant | Role::Operator => Speaker::Assistant,
                Role::System => return None,
            };
            let text = if m.text.is_empty() {
                m.formation.as_ref()?.fallback_text.clone()
            } else {
                m.text.clone()
            };
            Some(Said { speaker, text })
        })
        .collect();
    Ok(Prompt { system, history })
}
