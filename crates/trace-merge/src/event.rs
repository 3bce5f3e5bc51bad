//! The completed open: the one value that flows from pairing to filters, sorting, summaries and
//! every output format. Kept in its own module so that those stages depend on it and not on
//! one another.
//!
//! The version-2 details of the grammar (flags, resolve, mode, via, fault, cgroup from the
//! entry; the resolved path from the return) are one optional [`Details`]: an open from a
//! version-1 line (every old trace) carries `None`, so it costs no work. A killed open (`killed:` on the return) is its own [`Outcome`]: it never returned
//! to the program, so it has no return value.

pub use trace_format::Via;

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
    /// The path argument, as the program passed it (decoded, may hold any byte).
    pub path: &'a [u8],
    /// True when the tracer cut the path at its string limit.
    pub path_truncated: bool,
    /// Entry timestamp, ns, in the trace's clock.
    pub start_ns: u64,
    /// How the call ended.
    pub outcome: Outcome,
    /// What the trace said beyond the version-1 fields; `None` when it said nothing more.
    pub detail: Option<Details<'a>>,
}

/// The optional details of an open (grammar version 2). Each is `None` when the trace did not
/// say; the struct exists only when at least one is present.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Details<'a> {
    /// Open flags, Linux numbering (`O_*`; openat2's `how.flags`).
    pub flags: Option<u64>,
    /// openat2's `how.resolve` (`RESOLVE_*`).
    pub resolve: Option<u64>,
    /// The creation mode.
    pub mode: Option<u32>,
    /// How the file was opened.
    pub via: Option<Via>,
    /// The address of a path argument the tracer could not read (the path is then empty).
    pub fault: Option<u64>,
    /// The process's cgroup v2 path (decoded, may hold any byte).
    pub cgroup: Option<&'a [u8]>,
    /// The file the kernel opened, or for a failure the directory resolved against joined
    /// with the name (decoded, may hold any byte).
    pub resolved: Option<&'a [u8]>,
    /// True when the tracer cut the resolved path.
    pub resolved_truncated: bool,
}

impl Details<'_> {
    /// True when the trace said nothing beyond version 1.
    pub fn is_empty(&self) -> bool {
        *self == Details::default()
    }
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
    /// It never returned to the program: the process was killed by `signal` while the call
    /// was in progress (the tracer saw its end at `end_ns`). Not a failure, not a restart.
    Killed {
        /// The signal number (9: SIGKILL).
        signal: u32,
        /// When the tracer saw the call end, ns.
        end_ns: u64,
    },
    /// No return was seen (trace ended, thread replaced it, or it was evicted).
    Unfinished,
}

impl<'a> OpenEvent<'a> {
    /// Duration in ns, when the call ended (returned or killed; 0 if the clock went
    /// backwards).
    pub fn duration_ns(&self) -> Option<u64> {
        match self.outcome {
            Outcome::Returned { end_ns, .. } | Outcome::Killed { end_ns, .. } => {
                Some(end_ns.saturating_sub(self.start_ns))
            }
            Outcome::Unfinished => None,
        }
    }

    /// The return value, when the call returned to the program.
    pub fn ret(&self) -> Option<i64> {
        match self.outcome {
            Outcome::Returned { ret, .. } => Some(ret),
            Outcome::Killed { .. } | Outcome::Unfinished => None,
        }
    }

    /// The signal that killed the process during the call.
    pub fn killed(&self) -> Option<u32> {
        match self.outcome {
            Outcome::Killed { signal, .. } => Some(signal),
            _ => None,
        }
    }

    /// The details, or all-absent ones.
    #[inline]
    pub fn details(&self) -> Details<'a> {
        self.detail.unwrap_or_default()
    }

    /// The resolved path, when the trace has one.
    #[inline]
    pub fn resolved(&self) -> Option<&'a [u8]> {
        self.detail.and_then(|d| d.resolved)
    }

    /// The path the opens are about: the resolved one when the trace has it, else the
    /// argument (`--path`, `--summary`, `-F`, the Chrome export's names).
    #[inline]
    pub fn best_path(&self) -> &'a [u8] {
        self.resolved().unwrap_or(self.path)
    }

    /// True when the path shown by [`OpenEvent::best_path`] was cut by the tracer.
    #[inline]
    pub fn best_path_truncated(&self) -> bool {
        match &self.detail {
            Some(d) if d.resolved.is_some() => d.resolved_truncated,
            _ => self.path_truncated,
        }
    }

    /// The address of an unreadable path argument.
    #[inline]
    pub fn fault(&self) -> Option<u64> {
        self.detail.and_then(|d| d.fault)
    }

    /// The process's cgroup.
    #[inline]
    pub fn cgroup(&self) -> Option<&'a [u8]> {
        self.detail.and_then(|d| d.cgroup)
    }

    /// The open flags.
    #[inline]
    pub fn flags(&self) -> Option<u64> {
        self.detail.and_then(|d| d.flags)
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
            detail: self.detail.map(|d| {
                Box::new(OwnedDetails {
                    flags: d.flags,
                    resolve: d.resolve,
                    mode: d.mode,
                    via: d.via,
                    fault: d.fault,
                    cgroup: d.cgroup.map(<[u8]>::to_vec),
                    resolved: d.resolved.map(<[u8]>::to_vec),
                    resolved_truncated: d.resolved_truncated,
                })
            }),
        }
    }
}

/// [`Details`] that own their text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OwnedDetails {
    /// See [`Details::flags`].
    pub flags: Option<u64>,
    /// See [`Details::resolve`].
    pub resolve: Option<u64>,
    /// See [`Details::mode`].
    pub mode: Option<u32>,
    /// See [`Details::via`].
    pub via: Option<Via>,
    /// See [`Details::fault`].
    pub fault: Option<u64>,
    /// See [`Details::cgroup`].
    pub cgroup: Option<Vec<u8>>,
    /// See [`Details::resolved`].
    pub resolved: Option<Vec<u8>>,
    /// See [`Details::resolved_truncated`].
    pub resolved_truncated: bool,
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
    /// See [`OpenEvent::detail`] (boxed: absent on old traces, so sorting them costs a word).
    pub detail: Option<Box<OwnedDetails>>,
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
            detail: self.detail.as_deref().map(|d| Details {
                flags: d.flags,
                resolve: d.resolve,
                mode: d.mode,
                via: d.via,
                fault: d.fault,
                cgroup: d.cgroup.as_deref(),
                resolved: d.resolved.as_deref(),
                resolved_truncated: d.resolved_truncated,
            }),
        }
    }
}
