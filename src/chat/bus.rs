//! The event bus: per-conversation fan-out with a bounded replay buffer for `Last-Event-ID`.
//! In-process today; the trait is the seam for a multi-node bus (SPEC §11).

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use tokio::sync::broadcast;

use super::event::{ChatEvent, Envelope};

/// What a subscriber gets: events to replay, whether older ones were lost from the buffer
/// (then the caller falls back to stored history), and the live feed.
pub struct Subscription {
    pub replay: Vec<Arc<Envelope>>,
    /// The events after `last_event_id` are not all in `replay`.
    pub gap: bool,
    pub live: broadcast::Receiver<Arc<Envelope>>,
}

pub trait EventBus: Send + Sync + 'static {
    /// Sends an event to the conversation's subscribers; returns it as sent.
    fn publish(&self, conversation: i64, event: &ChatEvent) -> Arc<Envelope>;
    /// Subscribes to a conversation, replaying what came after `last_event_id`.
    fn subscribe(&self, conversation: i64, last_event_id: Option<u64>) -> Subscription;
    /// The id of the conversation's latest event (or now, when it has none in memory): resuming
    /// from it replays everything sent afterwards.
    fn position(&self, conversation: i64) -> u64;
    /// Forgets conversations nobody listens to and nothing was sent on for `idle_us`.
    fn sweep(&self, idle_us: u64);
}

/// Events kept per conversation for resuming streams. A reply longer than this that is resumed
/// from its start still ends whole: its `done` event carries the complete stored message.
const BUFFER: usize = 256;
/// Live events a slow subscriber may fall behind before its stream is ended (it resumes from the buffer).
const LIVE: usize = 256;

pub fn now_us() -> u64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_micros() as u64)
        .unwrap_or_default()
}

struct Channel {
    sender: broadcast::Sender<Arc<Envelope>>,
    buffer: VecDeque<Arc<Envelope>>,
    last_id: u64,
    /// Every event with an id up to this one may be missing from `buffer`.
    forgotten_up_to: u64,
}

impl Channel {
    fn new() -> Channel {
        let now = now_us();
        Channel {
            sender: broadcast::channel(LIVE).0,
            buffer: VecDeque::new(),
            last_id: now,
            // A channel created now knows nothing that was sent before it.
            forgotten_up_to: now,
        }
    }
}

#[derive(Default)]
pub struct InProcessBus {
    channels: Mutex<HashMap<i64, Channel>>,
}

impl EventBus for InProcessBus {
    fn publish(&self, conversation: i64, event: &ChatEvent) -> Arc<Envelope> {
        let data: Arc<str> = event.data().into();
        let mut channels = self.channels.lock().expect("bus lock");
        let ch = channels.entry(conversation).or_insert_with(Channel::new);
        ch.last_id = now_us().max(ch.last_id + 1);
        let envelope = Arc::new(Envelope {
            id: ch.last_id,
            name: event.name(),
            data,
            message_id: event.message_id().map(Arc::from),
        });
        if ch.buffer.len() == BUFFER
            && let Some(old) = ch.buffer.pop_front()
        {
            ch.forgotten_up_to = old.id;
        }
        ch.buffer.push_back(envelope.clone());
        // No receivers is fine: nobody is watching this conversation right now.
        let _ = ch.sender.send(envelope.clone());
        envelope
    }

    fn subscribe(&self, conversation: i64, last_event_id: Option<u64>) -> Subscription {
        let mut channels = self.channels.lock().expect("bus lock");
        let ch = channels.entry(conversation).or_insert_with(Channel::new);
        // Taken under the same lock as the snapshot: nothing falls between replay and live.
        let live = ch.sender.subscribe();
        match last_event_id {
            None => Subscription {
                replay: Vec::new(),
                gap: false,
                live,
            },
            Some(last) => Subscription {
                replay: ch.buffer.iter().filter(|e| e.id > last).cloned().collect(),
                gap: last < ch.forgotten_up_to,
                live,
            },
        }
    }

    fn position(&self, conversation: i64) -> u64 {
        let channels = self.channels.lock().expect("bus lock");
        channels
            .get(&conversation)
            .map_or_else(now_us, |ch| ch.last_id)
    }

    fn sweep(&self, idle_us: u64) {
        let cutoff = now_us().saturating_sub(idle_us);
        self.channels
            .lock()
            .expect("bus lock")
            .retain(|_, ch| ch.sender.receiver_count() > 0 || ch.last_id > cutoff);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::conversations::Role;

    fn typing(on: bool) -> ChatEvent {
        ChatEvent::Typing {
            role: Role::Assistant,
            on,
        }
    }

    #[test]
    fn ids_increase_and_resume_replays_exactly_what_followed() {
        let bus = InProcessBus::default();
        let ids: Vec<u64> = (0..5)
            .map(|i| bus.publish(7, &typing(i % 2 == 0)).id)
            .collect();
        assert!(ids.windows(2).all(|w| w[0] < w[1]));
        let sub = bus.subscribe(7, Some(ids[2]));
        assert!(!sub.gap);
        assert_eq!(
            sub.replay.iter().map(|e| e.id).collect::<Vec<_>>(),
            &ids[3..]
        );
        let fresh = bus.subscribe(7, None);
        assert!(fresh.replay.is_empty());
    }

    #[test]
    fn live_events_reach_every_subscriber() {
        let bus = InProcessBus::default();
        let mut a = bus.subscribe(1, None).live;
        let mut b = bus.subscribe(1, None).live;
        let sent = bus.publish(1, &typing(true));
        assert_eq!(a.try_recv().unwrap().id, sent.id);
        assert_eq!(b.try_recv().unwrap().id, sent.id);
        let mut other = bus.subscribe(2, None).live;
        bus.publish(1, &typing(false));
        assert!(
            other.try_recv().is_err(),
            "events stay in their conversation"
        );
    }

    #[test]
    fn a_resume_from_before_the_buffer_reports_a_gap() {
        let bus = InProcessBus::default();
        let first = bus.publish(3, &typing(true)).id;
        let second = bus.publish(3, &typing(true)).id;
        for _ in 0..BUFFER {
            bus.publish(3, &typing(false));
        }
        assert!(
            !bus.subscribe(3, Some(second)).gap,
            "everything after `second` is still buffered"
        );
        let sub = bus.subscribe(3, Some(first));
        assert!(sub.gap, "the event after `first` was evicted");
        assert_eq!(sub.replay.len(), BUFFER);
        // An id from before this process (a restart) is a gap too.
        assert!(bus.subscribe(9, Some(1)).gap);
    }

    #[test]
    fn sweep_forgets_idle_unwatched_conversations() {
        let bus = InProcessBus::default();
        bus.publish(1, &typing(true));
        let _watching = bus.subscribe(2, None);
        bus.sweep(0);
        let channels = bus.channels.lock().unwrap();
        assert!(!channels.contains_key(&1));
        assert!(channels.contains_key(&2));
    }
}
