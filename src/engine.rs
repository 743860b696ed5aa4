//! The event queue: a radix heap of events ordered by (time, insertion sequence).
//!
//! Guarantees:
//! - events come out in non-decreasing time;
//! - events scheduled for the same time come out first in, first out (the sequence number
//!   breaks ties), so a run never depends on the heap's internal layout;
//! - an event is never scheduled before the last one taken out (simulated time is monotone),
//!   which is what lets a radix heap replace a binary heap;
//! - no allocation per event once the heap has grown to its working size, and no dynamic
//!   dispatch: the event type is a plain generic parameter, usually a small `enum`.
//!
//! The queue is deliberately small. The simulation loop in [`crate::sim`] owns one, and feeds
//! arrivals that are already in time order straight from their source instead of through the
//! heap.

use crate::time::SimTime;

/// The key of an event: its time in the high 64 bits, its insertion sequence in the low 64, so
/// keys are unique and ordered by (time, sequence).
type Key = u128;

#[inline]
fn key(time: SimTime, seq: u64) -> Key {
    (u128::from(time.0) << 64) | u128::from(seq)
}

/// The bucket of `key` when the last key taken out is `last`: the position of the highest bit
/// in which they differ, plus one (1..=128 for a key other than `last`).
#[inline]
fn bucket(key: Key, last: Key) -> usize {
    (128 - (key ^ last).leading_zeros()) as usize
}

/// Events whose keys first differ from the last key taken out at the same bit.
struct Bucket<E> {
    items: Vec<(Key, E)>,
    /// The least key in `items` (`Key::MAX` when empty).
    min: Key,
}

/// A priority queue of events keyed by (time, insertion sequence).
///
/// A radix heap: simulated time never goes back, so every event pushed comes after the last one
/// taken out, and events can be kept in 128 buckets by the highest bit in which their key
/// differs from that last key. A push appends to a bucket in O(1); a pop takes the least key of
/// the lowest non-empty bucket and spreads the rest of that bucket over lower buckets, each
/// event moving down at most once per bit, so O(log d) amortised for an event scheduled `d`
/// nanoseconds ahead, whatever the number of pending events. (A binary heap pays O(log n)
/// with a cache miss per level at the 90,000 pending departures of a 100,000-container
/// cluster; BENCHMARKS.md compares the two.) Each bucket keeps its least key, so the earliest
/// time is known without taking anything out ([`peek_time`](Self::peek_time)), as the run loop
/// needs to compare it with the next arrival's before processing either.
pub struct EventQueue<E> {
    /// Bucket `b` (1..=128) at index `b - 1`.
    buckets: Vec<Bucket<E>>,
    /// Bit `b - 1` set when bucket `b` is not empty.
    occupied: u128,
    /// The earliest event once a pop has found it (its key equals `last`).
    front: Option<(Key, E)>,
    /// The key of the last event taken out (or found as the minimum).
    last: Key,
    len: usize,
    next_seq: u64,
}

impl<E> Default for EventQueue<E> {
    fn default() -> Self {
        Self::new()
    }
}

impl<E> EventQueue<E> {
    pub fn new() -> Self {
        EventQueue {
            buckets: (0..128)
                .map(|_| Bucket {
                    items: Vec::new(),
                    min: Key::MAX,
                })
                .collect(),
            occupied: 0,
            front: None,
            last: 0,
            len: 0,
            next_seq: 0,
        }
    }

    /// A queue for about `capacity` pending events. The buckets grow as needed and keep their
    /// buffers, so this is the same as [`new`](Self::new); it is kept for callers that size
    /// their queues.
    pub fn with_capacity(_capacity: usize) -> Self {
        Self::new()
    }

    /// Schedules `event` at `time`. Events at equal times come out in the order they went in.
    /// `time` must not be before the last event taken out (simulated time does not go back).
    #[inline]
    pub fn push(&mut self, time: SimTime, event: E) {
        let seq = self.next_seq;
        self.next_seq += 1;
        let k = key(time, seq);
        debug_assert!(k >= self.last, "an event scheduled in the past");
        self.put(k, event);
        self.len += 1;
    }

    #[inline]
    fn put(&mut self, k: Key, event: E) {
        if k == self.last {
            // Only the very first event can have the key of the (initial) last key: time 0,
            // sequence 0; it is the earliest there can be.
            self.front = Some((k, event));
            return;
        }
        let b = bucket(k, self.last);
        let slot = &mut self.buckets[b - 1];
        slot.items.push((k, event));
        slot.min = slot.min.min(k);
        self.occupied |= 1 << (b - 1);
    }

