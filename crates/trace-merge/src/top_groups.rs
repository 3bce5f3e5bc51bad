//! The busiest groups (paths, processes, `--summary-by` values) in bounded memory.
//!
//! A trace can hold millions of distinct paths or processes, and a summary shows ten. A
//! [`TopGroups`] table counts every group exactly while it has at most `2 * keep` of them and
//! their keys hold at most [`KEY_BYTES_BUDGET`] bytes (a crafted trace may have long paths).
//! When it fills, it keeps the `keep / 2` largest by count and the `keep / 2` largest by total time
//! and drops the rest (the space-saving scheme of Metwally et al., pruned in batches so each
//! open costs O(1) amortised). A dropped group's figures are at most the *floor*: the largest
//! count, failures and total of any group dropped so far. A group that comes (back) after a
//! drop starts from the floor instead of zero, so every figure in the table is an upper bound
//! on the true one, too high by at most the floor it started from ([`Tally::over`]); groups
//! that were never dropped are exact. The largest time (`max_ns`) is the largest seen since
//! the group entered the table, a lower bound.
//!
//! So the top rows are right whenever they stand clear of the floor, which is what heavy
//! hitters do; the summary prints the largest error of the rows it shows.

use std::borrow::Borrow;
use std::hash::Hash;

use rustc_hash::FxHashMap as HashMap;

/// Count, failures and time of a group of opens.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tally {
    /// Opens.
    pub count: u64,
    /// Opens that failed (restarted opens are not failures: [`crate::errno::is_failure`]).
    pub failed: u64,
    /// Opens a signal interrupted (-512..-516), counted apart (exact in the total; a group's
    /// count may miss some from before it entered the table).
    pub restarted: u64,
    /// Total time, ns.
    pub total_ns: u64,
    /// Largest time, ns (since the group entered the table).
    pub max_ns: u64,
    /// How much `count`, `failed` and `total_ns` may exceed the truth: the floor the group
    /// started from (all zero for an exact row).
    pub over: Over,
}

/// The most a [`Tally`]'s figures may be too high.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Over {
    /// Opens.
    pub count: u64,
    /// Failed opens.
    pub failed: u64,
    /// Total time, ns.
    pub total_ns: u64,
}

impl Over {
    fn max(self, other: Over) -> Over {
        Over {
            count: self.count.max(other.count),
            failed: self.failed.max(other.failed),
            total_ns: self.total_ns.max(other.total_ns),
        }
    }
}

impl Tally {
    /// Counts one open that returned `ret` after `ns`.
    pub fn add(&mut self, ret: i64, ns: u64) {
        self.count += 1;
        self.failed += u64::from(crate::errno::is_failure(ret));
        self.restarted += u64::from(crate::errno::is_restart(ret));
        self.total_ns = self.total_ns.saturating_add(ns);
        self.max_ns = self.max_ns.max(ns);
    }

    fn starting_from(floor: Over) -> Tally {
        Tally {
            count: floor.count,
            failed: floor.failed,
            restarted: 0,
            total_ns: floor.total_ns,
            max_ns: 0,
            over: floor,
        }
    }

    fn as_over(&self) -> Over {
        Over {
            count: self.count,
            failed: self.failed,
            total_ns: self.total_ns,
        }
    }
}

/// The bytes of keys a table holds at most (beyond the entries themselves): paths of a
/// crafted trace may be long, and 2 * `keep` of them must still fit in bounded memory.
pub const KEY_BYTES_BUDGET: usize = 2 << 20;

/// Groups keyed by `K`, at most `2 * keep` at a time, their keys within [`KEY_BYTES_BUDGET`].
#[derive(Debug, Clone)]
pub struct TopGroups<K> {
    keep: usize,
    groups: HashMap<K, Tally>,
    floor: Over,
    dropped: u64,
    /// The heap bytes of a key.
    key_size: fn(&K) -> usize,
    key_bytes: usize,
}

impl<K: Hash + Ord + Clone> TopGroups<K> {
    /// A table that keeps at least `keep` groups (at least 2) while their keys, of
    /// `key_size` heap bytes each, fit in [`KEY_BYTES_BUDGET`].
    pub fn new(keep: usize, key_size: fn(&K) -> usize) -> TopGroups<K> {
        TopGroups {
            keep: keep.max(2),
            groups: HashMap::default(),
            floor: Over::default(),
            dropped: 0,
            key_size,
            key_bytes: 0,
        }
    }

    /// Counts one open of `key`: [`TopGroups::entry`]`(key).add(ret, ns)`, with one lookup
    /// when the group exists (the usual case, once per open in `--summary`).
    #[inline]
    pub fn add<Q>(&mut self, key: &Q, ret: i64, ns: u64)
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ToOwned<Owned = K> + ?Sized,
    {
        match self.groups.get_mut(key) {
            Some(tally) => tally.add(ret, ns),
            None => self.entry(key).add(ret, ns),
        }
    }

    /// The tally of `key`, inserted (from the floor) if absent. Takes a borrowed key so a
    /// group already present costs no allocation.
    pub fn entry<Q>(&mut self, key: &Q) -> &mut Tally
    where
        K: Borrow<Q>,
        Q: Hash + Eq + ToOwned<Owned = K> + ?Sized,
    {
        if !self.groups.contains_key(key) {
            if self.groups.len() >= 2 * self.keep || self.key_bytes > KEY_BYTES_BUDGET {
                self.prune();
            }
            let key = key.to_owned();
            self.key_bytes += (self.key_size)(&key);
            self.groups.insert(key, Tally::starting_from(self.floor));
        }
        self.groups.get_mut(key).expect("inserted above")
    }

