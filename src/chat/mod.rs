//! The conversation engine: a visitor's message is stored, the tenant's responder answers,
//! its reply streams to every subscriber and is stored with its formation.

pub mod bus;
pub mod cards;
pub mod event;
pub mod responders;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Instant;

use futures_util::StreamExt;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

use self::bus::EventBus;
use self::event::{ChatEvent, HandoffState};
use self::responders::{ReplyPart, Responder, Turn, Usage};
use crate::formation::Formation;
use crate::store::conversations::{
    self, Conversation, ConversationStatus, Message, MessageStatus, NewMessage, Page, Role, Visitor,
};
use crate::store::tenants::{Locale, Provider, Tenant};
use crate::store::{Db, StoreError, usage};

/// Picks the responder for a tenant.
pub trait Responders: Send + Sync + 'static {
    /// The tenant's responder; `within_budget` is false once its monthly LLM budget is spent.
    fn for_tenant(&self, tenant: &Tenant, within_budget: bool) -> Arc<dyn Responder>;
}

#[derive(Clone)]
pub struct Engine {
    inner: Arc<Inner>,
}

struct Inner {
    db: Db,
    bus: Arc<dyn EventBus>,
    responders: Arc<dyn Responders>,
    /// Turns run one at a time per conversation, in the order messages arrived.
    turn_locks: Mutex<HashMap<i64, Arc<tokio::sync::Mutex<()>>>>,
    turns: TaskTracker,
    shutdown: CancellationToken,
}

/// A visitor's message as posted.
pub struct Incoming {
    pub text: String,
    pub client_id: String,
    pub conversation: Option<String>,
    pub page: Page,
}

/// What posting a message did.
pub struct Posted {
    pub message: Message,
    pub conversation: Conversation,
    /// The id the reply will carry, when this post started a turn (not on an idempotent retry).
    pub reply_id: Option<String>,
    /// The event id of the message's echo on the conversation's stream.
    pub echo_id: Option<u64>,
}

impl Engine {
    pub fn new(
        db: Db,
        bus: Arc<dyn EventBus>,
        responders: Arc<dyn Responders>,
        shutdown: CancellationToken,
    ) -> Engine {
        Engine {
            inner: Arc::new(Inner {
                db,
                bus,
                responders,
                turn_locks: Mutex::new(HashMap::new()),
                turns: TaskTracker::new(),
                shutdown,
            }),
        }
    }

    pub fn bus(&self) -> &Arc<dyn EventBus> {
        &self.inner.bus
    }

    /// Stores the visitor's message (once per `client_id`), echoes it to the conversation's
    /// subscribers, and starts the reply unless a human has the conversation.
    pub async fn post(
        &self,
        tenant: Arc<Tenant>,
        visitor: Visitor,
        incoming: Incoming,
    ) -> Result<Posted, StoreError> {
        let locale = tenant.locale.as_str();
        let page = incoming.page.clone();
        let (conversation, message, created) = self
            .inner
            .db
            .write(move |c| {
                let conv = match &incoming.conversation {
                    Some(id) => conversations::get_for_visitor(c, &visitor, id)?,
                    None => match conversations::latest_open(c, &visitor)? {
                        Some(conv) => conv,
                        None => conversations::create(c, &visitor, &incoming.page, locale)?,
                    },
                };
                if let Some(existing) =
                    conversations::find_by_client_id(c, &conv, &incoming.client_id)?
                {
                    return Ok((conv, existing, false));
                }
                let mut new = NewMessage::new(Role::Visitor, incoming.text);
                new.client_id = Some(incoming.client_id);
                let message = conversations::insert(c, &conv, &new)?;
                Ok((conv, message, true))
            })
            .await?;
        if !created {
            return Ok(Posted {
                message,
                conversation,
                reply_id: None,
                echo_id: None,
            });
        }
        let echo = self
            .inner
            .bus
            .publish(conversation.id, &ChatEvent::Message(message.clone()));
        let reply_id = (conversation.status == ConversationStatus::Ai).then(|| {
            let reply_id = crate::token::public_id("m");
            let turn = Turn {
                tenant,
                conversation: conversation.clone(),
                message_id: message.id.clone(),
                text: message.text.clone(),
                page,
            };
            let (inner, id) = (self.inner.clone(), reply_id.clone());
            self.inner
                .turns
                .spawn(async move { inner.run_turn(turn, id).await });
            reply_id
        });
        Ok(Posted {
            message,
            conversation,
            reply_id,
            echo_id: Some(echo.id),
        })
    }

