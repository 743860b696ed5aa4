//! Routing: which ready container a request goes to.
//!
//! One rule per balancer, written once and used by both the simulation
//! ([`crate::cluster::model`]) and live replay (`live/replay.rs`):
//! - `round_robin`: the ready containers in turn, in the order they became ready;
//! - `least_connections`: the container with the fewest requests in service plus queued, the
//!   one that became ready first on ties;
//! - `random`: one chosen uniformly at random;
//! - `power_of_two`: two distinct containers chosen at random, the second kept only when it
//!   holds strictly fewer requests than the first;
//! - `shared_queue` does not route: one queue feeds every free slot.
//!
//! Guarantees: the choice depends only on the candidates' loads, their order, the cursor and
//! the random stream given, so a run is reproducible; `random` and `power_of_two` draw from the
//! stream exactly as documented above (one draw, or two), whatever the cluster's size.

use crate::rng::SimRng;
use rand::RngExt;

/// How requests are spread over containers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Balancer {
    /// One FIFO queue in front of every slot of every ready container (M/G/c).
    SharedQueue,
    /// Each container has its own FIFO queue; containers are chosen in turn.
    RoundRobin,
    /// The container with the fewest requests in service or queued (the one ready first on
    /// ties).
    LeastConnections,
    /// A container chosen uniformly at random.
    Random,
    /// Two containers chosen at random; the one with fewer requests (power of two choices).
    PowerOfTwo,
}

/// The candidates of a routing decision: the ready containers, in the order they became
/// ready.
pub trait Backends {
    /// How many candidates there are (at least one when asked to choose).
    fn count(&self) -> usize;

    /// Requests in service plus queued at candidate `i`.
    fn load(&self, i: usize) -> u64;

    /// The first of the least loaded candidates. The default scans every candidate; a model
    /// that keeps its loads indexed answers the same in O(log n).
    fn least_loaded(&self) -> usize {
        let mut best = 0;
        let mut best_load = self.load(0);
        for i in 1..self.count() {
            let l = self.load(i);
            if l < best_load {
                best = i;
                best_load = l;
            }
        }
        best
    }
}

/// A balancer's own state: the round-robin cursor and the random stream.
pub struct Router {
    next: usize,
    rng: SimRng,
}

impl Router {
    pub fn new(rng: SimRng) -> Self {
        Router { next: 0, rng }
    }

    /// Starts round robin again from the first candidate (live replay does when the set of
    /// containers changes).
    pub fn restart(&mut self) {
        self.next = 0;
    }
}

impl Balancer {
    pub const NAMES: &'static str =
        "\"shared_queue\", \"round_robin\", \"least_connections\", \"random\" or \"power_of_two\"";

    pub fn parse(name: &str) -> Option<Balancer> {
        Some(match name {
            "shared_queue" => Balancer::SharedQueue,
            "round_robin" => Balancer::RoundRobin,
            "least_connections" => Balancer::LeastConnections,
            "random" => Balancer::Random,
            "power_of_two" => Balancer::PowerOfTwo,
            _ => return None,
        })
    }

    pub fn name(self) -> &'static str {
        match self {
            Balancer::SharedQueue => "shared_queue",
            Balancer::RoundRobin => "round_robin",
            Balancer::LeastConnections => "least_connections",
            Balancer::Random => "random",
            Balancer::PowerOfTwo => "power_of_two",
        }
    }

    /// The index of the candidate a request goes to (`backends` is not empty; the shared
    /// queue does not route).
    #[inline]
    pub fn choose<B: Backends + ?Sized>(self, router: &mut Router, backends: &B) -> usize {
        let n = backends.count();
        debug_assert!(n > 0, "routing needs a ready container");
        match self {
            Balancer::RoundRobin => {
                let i = if router.next < n {
                    router.next
                } else {
                    router.next % n
                };
                router.next = if i + 1 == n { 0 } else { i + 1 };
                i
            }
            Balancer::LeastConnections => backends.least_loaded(),
            Balancer::Random => router.rng.random_range(0..n),
            Balancer::PowerOfTwo => {
                if n == 1 {
                    return 0;
                }
                let i = router.rng.random_range(0..n);
                let mut j = router.rng.random_range(0..n - 1);
                if j >= i {
                    j += 1;
                }
                if backends.load(j) < backends.load(i) {
                    j
                } else {
                    i
                }
            }
            Balancer::SharedQueue => unreachable!("the shared queue does not route"),
        }
    }
}

