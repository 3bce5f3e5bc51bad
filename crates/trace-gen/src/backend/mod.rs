//! One module per tracer, behind the small [`Backend`] trait: each turns a [`ScriptSpec`] into
//! a script in its language and says how to run its tracer on it.

pub mod bpftrace;
pub mod dtrace;
pub mod stap;

use crate::script::ScriptSpec;
use std::ffi::OsString;

/// A dynamic tracer trace-gen can drive.
pub trait Backend {
    /// Short name for messages and the `# backend:` header (`bpftrace`, `systemtap`, `dtrace`).
    fn name(&self) -> &'static str;

    /// The probe script, exactly as the tracer will read it on its stdin.
    fn script(&self, spec: &ScriptSpec) -> String;

    /// The tracer's arguments (after the binary itself) to read the script from stdin.
    /// `target_pid` is the pid of the `-c` child, when there is one.
    fn args(&self, spec: &ScriptSpec, target_pid: Option<u32>) -> Vec<OsString>;

    /// Environment variables to set for the tracer (bpftrace takes its buffer and string
    /// sizes only this way). `--print-script` shows them before the command line.
    fn env(&self, _spec: &ScriptSpec) -> Vec<(OsString, OsString)> {
        Vec::new()
    }

    /// Whether the script prints [`FENCE_MARKER`](crate::script::FENCE_MARKER), a space and
    /// the CPU number when trace-gen itself calls `getppid()`. A tracer stopped by SIGINT may
    /// drop what is still in its buffers (bpftrace 0.17 does); with a fence, trace-gen calls
    /// `getppid()` on every CPU, reads on until the marker of each (so everything emitted
    /// before has been read), and only then stops the tracer.
    fn has_fence(&self) -> bool {
        false
    }

    /// Whether the tracer prints names raw (it cannot escape them) and the script prints each
    /// entry together with its return, in one `printf`: then trace-gen rejoins an entry that a
    /// newline in a name split into pieces, and quotes it ([`crate::rejoin`]).
    fn rejoins_raw_names(&self) -> bool {
        false
    }
}
