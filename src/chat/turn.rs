//! A turn: the tenant's responder answers one visitor message, its parts stream to the
//! conversation's subscribers, and the reply is stored with its formation, timings and cost.

use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::time::Instant;

use futures_util::{FutureExt, StreamExt};

use super::bus::Topic;
use super::event::{ChatEvent, HandoffState};
use super::responders::{ReplyPart, Turn, Usage};
use super::{Engine, Inner};
use crate::formation::Formation;
use crate::store::conversations::{self, ConversationStatus, MessageStatus, NewMessage, Role};
use crate::store::tenants::Tenant;
use crate::store::{audit, inbox, usage};
use crate::strings;
use crate::sync::lock;
use crate::vocab::{Locale, Provider};

impl Engine {
    /// Runs the turn after the ones before it in its conversation; returns the reply's id.
    pub(super) fn start_turn(&self, turn: Turn) -> String {
        let reply_id = crate::token::public_id("m");
        let (inner, id) = (self.inner.clone(), reply_id.clone());
        self.inner
            .turns
            .spawn(async move { inner.run_turn(turn, id).await });
        reply_id
    }
}

impl Inner {
    async fn run_turn(self: Arc<Self>, turn: Turn, reply_id: String) {
        let conv = turn.conversation.clone();
        let turn_lock = {
            let mut locks = lock(&self.turn_locks);
            locks.entry(conv.id).or_default().clone()
        };
        {
            let _guard = turn_lock.lock().await;
            let locale = turn.tenant.locale;
            // A panic ends this turn alone: the visitor is told, and the conversation goes on.
            let answered = AssertUnwindSafe(self.answer(turn, &reply_id))
                .catch_unwind()
                .await;
            if let Err(panic) = answered {
                tracing::error!(conversation = %conv.public_id, panic = crate::sync::panic_message(&*panic), "the turn panicked");
                let topic = Topic::Conversation(conv.id);
                self.bus.publish(topic, &typing(false));
                self.bus.publish(topic, &reply_failed(&reply_id, locale));
            }
        }
        let mut locks = lock(&self.turn_locks);
        if Arc::strong_count(&turn_lock) == 2 {
            locks.remove(&conv.id);
        }
    }

    /// Whether the tenant may still spend on its LLM this month: always without a budget, and
    /// for the builtin responder, which spends nothing. The one place of the budget rule.
    async fn within_budget(&self, tenant: &Tenant) -> bool {
        let Some(budget) = tenant.limits.monthly_budget_micros else {
            return true;
        };
        if tenant.provider.kind == Provider::Builtin {
            return true;
        }
        let id = tenant.id;
        match self
            .db
            .read(move |c| usage::month_spend(c, id, crate::store::now_ms()))
            .await
        {
            Ok(spent) => spent < budget,
            Err(e) => {
                // Not knowing the spend must not silence the shop's assistant.
                tracing::warn!(tenant = %tenant.slug, error = %e, "reading the month's spend failed");
                true
            }
        }
    }

