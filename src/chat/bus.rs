//! The event bus: per-topic fan-out with a bounded replay buffer for `Last-Event-ID`. A topic
//! is one conversation's stream, or the team's inbox (every tenant's conversation changes and
//! notes, each event marked with its tenant and filtered per member where it is delivered).
//! [`EventBus`] is the seam for a bus across machines (SPEC §11); [`InProcessBus`] is the one
//! a single node uses.
//!
//! A topic's recent events live in one buffer. Live subscribers read it from their own
//! position and are woken by a [`Notify`], so a conversation costs its buffer and a few words,
//! with nothing allocated up front or per subscriber. Once a reply has been `done` for
//! [`KEEP_PARTS_US`] and every subscriber has read past it, its deltas, formation and typing
//! events leave the buffer (the `done` event carries the complete stored message), and so do
//! the whole messages before it when nothing else is left: a resume from before them gets
//! stored history, as after a restart. An idle conversation then holds no events at all.

use std::collections::{HashMap, VecDeque};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{SystemTime, UNIX_EPOCH};

use futures_util::future::{self, BoxFuture, FutureExt};
use futures_util::stream::{self, BoxStream, StreamExt};
use tokio::sync::Notify;

use super::event::{ChatEvent, Envelope, EventKind};
use crate::sync::lock;

/// What a subscriber follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Topic {
    /// One conversation's stream: what its visitor and the team watching it see.
    Conversation(i64),
    /// The team's inbox: a conversation changed, a note was added.
    Inbox,
}

/// A subscriber's live feed: every event published after it subscribed, in order, until it
/// falls so far behind that the events after its position are gone ([`Lagged`], then it ends).
pub type LiveEvents = BoxStream<'static, Result<Arc<Envelope>, Lagged>>;

/// What a subscriber gets: events to replay, whether older ones were lost from the buffer
/// (then the caller falls back to stored history), and the live feed.
pub struct Subscription {
    pub replay: Vec<Arc<Envelope>>,
    /// The events after `last_event_id` are not all in `replay`.
    pub gap: bool,
    pub live: LiveEvents,
}

/// Carries a conversation's events to everyone watching it. Publishing answers at once (the
/// reply's parts must not wait on the network); subscribing and asking for the position may.
pub trait EventBus: Send + Sync + 'static {
    /// Sends an event to the topic's subscribers; returns it as sent.
    fn publish(&self, topic: Topic, event: &ChatEvent) -> Arc<Envelope>;
    /// Subscribes to a topic, replaying what came after `last_event_id`.
    fn subscribe(
        &self,
        topic: Topic,
        last_event_id: Option<u64>,
    ) -> BoxFuture<'static, Subscription>;
    /// The id of the topic's latest event (or now, when it has none in memory): resuming from it
    /// replays everything sent afterwards.
    fn position(&self, topic: Topic) -> BoxFuture<'static, u64>;
    /// Forgets events older than `idle_us`, and topics nobody listens to and nothing was sent
    /// on for that long; drops the parts of replies finished a while ago.
    fn sweep(&self, idle_us: u64);
}

/// Events kept per conversation for resuming streams and for subscribers that fall behind. A
/// reply longer than this that is resumed from its start still ends whole: its `done` event
/// carries the complete stored message.
const BUFFER: usize = 256;
/// How long a finished reply's parts stay buffered, so a stream that drops mid-reply and comes
/// back on the widget's first retries (0.5–4 s) resumes exactly where it was.
pub const KEEP_PARTS_US: u64 = 10_000_000;

pub fn now_us() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_micros() as u64)
        .unwrap_or_default()
}

/// The live subscriber fell so far behind that the events after its position left the buffer;
/// it resumes with `Last-Event-ID` (and gets stored history for what it missed).
#[derive(Debug, PartialEq, Eq)]
pub struct Lagged;

/// One subscriber's place in a conversation's buffer.
struct Live {
    channel: Arc<Channel>,
    /// This subscriber among the channel's readers.
    reader: u64,
}

impl Live {
    /// The next event, waiting for it when there is none yet.
    async fn recv(&self) -> Result<Arc<Envelope>, Lagged> {
        loop {
            // Registered before looking, so a publish in between still wakes us.
            let notified = self.channel.wake.notified();
            let mut notified = std::pin::pin!(notified);
            notified.as_mut().enable();
            if let Some(event) = self.try_recv()? {
                return Ok(event);
            }
            notified.await;
        }
    }

