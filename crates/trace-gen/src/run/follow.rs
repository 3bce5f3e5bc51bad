//! The set of followed processes still alive, kept from the script's fork and exit reports,
//! so that a run stops when the last one has exited (as `strace -f` does), for `-c` and `-p`.
//!
//! The reports come from per-CPU buffers read in turns: a child's exit may be read before
//! the fork that made it (the child ran on another CPU). Such an exit is kept as a tombstone,
//! and the fork that comes later does not add the child back.

use std::collections::HashSet;

/// The live followed processes (thread group ids).
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub(super) struct LiveSet {
    live: HashSet<u32>,
    tombstones: HashSet<u32>,
}

impl LiveSet {
    /// The set of the targets, before any report.
    pub fn new(targets: impl IntoIterator<Item = u32>) -> LiveSet {
        LiveSet {
            live: targets.into_iter().collect(),
            tombstones: HashSet::new(),
        }
    }

    /// `child` was made by a followed process.
    pub fn forked(&mut self, child: u32) {
        if !self.tombstones.remove(&child) {
            self.live.insert(child);
        }
    }

    /// The last thread of `pid` exited. Returns true when this emptied the set.
    pub fn exited(&mut self, pid: u32) -> bool {
        if self.live.remove(&pid) {
            self.live.is_empty()
        } else {
            self.tombstones.insert(pid);
            false
        }
    }

    /// Removes the processes `gone` says no longer exist (their exit report was lost, or the
    /// process was gone before the probes were attached). Returns true when this emptied the
    /// set.
    pub fn sweep(&mut self, gone: impl Fn(u32) -> bool) -> bool {
        let before = self.live.len();
        self.live.retain(|&p| !gone(p));
        before > 0 && self.live.is_empty()
    }

    /// The live processes.
    pub fn pids(&self) -> Vec<u32> {
        self.live.iter().copied().collect()
    }

    /// Whether no followed process is left.
    pub fn is_empty(&self) -> bool {
        self.live.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forks_add_exits_remove_and_the_last_exit_empties() {
        let mut s = LiveSet::new([10]);
        s.forked(11);
        s.forked(12);
        assert!(!s.exited(10), "children live on");
        assert!(!s.exited(11));
        assert!(s.exited(12));
        assert!(s.is_empty());
    }

    #[test]
    fn an_exit_read_before_its_fork_is_a_tombstone() {
        let mut s = LiveSet::new([10]);
        assert!(!s.exited(11), "not followed yet: no effect on the set");
        s.forked(11);
        assert!(s.exited(10), "11 is gone already");
        // A later process that reuses the pid is followed again.
        let mut s = LiveSet::new([10]);
        s.exited(11);
        s.forked(11);
        s.forked(11);
        assert!(!s.exited(10));
    }

    #[test]
    fn a_sweep_removes_processes_that_are_gone() {
        let mut s = LiveSet::new([1, 2]);
        assert!(!s.sweep(|p| p == 2));
        assert!(s.sweep(|p| p == 1));
        assert!(!s.sweep(|_| true), "empty already");
    }
}