    /// The time of the earliest event, if any.
    #[inline]
    pub fn peek_time(&self) -> Option<SimTime> {
        let k = match &self.front {
            Some((k, _)) => *k,
            None if self.occupied == 0 => return None,
            None => self.buckets[self.occupied.trailing_zeros() as usize].min,
        };
        Some(SimTime((k >> 64) as u64))
    }

    /// Removes and returns the earliest event.
    #[inline]
    pub fn pop(&mut self) -> Option<(SimTime, E)> {
        if self.front.is_none() {
            if self.occupied == 0 {
                return None;
            }
            let lowest = self.occupied.trailing_zeros() as usize;
            self.occupied &= !(1 << lowest);
            let bucket = &mut self.buckets[lowest];
            if bucket.items.len() == 1 {
                // Alone in its bucket: it is the earliest, nothing to spread.
                let (k, e) = bucket.items.pop()?;
                bucket.min = Key::MAX;
                self.last = k;
                self.len -= 1;
                return Some((SimTime((k >> 64) as u64), e));
            }
            let mut items = std::mem::take(&mut self.buckets[lowest].items);
            self.last = std::mem::replace(&mut self.buckets[lowest].min, Key::MAX);
            for (k, e) in items.drain(..) {
                if k == self.last {
                    self.front = Some((k, e));
                } else {
                    self.put(k, e);
                }
            }
            // The bucket keeps its buffer for the events it will hold next.
            self.buckets[lowest].items = items;
        }
        let (k, e) = self.front.take()?;
        self.len -= 1;
        Some((SimTime((k >> 64) as u64), e))
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pops_in_time_order_and_fifo_on_ties() {
        let mut q = EventQueue::new();
        q.push(SimTime(30), "c");
        q.push(SimTime(10), "a1");
        q.push(SimTime(20), "b");
        q.push(SimTime(10), "a2");
        q.push(SimTime(10), "a3");
        let order: Vec<_> = std::iter::from_fn(|| q.pop()).collect();
        assert_eq!(
            order,
            vec![
                (SimTime(10), "a1"),
                (SimTime(10), "a2"),
                (SimTime(10), "a3"),
                (SimTime(20), "b"),
                (SimTime(30), "c")
            ]
        );
    }

    /// Against a sorted reference, on a simulation-like pattern: each pop schedules new events
    /// at or after its own time (many at equal times), with peeks in between.
    #[test]
    fn agrees_with_a_sorted_reference() {
        use rand::{RngExt, SeedableRng};
        let mut rng = rand_xoshiro::Xoshiro256PlusPlus::seed_from_u64(7);
        let mut q = EventQueue::with_capacity(4);
        let mut reference: std::collections::BTreeMap<(u64, u64), u32> = Default::default();
        let mut seq = 0u64;
        let mut now = 0u64;
        let mut push =
            |q: &mut EventQueue<u32>, r: &mut std::collections::BTreeMap<_, _>, t: u64, v| {
                q.push(SimTime(t), v);
                r.insert((t, seq), v);
                seq += 1;
            };
        push(&mut q, &mut reference, 0, 0);
        for i in 1..200 {
            push(&mut q, &mut reference, rng.random_range(0..1_000), i);
        }
        for step in 0..100_000u32 {
            assert_eq!(q.len(), reference.len());
            let expected = reference.keys().next().map(|k| SimTime(k.0));
            assert_eq!(q.peek_time(), expected);
            let Some((t, v)) = q.pop() else { break };
            let ((rt, _), rv) = reference.pop_first().unwrap();
            assert_eq!((t, v), (SimTime(rt), rv), "step {step}");
            assert!(t.0 >= now);
            now = t.0;
            for _ in 0..rng.random_range(0..3u32) {
                let ahead = match rng.random_range(0..4u32) {
                    0 => 0,
                    1 => rng.random_range(0..10),
                    2 => rng.random_range(0..1_000_000),
                    _ => rng.random_range(0..u64::from(u32::MAX)),
                };
                push(&mut q, &mut reference, now + ahead, step);
            }
        }
    }

    #[test]
    fn peek_reports_earliest() {
        let mut q = EventQueue::new();
        assert_eq!(q.peek_time(), None);
        q.push(SimTime(5), 1);
        q.push(SimTime(3), 2);
        assert_eq!(q.peek_time(), Some(SimTime(3)));
        assert_eq!(q.len(), 2);
    }
}