    /// The next event if there is one already.
    fn try_recv(&self) -> Result<Option<Arc<Envelope>>, Lagged> {
        let mut state = self.channel.state();
        let Some(at) = state.readers.iter().position(|r| r.0 == self.reader) else {
            return Err(Lagged);
        };
        let position = state.readers[at].1;
        if position < state.forgotten_up_to {
            return Err(Lagged);
        }
        let next = state.buffer.partition_point(|e| e.id <= position);
        let Some(event) = state.buffer.get(next).cloned() else {
            return Ok(None);
        };
        state.readers[at].1 = event.id;
        state.compact(self.channel.keep_parts_us);
        Ok(Some(event))
    }

    /// The feed as a stream that ends after telling the subscriber it lagged.
    fn into_stream(self) -> LiveEvents {
        stream::unfold(Some(self), |live| async move {
            let live = live?;
            match live.recv().await {
                Ok(event) => Some((Ok(event), Some(live))),
                Err(Lagged) => Some((Err(Lagged), None)),
            }
        })
        .boxed()
    }
}

impl Drop for Live {
    fn drop(&mut self) {
        let mut state = self.channel.state();
        state.readers.retain(|r| r.0 != self.reader);
        state.compact(self.channel.keep_parts_us);
    }
}

/// Tells subscribers apart within a conversation.
static READERS: AtomicU64 = AtomicU64::new(0);

struct Channel {
    state: Mutex<State>,
    wake: Notify,
    keep_parts_us: u64,
}

impl Channel {
    fn new(keep_parts_us: u64) -> Channel {
        let now = now_us();
        Channel {
            state: Mutex::new(State {
                buffer: VecDeque::new(),
                last_id: now,
                // A channel created now knows nothing that was sent before it.
                forgotten_up_to: now,
                readers: Vec::new(),
                finished: None,
            }),
            wake: Notify::new(),
            keep_parts_us,
        }
    }

    fn state(&self) -> MutexGuard<'_, State> {
        lock(&self.state)
    }
}

struct State {
    buffer: VecDeque<Arc<Envelope>>,
    last_id: u64,
    /// Every event with an id up to this one may be missing from `buffer`.
    forgotten_up_to: u64,
    /// The live subscribers and the id of the last event each has.
    readers: Vec<(u64, u64)>,
    /// The id of the latest `done` while the parts of its reply are still buffered.
    finished: Option<u64>,
}

impl State {
    /// Drops finished replies' deltas and formations, and typing events, from before the latest
    /// `done` once it is `keep_parts_us` old and no subscriber still has to read them: whoever
    /// resumes from before a `done` gets the whole stored message there, or, when only whole
    /// messages are left before it, from stored history (the events are forgotten).
    fn compact(&mut self, keep_parts_us: u64) {
        let Some(done) = self.finished else {
            return;
        };
        // Ids are send times in µs.
        if now_us() < done.saturating_add(keep_parts_us) || self.readers.iter().any(|r| r.1 < done)
        {
            return;
        }
        let finished: Vec<Arc<str>> = self
            .buffer
            .iter()
            .filter(|e| e.kind == EventKind::Done)
            .filter_map(|e| e.message_id.clone())
            .collect();
        self.buffer.retain(|e| {
            let superseded = e.kind == EventKind::Typing
                || (matches!(e.kind, EventKind::Delta | EventKind::Formation)
                    && e.message_id
                        .as_ref()
                        .is_some_and(|id| finished.contains(id)));
            e.id >= done || !superseded
        });
        // What is left up to the `done` is then often just whole messages, which stored history
        // gives a resume just as well: no need to hold them.
        if self
            .buffer
            .iter()
            .take_while(|e| e.id <= done)
            .all(|e| matches!(e.kind, EventKind::Message | EventKind::Done))
        {
            self.forget_up_to(done);
        }
        if self.buffer.capacity() > 2 * self.buffer.len().max(8) {
            self.buffer.shrink_to_fit();
        }
        self.finished = None;
    }