/// The least loaded of a changing set of candidates, earliest position first on ties, in
/// O(1) per query and O(log n) per change: a tournament tree (a complete binary tree whose
/// every node holds the smaller of its children) over positions `0..capacity`, each leaf the
/// key `load << 32 | position`, or empty.
///
/// Positions are handed out in increasing order ([`LeastLoaded::insert`]); when they run
/// out, the occupied ones are renumbered `0..n` in their order (and the capacity doubled
/// when over half full), so the order of positions stays the order of insertion and each
/// insertion costs O(1) amortized.
#[derive(Clone, Debug)]
pub struct LeastLoaded {
    /// `nodes[1]` is the root; the leaves are `nodes[capacity..2 * capacity]`.
    nodes: Vec<u64>,
    /// The item at each position (`u32::MAX` when empty).
    items: Vec<u32>,
    capacity: usize,
    next: usize,
    len: usize,
}

const EMPTY: u64 = u64::MAX;
const POSITION_BITS: u32 = 32;

impl Default for LeastLoaded {
    fn default() -> Self {
        Self::new()
    }
}

impl LeastLoaded {
    pub fn new() -> Self {
        LeastLoaded::with_capacity(16)
    }

    fn with_capacity(capacity: usize) -> Self {
        let capacity = capacity.next_power_of_two().max(2);
        LeastLoaded {
            nodes: vec![EMPTY; 2 * capacity],
            items: vec![u32::MAX; capacity],
            capacity,
            next: 0,
            len: 0,
        }
    }

    pub fn len(&self) -> usize {
        self.len
    }

    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The least loaded item, the earliest inserted on ties.
    #[inline]
    pub fn least(&self) -> Option<u32> {
        let root = self.nodes[1];
        (root != EMPTY).then(|| self.items[(root & u64::from(u32::MAX)) as usize])
    }

    /// Adds `item` with `load` after every item present; returns its position. The positions
    /// of the other items may change: `moved` is called with (item, new position) for each
    /// item renumbered.
    pub fn insert(&mut self, item: u32, load: u64, mut moved: impl FnMut(u32, u32)) -> u32 {
        if self.next == self.capacity {
            self.renumber(&mut moved);
        }
        let pos = self.next;
        self.next += 1;
        self.len += 1;
        self.items[pos] = item;
        self.set(pos as u32, load);
        pos as u32
    }

    /// Removes the item at `pos`.
    pub fn remove(&mut self, pos: u32) {
        self.items[pos as usize] = u32::MAX;
        self.len -= 1;
        self.write(pos as usize, EMPTY);
    }

    /// Sets the load of the item at `pos`.
    #[inline]
    pub fn set(&mut self, pos: u32, load: u64) {
        debug_assert!(load < 1 << 32, "a load fits in 32 bits");
        self.write(pos as usize, load << POSITION_BITS | u64::from(pos));
    }

    #[inline]
    fn write(&mut self, pos: usize, key: u64) {
        let mut i = self.capacity + pos;
        self.nodes[i] = key;
        while i > 1 {
            i >>= 1;
            let m = self.nodes[2 * i].min(self.nodes[2 * i + 1]);
            if self.nodes[i] == m {
                break;
            }
            self.nodes[i] = m;
        }
    }

