//! What `--summary-by KEY` groups on: a plain value that the command line's validation
//! ([`crate::config`]) produces and the summary printer consumes. It lives apart from both so
//! that neither imports the other for it.

use std::fmt;
use std::str::FromStr;

/// What `--summary-by` groups on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum GroupKey {
    /// The path opened.
    Path,
    /// The process name.
    Comm,
    /// The process id.
    Pid,
    /// The user.
    User,
    /// The errno name (`-` for opens that succeeded).
    Errno,
    /// The process's cgroup (`-` when the trace does not say).
    Cgroup,
    /// How the file was opened: `syscall`, `io_uring`, `handle` (`-` when the trace does not
    /// say).
    Via,
}

impl GroupKey {
    /// The name in `--summary-by`.
    pub fn name(self) -> &'static str {
        match self {
            GroupKey::Path => "path",
            GroupKey::Comm => "comm",
            GroupKey::Pid => "pid",
            GroupKey::User => "user",
            GroupKey::Errno => "errno",
            GroupKey::Cgroup => "cgroup",
            GroupKey::Via => "via",
        }
    }
}

/// A `--summary-by` value that is not a key.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("--summary-by: unknown key `{0}` (keys: path, comm, pid, user, errno, cgroup, via)")]
pub struct UnknownGroupKey(pub String);

impl FromStr for GroupKey {
    type Err = UnknownGroupKey;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        [
            GroupKey::Path,
            GroupKey::Comm,
            GroupKey::Pid,
            GroupKey::User,
            GroupKey::Errno,
            GroupKey::Cgroup,
            GroupKey::Via,
        ]
        .into_iter()
        .find(|k| k.name() == s)
        .ok_or_else(|| UnknownGroupKey(s.to_string()))
    }
}

impl fmt::Display for GroupKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}