    /// Forgets the buffered events up to `id`.
    fn forget_up_to(&mut self, id: u64) {
        while self.buffer.front().is_some_and(|e| e.id <= id) {
            if let Some(old) = self.buffer.pop_front() {
                self.forgotten_up_to = self.forgotten_up_to.max(old.id);
            }
        }
    }
}

pub struct InProcessBus {
    /// Publishing, subscribing and sweeping hold this lock (then the conversation's own), so a
    /// conversation is never swept between finding it and using it; live reads only take the
    /// conversation's.
    channels: Mutex<HashMap<Topic, Arc<Channel>>>,
    keep_parts_us: u64,
}

impl Default for InProcessBus {
    fn default() -> InProcessBus {
        InProcessBus::keeping_parts_for(KEEP_PARTS_US)
    }
}

impl InProcessBus {
    /// A bus that keeps finished replies' parts for `keep_parts_us` (see [`KEEP_PARTS_US`]).
    pub fn keeping_parts_for(keep_parts_us: u64) -> InProcessBus {
        InProcessBus {
            channels: Mutex::default(),
            keep_parts_us,
        }
    }

    fn channel(
        &self,
        topic: Topic,
    ) -> (MutexGuard<'_, HashMap<Topic, Arc<Channel>>>, Arc<Channel>) {
        let mut channels = self.channels();
        let ch = channels
            .entry(topic)
            .or_insert_with(|| Arc::new(Channel::new(self.keep_parts_us)))
            .clone();
        (channels, ch)
    }

    /// [`EventBus::subscribe`], which in one process needs no waiting.
    pub fn subscribe_now(&self, topic: Topic, last_event_id: Option<u64>) -> Subscription {
        let (_channels, ch) = self.channel(topic);
        let reader = READERS.fetch_add(1, Ordering::Relaxed);
        let mut state = ch.state();
        state.compact(ch.keep_parts_us);
        // The live feed starts after the snapshot, under the same lock: nothing falls between.
        let last_id = state.last_id;
        state.readers.push((reader, last_id));
        let (replay, gap) = match last_event_id {
            None => (Vec::new(), false),
            Some(last) => (
                state
                    .buffer
                    .iter()
                    .filter(|e| e.id > last)
                    .cloned()
                    .collect(),
                last < state.forgotten_up_to,
            ),
        };
        drop(state);
        Subscription {
            replay,
            gap,
            live: Live {
                channel: ch,
                reader,
            }
            .into_stream(),
        }
    }

    fn channels(&self) -> MutexGuard<'_, HashMap<Topic, Arc<Channel>>> {
        lock(&self.channels)
    }
}

impl EventBus for InProcessBus {
    fn publish(&self, topic: Topic, event: &ChatEvent) -> Arc<Envelope> {
        let mut envelope = Envelope::new(0, event);
        // Held until the event is in: a sweep cannot drop the topic in between.
        let (_channels, ch) = self.channel(topic);
        let mut state = ch.state();
        state.last_id = now_us().max(state.last_id + 1);
        envelope.id = state.last_id;
        let envelope = Arc::new(envelope);
        if state.buffer.len() == BUFFER
            && let Some(old) = state.buffer.pop_front()
        {
            state.forgotten_up_to = old.id;
        }
        state.buffer.push_back(envelope.clone());
        if envelope.kind == EventKind::Done {
            state.finished = Some(envelope.id);
        }
        state.compact(ch.keep_parts_us);
        drop(state);
        ch.wake.notify_waiters();
        envelope
    }

    fn subscribe(
        &self,
        topic: Topic,
        last_event_id: Option<u64>,
    ) -> BoxFuture<'static, Subscription> {
        future::ready(self.subscribe_now(topic, last_event_id)).boxed()
    }

    fn position(&self, topic: Topic) -> BoxFuture<'static, u64> {
        let position = self
            .channels()
            .get(&topic)
            .map_or_else(now_us, |ch| ch.state().last_id);
        future::ready(position).boxed()
    }

    fn sweep(&self, idle_us: u64) {
        let cutoff = now_us().saturating_sub(idle_us);
        self.channels().retain(|_, ch| {
            let mut state = ch.state();
            state.forget_up_to(cutoff);
            state.compact(ch.keep_parts_us);
            !state.readers.is_empty() || state.last_id > cutoff
        });
    }
}

#[cfg(test)]
mod tests {
    use super::Topic::Conversation;
    use super::*;
    use crate::store::conversations::Role;

