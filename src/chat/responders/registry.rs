//! Which responder answers a tenant: its provider, or the over-budget stand-in.

use std::sync::Arc;

use futures_util::StreamExt;
use futures_util::stream::{self, BoxStream};

use super::builtin::Builtin;
use super::{
    ReplyPart, Responder, ResponderError, Responders, Shared, Turn, anthropic, hook, llm, openai,
};
use crate::config::Config;
use crate::store::Db;
use crate::store::tenants::Tenant;
use crate::strings;
use crate::vocab::{OverBudget, Provider};

/// The responders of this build, chosen by each tenant's provider setting.
pub struct Registry {
    builtin: Arc<Builtin>,
    openai: Arc<dyn Responder>,
    anthropic: Arc<dyn Responder>,
    n8n: Arc<hook::Hook>,
    webhook: Arc<hook::Hook>,
}

impl Registry {
    pub fn new(db: Db, config: &Config) -> Registry {
        let shared = Arc::new(Shared::new(db.clone(), config));
        Registry {
            builtin: Arc::new(Builtin::new(db, config.public_url.clone())),
            openai: Arc::new(llm::Llm::new(shared.clone(), openai::ChatCompletions)),
            anthropic: Arc::new(llm::Llm::new(shared.clone(), anthropic::Messages)),
            n8n: Arc::new(hook::Hook::n8n(shared.clone())),
            webhook: Arc::new(hook::Hook::webhook(shared)),
        }
    }
}

impl Responders for Registry {
    fn for_tenant(&self, tenant: &Tenant, within_budget: bool) -> Arc<dyn Responder> {
        if !within_budget {
            return match tenant.limits.over_budget {
                OverBudget::Builtin => self.builtin.clone(),
                OverBudget::Message => Arc::new(OverBudgetNotice),
            };
        }
        match tenant.provider.kind {
            Provider::Builtin => self.builtin.clone(),
            Provider::Openai => self.openai.clone(),
            Provider::Anthropic => self.anthropic.clone(),
            Provider::N8n => self.n8n.clone(),
            Provider::Webhook => self.webhook.clone(),
        }
    }
}

/// Says the assistant cannot answer this month and hands the conversation to the team.
struct OverBudgetNotice;

impl Responder for OverBudgetNotice {
    fn name(&self) -> &'static str {
        "budget"
    }

    fn respond(&self, turn: Turn) -> BoxStream<'static, Result<ReplyPart, ResponderError>> {
        let text = strings::of(turn.tenant.locale).over_budget;
        stream::iter([Ok(ReplyPart::Text(text.into())), Ok(ReplyPart::Handoff)]).boxed()
    }
}