    /// Renumbers the occupied positions `0..len` in order, doubling the capacity when more
    /// than half of it is in use.
    fn renumber(&mut self, moved: &mut impl FnMut(u32, u32)) {
        let mut capacity = self.capacity;
        while self.len * 2 > capacity {
            capacity *= 2;
        }
        let old: Vec<(u32, u64)> = (0..self.next)
            .filter(|&p| self.items[p] != u32::MAX)
            .map(|p| {
                (
                    self.items[p],
                    self.nodes[self.capacity + p] >> POSITION_BITS,
                )
            })
            .collect();
        *self = LeastLoaded::with_capacity(capacity);
        self.len = old.len();
        self.next = old.len();
        for (k, (item, load)) in old.into_iter().enumerate() {
            self.items[k] = item;
            self.nodes[self.capacity + k] = load << POSITION_BITS | k as u64;
            moved(item, k as u32);
        }
        for i in (1..self.capacity).rev() {
            self.nodes[i] = self.nodes[2 * i].min(self.nodes[2 * i + 1]);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    struct Loads(Vec<u64>);
    impl Backends for Loads {
        fn count(&self) -> usize {
            self.0.len()
        }
        fn load(&self, i: usize) -> u64 {
            self.0[i]
        }
    }

    fn router() -> Router {
        Router::new(crate::rng::stream(1, 0, crate::rng::BALANCER))
    }

    #[test]
    fn round_robin_takes_turns_and_wraps_when_the_set_shrinks() {
        let mut r = router();
        let b = Loads(vec![0; 3]);
        let picks: Vec<usize> = (0..4)
            .map(|_| Balancer::RoundRobin.choose(&mut r, &b))
            .collect();
        assert_eq!(picks, [0, 1, 2, 0]);
        // The cursor is at 1; with one candidate left it wraps to 0.
        assert_eq!(Balancer::RoundRobin.choose(&mut r, &Loads(vec![0])), 0);
    }

    #[test]
    fn least_connections_takes_the_first_of_the_least_loaded() {
        let mut r = router();
        let b = Loads(vec![3, 1, 2, 1]);
        assert_eq!(Balancer::LeastConnections.choose(&mut r, &b), 1);
    }

    #[test]
    fn power_of_two_keeps_the_first_on_ties() {
        let mut r = router();
        let b = Loads(vec![5, 5]);
        // Whatever the draws, equal loads keep the first drawn: over many draws both occur.
        let mut seen = [false; 2];
        for _ in 0..64 {
            seen[Balancer::PowerOfTwo.choose(&mut r, &b)] = true;
        }
        assert_eq!(seen, [true, true]);
        let b = Loads(vec![0, 9]);
        for _ in 0..64 {
            assert_eq!(Balancer::PowerOfTwo.choose(&mut r, &b), 0);
        }
    }

    /// Against a plain scan: random inserts, removals and load changes, the least loaded
    /// (earliest on ties) is always the same, through many renumberings.
    #[test]
    fn least_loaded_matches_a_scan() {
        let mut rng = crate::rng::stream(3, 0, "test");
        let mut tree = LeastLoaded::new();
        // (item, load, position) in insertion order.
        let mut present: Vec<(u32, u64, u32)> = Vec::new();
        for step in 0..20_000u32 {
            let roll = rng.random_range(0..10);
            if roll < 3 || present.is_empty() {
                let load = rng.random_range(0..4);
                let pos = tree.insert(step, load, |item, p| {
                    present.iter_mut().find(|e| e.0 == item).unwrap().2 = p;
                });
                present.push((step, load, pos));
            } else if roll < 5 {
                let k = rng.random_range(0..present.len());
                tree.remove(present.remove(k).2);
            } else {
                let k = rng.random_range(0..present.len());
                present[k].1 = rng.random_range(0..6);
                tree.set(present[k].2, present[k].1);
            }
            let expected = present.iter().min_by_key(|e| e.1).map(|e| e.0);
            assert_eq!(tree.least(), expected, "step {step}");
            assert_eq!(tree.len(), present.len());
        }
    }
}