    /// Keeps the `keep / 2` largest by count and the `keep / 2` largest by total time (ties
    /// broken by key, so exactly that many survive each test and at least `keep` go),
    /// raising the floor to the largest figures of what is dropped.
    fn prune(&mut self) {
        let mut half = self.keep / 2;
        loop {
            half = half.min(self.groups.len() / 2).max(1);
            self.prune_to(half);
            if self.key_bytes <= KEY_BYTES_BUDGET / 2 || half == 1 {
                return;
            }
            half /= 2;
        }
    }

    /// Keeps the `half` largest by count and by total time.
    fn prune_to(&mut self, half: usize) {
        if self.groups.is_empty() {
            return;
        }
        let mut by_count: Vec<(u64, u64, &K)> = Vec::with_capacity(self.groups.len());
        let mut by_time: Vec<(u64, &K)> = Vec::with_capacity(self.groups.len());
        for (k, t) in &self.groups {
            by_count.push((t.count, t.total_ns, k));
            by_time.push((t.total_ns, k));
        }
        let (c, t, k) = *by_count.select_nth_unstable_by(half - 1, |a, b| b.cmp(a)).1;
        let count_cut = (c, t, k.clone());
        let (t, k) = *by_time.select_nth_unstable_by(half - 1, |a, b| b.cmp(a)).1;
        let time_cut = (t, k.clone());
        drop((by_count, by_time));
        let mut floor = self.floor;
        let before = self.groups.len();
        let (key_size, mut key_bytes) = (self.key_size, self.key_bytes);
        self.groups.retain(|k, t| {
            let keep = (t.count, t.total_ns, k) >= (count_cut.0, count_cut.1, &count_cut.2)
                || (t.total_ns, k) >= (time_cut.0, &time_cut.1);
            if !keep {
                floor = floor.max(t.as_over());
                key_bytes -= key_size(k);
            }
            keep
        });
        self.key_bytes = key_bytes;
        self.dropped += (before - self.groups.len()) as u64;
        self.floor = floor;
    }

    /// Every group kept, in no order.
    pub fn iter(&self) -> impl Iterator<Item = (&K, &Tally)> {
        self.groups.iter()
    }

    /// How many times a group was dropped to bound the table (0: every figure is exact).
    pub fn dropped(&self) -> u64 {
        self.dropped
    }

    /// How many groups are kept at least.
    pub fn keep(&self) -> usize {
        self.keep
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exact_while_small() {
        let mut t: TopGroups<Vec<u8>> = TopGroups::new(4, Vec::len);
        for (path, ret, ns) in [(&b"/a"[..], 3, 10), (b"/b", -2, 5), (b"/a", -13, 30)] {
            t.entry(path).add(ret, ns);
        }
        let a = t.entry(&b"/a"[..]);
        assert_eq!((a.count, a.failed, a.total_ns, a.max_ns), (2, 1, 40, 30));
        assert_eq!(a.over, Over::default());
        assert_eq!(t.dropped(), 0);
    }

    #[test]
    fn heavy_hitters_survive_a_flood_of_singletons_with_bounded_error() {
        // Three heavy paths among 100,000 paths seen once; a table of 64.
        let mut t: TopGroups<u32> = TopGroups::new(64, |_| 0);
        let mut truth: std::collections::HashMap<u32, u64> = Default::default();
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        for i in 0..100_000u32 {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            let key = if seed % 10 < 3 {
                (seed % 3) as u32
            } else {
                1000 + i
            };
            t.entry(&key).add(if key == 1 { -2 } else { 3 }, 100);
            *truth.entry(key).or_default() += 1;
        }
        assert!(t.dropped() > 0);
        assert!(t.groups.len() <= 128);
        for key in 0..3u32 {
            let tally = *t.entry(&key);
            let real = truth[&key];
            // An upper bound, too high by at most its stated error.
            assert!(tally.count >= real && tally.count - tally.over.count <= real);
            assert!(real > 9000, "{real}");
            assert!(tally.over.count < real / 100, "{:?} vs {real}", tally.over);
        }
        for (key, tally) in t.iter() {
            let real = truth[key];
            assert!(
                tally.count >= real && tally.count - tally.over.count <= real,
                "{key}"
            );
            assert!(tally.total_ns >= real * 100);
        }
        // Failures of path 1 are all its opens.
        let one = *t.entry(&1);
        assert!(one.failed >= truth[&1] && one.failed - one.over.failed <= truth[&1]);
    }

    #[test]
    fn long_keys_stay_within_the_byte_budget() {
        let mut t: TopGroups<Vec<u8>> = TopGroups::new(1024, Vec::len);
        for i in 0..200u32 {
            let mut path = vec![b'a'; 100_000];
            path.extend_from_slice(&i.to_be_bytes());
            t.entry(&path[..]).add(3, 1);
            t.entry(&b"/hot"[..]).add(3, 1);
            let held: usize = t.iter().map(|(k, _)| k.len()).sum();
            assert!(held <= KEY_BYTES_BUDGET + 100_004, "{held}");
            assert_eq!(held, t.key_bytes);
        }
        assert_eq!(t.entry(&b"/hot"[..]).count, 200);
        assert!(t.dropped() > 0);
    }

    #[test]
    fn a_slow_rare_group_survives_by_time() {
        let mut t: TopGroups<u32> = TopGroups::new(8, |_| 0);
        t.entry(&7).add(3, 1_000_000_000);
        for i in 0..1000u32 {
            for _ in 0..3 {
                t.entry(&(100 + i % 50)).add(3, 1);
            }
            t.entry(&(10_000 + i)).add(3, 1);
        }
        assert!(t.dropped() > 0);
        let slow = *t.entry(&7);
        assert_eq!(
            (slow.count, slow.total_ns, slow.over),
            (1, 1_000_000_000, Over::default())
        );
    }
}