    async fn answer(&self, turn: Turn, reply_id: &str) {
        let conv = turn.conversation.clone();
        let started = Instant::now();
        let responder = self
            .responders
            .for_tenant(&turn.tenant, self.within_budget(&turn.tenant).await);
        let publish = |event: ChatEvent| {
            self.bus.publish(Topic::Conversation(conv.id), &event);
        };
        publish(typing(true));
        let mut text = String::new();
        let mut formation: Option<Formation> = None;
        let mut first_token_ms = None;
        let mut handoff = false;
        let mut usage: Option<Usage> = None;
        let mut failure = None;
        let mut parts = responder.respond(turn.clone());
        loop {
            let part = tokio::select! {
                part = parts.next() => part,
                () = self.shutdown.cancelled() => {
                    failure = Some(("shutting_down", strings::of(turn.tenant.locale).shutting_down.to_string(), true));
                    break;
                }
            };
            match part {
                None => break,
                Some(Ok(ReplyPart::Text(delta))) => {
                    first_token_ms.get_or_insert(started.elapsed().as_millis() as i64);
                    text.push_str(&delta);
                    publish(ChatEvent::Delta {
                        message_id: reply_id.to_owned(),
                        text: delta,
                    });
                }
                Some(Ok(ReplyPart::Formation(f))) => {
                    let f = *f;
                    first_token_ms.get_or_insert(started.elapsed().as_millis() as i64);
                    publish(ChatEvent::Formation {
                        message_id: reply_id.to_owned(),
                        formation: f.clone(),
                    });
                    formation = Some(f);
                }
                Some(Ok(ReplyPart::Handoff)) => handoff = true,
                Some(Ok(ReplyPart::Usage(u))) => {
                    let sum = usage.get_or_insert_default();
                    sum.prompt_tokens += u.prompt_tokens;
                    sum.completion_tokens += u.completion_tokens;
                }
                Some(Err(e)) => {
                    tracing::warn!(conversation = %conv.public_id, responder = responder.name(), error = %e, "responder failed");
                    failure = Some((
                        e.code,
                        strings::of(turn.tenant.locale).reply_failed.to_string(),
                        e.retryable,
                    ));
                    break;
                }
            }
        }
        let status = match (&failure, text.is_empty() && formation.is_none()) {
            (None, _) => MessageStatus::Complete,
            (Some(_), false) => MessageStatus::Interrupted,
            (Some(_), true) => MessageStatus::Failed,
        };
        let mut reply = NewMessage::new(Role::Assistant, text);
        reply.public_id = reply_id.to_owned();
        reply.formation = formation;
        reply.status = status;
        reply.responder = Some(responder.name().to_owned());
        reply.first_token_ms = first_token_ms;
        reply.latency_ms = Some(started.elapsed().as_millis() as i64);
        if let Some(u) = usage {
            reply.prompt_tokens = Some(u.prompt_tokens);
            reply.completion_tokens = Some(u.completion_tokens);
            reply.cost_micros = Some(
                turn.tenant
                    .provider
                    .cost_micros(u.prompt_tokens, u.completion_tokens),
            );
        }
        let (tenant_id, slug) = (turn.tenant.id, turn.tenant.slug.clone());
        let stored = {
            let conv = conv.clone();
            self.db
                .write(move |c| {
                    let m = conversations::insert(c, &conv, &reply)?;
                    if let (Some(p), Some(k), Some(cost)) = (
                        reply.prompt_tokens,
                        reply.completion_tokens,
                        reply.cost_micros,
                    ) {
                        usage::record(c, tenant_id, m.created_at, p, k, cost)?;
                    }
                    // Unless a person took it over meanwhile.
                    let now = conversations::get_for_tenant(c, tenant_id, &conv.public_id)?;
                    if handoff && now.status == ConversationStatus::Ai {
                        conversations::set_status(
                            c,
                            tenant_id,
                            conv.id,
                            ConversationStatus::WaitingHuman,
                        )?;
                        audit::record(
                            c,
                            audit::Entry {
                                tenant: Some((tenant_id, &slug)),
                                actor: "assistant",
                                action: "conversation.request_handoff",
                                target: Some(&conv.public_id),
                                details: serde_json::json!({"from": "ai", "to": "waiting_human"}),
                            },
                        )?;
                    }
                    Ok((m, inbox::row_of(c, tenant_id, conv.id)?))
                })
                .await
        };
        publish(typing(false));
        match (stored, failure) {
            (Ok((message, row)), None) => {
                if handoff && row.status == ConversationStatus::WaitingHuman {
                    publish(ChatEvent::Handoff {
                        state: HandoffState::Requested,
                        operator: None,
                        reason: None,
                    });
                }
                publish(ChatEvent::Done {
                    message_id: reply_id.to_owned(),
                    message,
                });
                self.publish_row(row);
            }
            (Ok(_), Some((code, message, retryable))) => publish(ChatEvent::Error {
                message_id: Some(reply_id.to_owned()),
                code,
                message,
                retryable,
            }),
            (Err(e), _) => {
                tracing::error!(conversation = %conv.public_id, error = %e, "storing a reply failed");
                publish(reply_failed(reply_id, turn.tenant.locale));
            }
        }
    }
}

fn typing(on: bool) -> ChatEvent {
    ChatEvent::Typing {
        role: Role::Assistant,
        on,
        name: None,
    }
}

/// The reply could not be finished or kept; the visitor may try again.
fn reply_failed(reply_id: &str, locale: Locale) -> ChatEvent {
    ChatEvent::Error {
        message_id: Some(reply_id.to_owned()),
        code: "internal",
        message: strings::of(locale).reply_failed.into(),
        retryable: true,
    }
}