    /// The visitor asks for a human: the AI stops answering and the team is told.
    pub async fn request_handoff(
        &self,
        tenant: &Tenant,
        conv: Conversation,
    ) -> Result<Message, StoreError> {
        let note = NewMessage::new(Role::System, say_handoff(tenant.locale).into());
        let (tenant_id, conv_id) = (tenant.id, conv.id);
        let message = self
            .inner
            .db
            .write(move |c| {
                if matches!(
                    conv.status,
                    ConversationStatus::Ai | ConversationStatus::Closed
                ) {
                    conversations::set_status(
                        c,
                        tenant_id,
                        conv.id,
                        ConversationStatus::WaitingHuman,
                    )?;
                }
                conversations::insert(c, &conv, &note)
            })
            .await?;
        self.inner
            .bus
            .publish(conv_id, &ChatEvent::Message(message.clone()));
        self.inner.bus.publish(
            conv_id,
            &ChatEvent::Handoff {
                state: HandoffState::Requested,
                operator: None,
            },
        );
        Ok(message)
    }

    /// Waits (up to the caller's deadline) for running turns to store what they have.
    pub async fn drain(&self) {
        self.inner.turns.close();
        self.inner.turns.wait().await;
    }
}

fn say_handoff(locale: Locale) -> &'static str {
    match locale {
        Locale::En => "You asked for a person. A member of the team will join this chat.",
        Locale::Ru => "Вы попросили позвать человека. Сотрудник подключится к этому чату.",
    }
}

impl Inner {
    async fn run_turn(self: Arc<Self>, turn: Turn, reply_id: String) {
        let conv = turn.conversation.clone();
        let lock = {
            let mut locks = self.turn_locks.lock().expect("turn locks");
            locks.entry(conv.id).or_default().clone()
        };
        {
            let _guard = lock.lock().await;
            self.answer(turn, &reply_id).await;
        }
        let mut locks = self.turn_locks.lock().expect("turn locks");
        if Arc::strong_count(&lock) == 2 {
            locks.remove(&conv.id);
        }
    }

    /// Whether the tenant may still spend on its LLM this month (always, without a budget).
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
            self.bus.publish(conv.id, &event);
        };
        publish(ChatEvent::Typing {
            role: Role::Assistant,
            on: true,
        });
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
                    failure = Some(("shutting_down", "The server is restarting. Please send your message again in a moment.".to_string(), true));
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
                        failure_text(turn.tenant.locale).to_string(),
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
        let tenant_id = turn.tenant.id;
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
                    if handoff {
                        conversations::set_status(
                            c,
                            tenant_id,
                            conv.id,
                            ConversationStatus::WaitingHuman,
                        )?;
                    }
                    Ok(m)
                })
                .await
        };
        publish(ChatEvent::Typing {
            role: Role::Assistant,
            on: false,
        });
        match (stored, failure) {
            (Ok(message), None) => {
                if handoff {
                    publish(ChatEvent::Handoff {
                        state: HandoffState::Requested,
                        operator: None,
                    });
                }
                publish(ChatEvent::Done {
                    message_id: reply_id.to_owned(),
                    message,
                });
            }
            (Ok(_), Some((code, message, retryable))) => publish(ChatEvent::Error {
                message_id: Some(reply_id.to_owned()),
                code,
                message,
                retryable,
            }),
            (Err(e), _) => {
                tracing::error!(conversation = %conv.public_id, error = %e, "storing a reply failed");
                publish(ChatEvent::Error {
                    message_id: Some(reply_id.to_owned()),
                    code: "internal",
                    message: failure_text(turn.tenant.locale).into(),
                    retryable: true,
                });
            }
        }
    }
}

fn failure_text(locale: Locale) -> &'static str {
    match locale {
        Locale::En => {
            "Sorry, I couldn't finish that answer. Please try again, or ask for a person."
        }
        Locale::Ru => {
            "Извините, не получилось ответить. Попробуйте ещё раз или позовите сотрудника."
        }
    }
}
