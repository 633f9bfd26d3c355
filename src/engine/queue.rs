//! The event queue: a min-heap ordered by (time, lane, insertion sequence).
//!
//! Simultaneous events come out lane by lane, and within a lane in the order
//! they were scheduled (first in, first out). Lanes exist because some
//! orderings at one instant are facts of the model rather than accidents of
//! scheduling: the traffic of a tick is counted before the scrape at the same
//! instant, and a scrape is taken before the controller reads it.

use super::time::SimTime;
use std::cmp::Ordering;
use std::collections::BinaryHeap;

struct Entry<E> {
    time: SimTime,
    lane: u8,
    seq: u64,
    event: E,
}

impl<E> PartialEq for Entry<E> {
    fn eq(&self, other: &Self) -> bool {
        self.key() == other.key()
    }
}
impl<E> Eq for Entry<E> {}
impl<E> PartialOrd for Entry<E> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl<E> Ord for Entry<E> {
    fn cmp(&self, other: &Self) -> Ordering {
        // BinaryHeap is a max-heap: reverse so the earliest key pops first.
        other.key().cmp(&self.key())
    }
}
impl<E> Entry<E> {
    fn key(&self) -> (SimTime, u8, u64) {
        (self.time, self.lane, self.seq)
    }
}

/// A deterministic priority queue of future events.
pub struct EventQueue<E> {
    heap: BinaryHeap<Entry<E>>,
    next_seq: u64,
    now: SimTime,
}

impl<E> Default for EventQueue<E> {
    fn default() -> Self {
        Self::new()
    }
}

impl<E> EventQueue<E> {
    /// An empty queue whose clock stands at zero.
    pub fn new() -> Self {
        EventQueue {
            heap: BinaryHeap::new(),
            next_seq: 0,
            now: SimTime::ZERO,
        }
    }

    /// The time of the event popped last (the simulated "now").
    pub fn now(&self) -> SimTime {
        self.now
    }

    /// Schedules `event` at `time` in `lane`. A time in the past is moved to
    /// now: the clock never goes back.
    pub fn schedule(&mut self, time: SimTime, lane: u8, event: E) {
        let time = time.max(self.now);
        let seq = self.next_seq;
        self.next_seq += 1;
        self.heap.push(Entry { time, lane, seq, event });
    }

    /// Removes and returns the earliest event, advancing the clock to it.
    pub fn pop(&mut self) -> Option<(SimTime, E)> {
        let entry = self.heap.pop()?;
        self.now = entry.time;
        Some((entry.time, entry.event))
    }

    /// The time of the next event without removing it.
    pub fn peek_time(&self) -> Option<SimTime> {
        self.heap.peek().map(|e| e.time)
    }

    /// Number of pending events.
    pub fn len(&self) -> usize {
        self.heap.len()
    }

    /// Whether no event is pending.
    pub fn is_empty(&self) -> bool {
        self.heap.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn simultaneous_events_are_fifo_within_a_lane() {
        let mut q = EventQueue::new();
        for i in 0..5 {
            q.schedule(SimTime::from_secs(1), 0, i);
        }
        let order: Vec<_> = std::iter::from_fn(|| q.pop()).map(|(_, e)| e).collect();
        assert_eq!(order, vec![0, 1, 2, 3, 4]);
    }

    #[test]
    fn lower_lane_first_at_the_same_instant() {
        let mut q = EventQueue::new();
        q.schedule(SimTime::from_secs(1), 2, "controller");
        q.schedule(SimTime::from_secs(1), 1, "scrape");
        q.schedule(SimTime::from_secs(1), 0, "traffic");
        let order: Vec<_> = std::iter::from_fn(|| q.pop()).map(|(_, e)| e).collect();
        assert_eq!(order, vec!["traffic", "scrape", "controller"]);
    }

    #[test]
    fn past_times_are_clamped_to_now() {
        let mut q = EventQueue::new();
        q.schedule(SimTime::from_secs(5), 0, 'a');
        assert_eq!(q.pop().unwrap().0, SimTime::from_secs(5));
        q.schedule(SimTime::from_secs(1), 0, 'b');
        assert_eq!(q.pop().unwrap().0, SimTime::from_secs(5));
    }

    proptest! {
        /// Whatever order events are scheduled in, they come out sorted by
        /// (time, lane) and FIFO among equal keys.
        #[test]
        fn pops_in_key_then_fifo_order(items in prop::collection::vec((0u64..20, 0u8..3), 0..200)) {
            let mut q = EventQueue::new();
            for (i, (t, lane)) in items.iter().enumerate() {
                q.schedule(SimTime(*t), *lane, i);
            }
            let mut expected: Vec<(u64, u8, usize)> =
                items.iter().enumerate().map(|(i, (t, l))| (*t, *l, i)).collect();
            expected.sort();
            let got: Vec<(u64, u8, usize)> = std::iter::from_fn(|| q.pop())
                .map(|(t, i)| (t.0, items[i].1, i))
                .collect();
            prop_assert_eq!(got, expected);
        }
    }
}
