//! A conversation's event stream as a subscriber receives it: what it missed (from the bus's
//! buffer, or from stored messages when the buffer no longer reaches back), then live events.

use std::sync::Arc;

use futures_util::stream::{self, Stream, StreamExt};

use super::bus::{LiveEvents, Subscription, Topic};
use super::event::{ChatEvent, Envelope, EventKind};
use super::{ChatError, Engine, Posted};
use crate::store::conversations::{self, Conversation};

/// One event as a subscriber receives it.
#[derive(Debug, Clone)]
pub struct Delivery {
    /// The stream position to resume after; none for a stored message that fills a gap.
    pub id: Option<u64>,
    pub kind: EventKind,
    pub data: Arc<str>,
    /// The tenant an inbox event belongs to.
    pub tenant: Option<i64>,
}

impl Delivery {
    fn live(envelope: &Envelope) -> Delivery {
        Delivery {
            id: Some(envelope.id),
            kind: envelope.kind,
            data: envelope.data.clone(),
            tenant: envelope.tenant,
        }
    }

    pub(super) fn unnumbered(event: &ChatEvent) -> Delivery {
        Delivery {
            id: None,
            kind: event.kind(),
            data: event.data().into(),
            tenant: event.tenant(),
        }
    }
}

impl Engine {
    /// The conversation's events after `last_event_id` (none: from now on), then live ones until
    /// the server shuts down or the subscriber falls too far behind (it resumes with the id of
    /// the last event it got).
    pub async fn subscribe(
        &self,
        conv: &Conversation,
        last_event_id: Option<u64>,
    ) -> Result<impl Stream<Item = Delivery> + Send + 'static, ChatError> {
        let sub = self
            .inner
            .bus
            .subscribe(Topic::Conversation(conv.id), last_event_id)
            .await;
        let mut missed = Vec::new();
        if let (true, Some(last)) = (sub.gap, last_event_id) {
            // The live buffer does not reach back that far (or the server restarted): send what
            // was stored since (ids are send times in µs), as whole messages; the widget drops
            // any it already has from that same millisecond.
            let since_ms = (last / 1000) as i64;
            let (tenant_id, conv_id) = (conv.tenant_id, conv.id);
            missed = self
                .inner
                .db
                .read(move |c| conversations::since(c, tenant_id, conv_id, since_ms))
                .await?
                .into_iter()
                .map(|m| Delivery::unnumbered(&ChatEvent::Message(m)))
                .collect();
        }
        Ok(stream::iter(missed).chain(self.follow(sub, None)))
    }

    /// The events of the turn a post started, from the message's echo to the reply's `done` or
    /// `error`; just the message when the post started no turn.
    pub async fn follow_turn(
        &self,
        posted: Posted,
    ) -> impl Stream<Item = Delivery> + Send + 'static {
        let (Some(reply_id), Some(echo_id)) = (posted.reply_id, posted.echo_id) else {
            // A retry of a stored message, or a person has the conversation.
            let echo = Delivery::unnumbered(&ChatEvent::Message(posted.message));
            return stream::iter([echo]).left_stream();
        };
        let sub = self
            .inner
            .bus
            .subscribe(
                Topic::Conversation(posted.conversation.id),
                Some(echo_id - 1),
            )
            .await;
        self.follow(sub, Some(reply_id)).right_stream()
    }

    /// The replay and then the live feed, until shutdown, a lag, or the end of `until_reply`.
    pub(super) fn follow(
        &self,
        sub: Subscription,
        until_reply: Option<String>,
    ) -> impl Stream<Item = Delivery> + Send + 'static + use<> {
        struct Feed {
            replay: std::vec::IntoIter<Arc<Envelope>>,
            live: LiveEvents,
            shutdown: tokio_util::sync::CancellationToken,
            until_reply: Option<String>,
            finished: bool,
        }
        let feed = Feed {
            replay: sub.replay.into_iter(),
            live: sub.live,
            shutdown: self.inner.shutdown.clone(),
            until_reply,
            finished: false,
        };
        stream::unfold(feed, |mut f| async move {
            if f.finished {
                return None;
            }
            let envelope = match f.replay.next() {
                Some(e) => e,
                None => tokio::select! {
                    received = f.live.next() => received?.ok()?,
                    () = f.shutdown.cancelled() => return None,
                },
            };
            if matches!(envelope.kind, EventKind::Done | EventKind::Error)
                && f.until_reply.is_some()
                && envelope.message_id.as_deref() == f.until_reply.as_deref()
            {
                f.finished = true;
            }
            Some((Delivery::live(&envelope), f))
        })
    }
}