    /// The next live event if one is there already.
    fn try_recv(live: &mut LiveEvents) -> Result<Option<Arc<Envelope>>, Lagged> {
        match live.next().now_or_never() {
            None => Ok(None),
            Some(Some(event)) => event.map(Some),
            Some(None) => Err(Lagged),
        }
    }

    fn typing(on: bool) -> ChatEvent {
        ChatEvent::Typing {
            role: Role::Assistant,
            on,
            name: None,
        }
    }

    fn delta(reply: &str) -> ChatEvent {
        ChatEvent::Delta {
            message_id: reply.into(),
            text: "piece".into(),
        }
    }

    fn message(id: &str, role: Role) -> crate::store::conversations::Message {
        crate::store::conversations::Message {
            id: id.into(),
            conversation_id: "c1".into(),
            role,
            text: "whole".into(),
            formation: None,
            status: crate::store::conversations::MessageStatus::Complete,
            client_id: None,
            operator_name: None,
            created_at: 0,
        }
    }

    fn done(reply: &str) -> ChatEvent {
        ChatEvent::Done {
            message_id: reply.into(),
            message: message(reply, Role::Assistant),
        }
    }

    fn names(events: &[Arc<Envelope>]) -> Vec<&'static str> {
        events.iter().map(|e| e.kind.as_str()).collect()
    }

    #[test]
    fn ids_increase_and_resume_replays_exactly_what_followed() {
        let bus = InProcessBus::keeping_parts_for(0);
        let ids: Vec<u64> = (0..5)
            .map(|i| bus.publish(Conversation(7), &typing(i % 2 == 0)).id)
            .collect();
        assert!(ids.windows(2).all(|w| w[0] < w[1]));
        let sub = bus.subscribe_now(Conversation(7), Some(ids[2]));
        assert!(!sub.gap);
        assert_eq!(
            sub.replay.iter().map(|e| e.id).collect::<Vec<_>>(),
            &ids[3..]
        );
        let fresh = bus.subscribe_now(Conversation(7), None);
        assert!(fresh.replay.is_empty());
    }

    #[test]
    fn live_events_reach_every_subscriber_in_order() {
        let bus = InProcessBus::keeping_parts_for(0);
        let mut a = bus.subscribe_now(Conversation(1), None).live;
        let mut b = bus.subscribe_now(Conversation(1), None).live;
        let first = bus.publish(Conversation(1), &typing(true));
        let second = bus.publish(Conversation(1), &typing(false));
        for live in [&mut a, &mut b] {
            assert_eq!(try_recv(live).unwrap().unwrap().id, first.id);
            assert_eq!(try_recv(live).unwrap().unwrap().id, second.id);
            assert_eq!(try_recv(live), Ok(None));
        }
        let mut other = bus.subscribe_now(Conversation(2), None).live;
        bus.publish(Conversation(1), &typing(true));
        assert_eq!(
            try_recv(&mut other),
            Ok(None),
            "events stay in their conversation"
        );
    }

    #[tokio::test]
    async fn a_waiting_subscriber_wakes_for_the_next_event() {
        let bus = Arc::new(InProcessBus::keeping_parts_for(0));
        let mut live = bus.subscribe_now(Conversation(4), None).live;
        let waiting = tokio::spawn(async move { live.next().await.unwrap().map(|e| e.id) });
        tokio::task::yield_now().await;
        let sent = bus.publish(Conversation(4), &typing(true));
        assert_eq!(waiting.await.unwrap(), Ok(sent.id));
    }

    #[test]
    fn a_subscriber_that_falls_behind_the_buffer_is_told_so() {
        let bus = InProcessBus::keeping_parts_for(0);
        let mut slow = bus.subscribe_now(Conversation(5), None).live;
        bus.publish(Conversation(5), &typing(true));
        assert!(try_recv(&mut slow).unwrap().is_some());
        for _ in 0..BUFFER {
            bus.publish(Conversation(5), &typing(false));
        }
        assert!(
            try_recv(&mut slow).unwrap().is_some(),
            "the buffer still holds everything after its position"
        );
        let mut slower = bus.subscribe_now(Conversation(5), None).live;
        bus.publish(Conversation(5), &typing(true));
        bus.publish(Conversation(5), &typing(true));
        assert_eq!(try_recv(&mut slow), Err(Lagged));
        assert!(try_recv(&mut slower).unwrap().is_some());
    }

    #[test]
    fn a_resume_from_before_the_buffer_reports_a_gap() {
        let bus = InProcessBus::keeping_parts_for(0);
        let first = bus.publish(Conversation(3), &typing(true)).id;
        let second = bus.publish(Conversation(3), &typing(true)).id;
        for _ in 0..BUFFER {
            bus.publish(Conversation(3), &typing(false));
        }
        assert!(
            !bus.subscribe_now(Conversation(3), Some(second)).gap,
            "everything after `second` is still buffered"
        );
        let sub = bus.subscribe_now(Conversation(3), Some(first));
        assert!(sub.gap, "the event after `first` was evicted");
        assert_eq!(sub.replay.len(), BUFFER);
        // An id from before this process (a restart) is a gap too.
        assert!(bus.subscribe_now(Conversation(9), Some(1)).gap);
    }

    #[test]
    fn a_subscriber_behind_a_finished_reply_still_reads_every_part() {
        let bus = InProcessBus::keeping_parts_for(0);
        let echo = bus.publish(
            Conversation(6),
            &ChatEvent::Message(message("m0", Role::Visitor)),
        );
        let mut behind = bus.subscribe_now(Conversation(6), Some(echo.id)).live;
        bus.publish(Conversation(6), &typing(true));
        bus.publish(Conversation(6), &delta("m1"));
        bus.publish(Conversation(6), &delta("m1"));
        bus.publish(Conversation(6), &typing(false));
        let done = bus.publish(Conversation(6), &done("m1"));
        let mut seen = Vec::new();
        while let Some(e) = try_recv(&mut behind).unwrap() {
            seen.push(e);
        }
        assert_eq!(names(&seen), ["typing", "delta", "delta", "typing", "done"]);
        // Now that it has read them, the reply is left to stored history.
        let resumed = bus.subscribe_now(Conversation(6), Some(echo.id - 1));
        assert!(resumed.gap, "a resume from before the reply reads history");
        assert!(resumed.replay.is_empty());
        let current = bus.subscribe_now(Conversation(6), Some(done.id));
        assert!(!current.gap, "a resume from the done is whole");
    }

    #[test]
    fn events_stored_history_cannot_give_stay_buffered() {
        let bus = InProcessBus::keeping_parts_for(0);
        let start = bus.publish(
            Conversation(8),
            &ChatEvent::Message(message("v1", Role::Visitor)),
        );
        bus.publish(Conversation(8), &typing(true));
        bus.publish(Conversation(8), &delta("m1"));
        bus.publish(
            Conversation(8),
            &ChatEvent::Error {
                message_id: Some("m1".into()),
                code: "upstream",
                message: "Sorry".into(),
                retryable: true,
            },
        );
        bus.publish(
            Conversation(8),
            &ChatEvent::Message(message("v2", Role::Visitor)),
        );
        bus.publish(Conversation(8), &typing(true));
        bus.publish(Conversation(8), &delta("m2"));
        bus.publish(Conversation(8), &typing(false));
        bus.publish(Conversation(8), &done("m2"));
        let sub = bus.subscribe_now(Conversation(8), Some(start.id - 1));
        assert!(!sub.gap);
        assert_eq!(
            names(&sub.replay),
            ["message", "delta", "error", "message", "done"],
            "the failed reply's text and error stay; the finished reply's parts go"
        );
    }

    #[test]
    fn sweep_forgets_old_events_and_idle_unwatched_conversations() {
        let bus = InProcessBus::keeping_parts_for(0);
        bus.publish(Conversation(1), &typing(true));
        let watching = bus.subscribe_now(Conversation(2), None);
        let old = bus.publish(Conversation(2), &typing(true)).id;
        bus.sweep(0);
        assert!(!bus.channels().contains_key(&Conversation(1)));
        assert!(bus.channels().contains_key(&Conversation(2)));
        let resumed = bus.subscribe_now(Conversation(2), Some(old - 1));
        assert!(
            resumed.gap,
            "the swept event is gone: stored history fills in"
        );
        assert!(resumed.replay.is_empty());
        let mut live = watching.live;
        assert_eq!(try_recv(&mut live), Err(Lagged));
    }
}
