//! The completed open: the one value that flows from pairing to filters, sorting, summaries and
//! every output format. Kept in its own module so that those stages depend on it and not on
//! one another.

/// One open call, paired (or given up on). Text fields are decoded bytes, borrowed from the
/// pairing stage's storage for the duration of one call; [`OpenEvent::to_owned_event`] keeps one.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OpenEvent<'a> {
    /// Real uid of the process.
    pub uid: u32,
    /// Process id.
    pub pid: u32,
    /// Thread id, when the trace had one.
    pub tid: Option<u32>,
    /// Process name, when the trace had one (decoded, may hold any byte).
    pub comm: Option<&'a [u8]>,
    /// The path (decoded, may hold any byte).
    pub path: &'a [u8],
    /// True when the tracer cut the path at its string limit.
    pub path_truncated: bool,
    /// Entry timestamp, ns, in the trace's clock.
    pub start_ns: u64,
    /// How the call ended.
    pub outcome: Outcome,
}

/// How an open ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// It returned `ret` (fd, or negative errno) at `end_ns`.
    Returned {
        /// Return value, Linux convention.
        ret: i64,
        /// Return timestamp, ns.
        end_ns: u64,
    },
    /// No return was seen (trace ended, thread replaced it, or it was evicted).
    Unfinished,
}

impl OpenEvent<'_> {
    /// Duration in ns, when the call returned (0 if the clock went backwards).
    pub fn duration_ns(&self) -> Option<u64> {
        match self.outcome {
            Outcome::Returned { end_ns, .. } => Some(end_ns.saturating_sub(self.start_ns)),
            Outcome::Unfinished => None,
        }
    }

    /// The return value, when the call returned.
    pub fn ret(&self) -> Option<i64> {
        match self.outcome {
            Outcome::Returned { ret, .. } => Some(ret),
            Outcome::Unfinished => None,
        }
    }

    /// An owned copy, for the stages that must keep events (sorting).
    pub fn to_owned_event(self) -> OwnedOpenEvent {
        OwnedOpenEvent {
            uid: self.uid,
            pid: self.pid,
            tid: self.tid,
            comm: self.comm.map(<[u8]>::to_vec),
            path: self.path.to_vec(),
            path_truncated: self.path_truncated,
            start_ns: self.start_ns,
            outcome: self.outcome,
        }
    }
}

/// An [`OpenEvent`] that owns its text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OwnedOpenEvent {
    /// See [`OpenEvent::uid`].
    pub uid: u32,
    /// See [`OpenEvent::pid`].
    pub pid: u32,
    /// See [`OpenEvent::tid`].
    pub tid: Option<u32>,
    /// See [`OpenEvent::comm`].
    pub comm: Option<Vec<u8>>,
    /// See [`OpenEvent::path`].
    pub path: Vec<u8>,
    /// See [`OpenEvent::path_truncated`].
    pub path_truncated: bool,
    /// See [`OpenEvent::start_ns`].
    pub start_ns: u64,
    /// See [`OpenEvent::outcome`].
    pub outcome: Outcome,
}

impl OwnedOpenEvent {
    /// Borrows it back as an [`OpenEvent`].
    pub fn as_event(&self) -> OpenEvent<'_> {
        OpenEvent {
            uid: self.uid,
            pid: self.pid,
            tid: self.tid,
            comm: self.comm.as_deref(),
            path: &self.path,
            path_truncated: self.path_truncated,
            start_ns: self.start_ns,
            outcome: self.outcome,
        }
    }
}
