//! The `-c` command, spawned before the tracer but held until the probes are attached, so
//! that its pid can be given to the tracer and none of its opens happens untraced.

use super::command_line::shell_quote;
use crate::error::Error;
use std::io::Write;
use std::process::{Child, Command, Stdio};

/// `sh -c CMD`, held until [`Held::release`]: a wrapper shell blocks reading a line on fd 3
/// (a pipe whose write end only trace-gen holds) and then `exec`s the command in the same
/// process, so the pid given to the tracer is the command's. If trace-gen dies before the
/// release, the pipe reads end-of-file and the wrapper exits 125 without running CMD.
pub(super) struct Held {
    /// The wrapper, until it is handed to the thread that waits for it.
    pub child: Option<Child>,
    /// The wrapper's pid, which becomes the command's.
    pub pid: u32,
    /// The write end of the pipe the wrapper waits on.
    pub gate: Option<std::fs::File>,
}

impl Held {
    /// Starts the wrapper for `cmd`. Its stdout goes to trace-gen's stderr: stdout is for
    /// trace lines only.
    pub fn spawn(cmd: &str) -> Result<Held, Error> {
        let (read_end, write_end) =
            crate::sys::pipe().map_err(|e| Error::io("creating the pipe that holds -c", e))?;
        let mut command = Command::new("/bin/sh");
        command.args([
            "-c",
            "IFS= read -r _ <&3 || exit 125; exec 3<&-; exec /bin/sh -c \"$1\"",
            "trace-gen-held",
            cmd,
        ]);
        use std::os::fd::AsRawFd;
        crate::sys::inherit_as_fd3(&mut command, read_end.as_raw_fd());
        use std::os::fd::AsFd;
        let stderr = std::io::stderr()
            .as_fd()
            .try_clone_to_owned()
            .map_err(|e| Error::io("duplicating stderr for -c", e))?;
        command.stdout(Stdio::from(stderr));
        let child = command
            .spawn()
            .map_err(|e| Error::io(format!("starting sh -c {}", shell_quote(cmd)), e))?;
        drop(read_end);
        Ok(Held {
            pid: child.id(),
            child: Some(child),
            gate: Some(write_end),
        })
    }

    /// Lets the command run.
    pub fn release(&mut self) {
        if let Some(mut gate) = self.gate.take() {
            // If the wrapper is gone already, its exit status says so.
            let _ = gate.write_all(b"go\n");
        }
    }

    /// Ends a command that was never released (the tracer failed first): the closed gate
    /// makes the wrapper exit 125 without running it.
    pub fn abort(&mut self) {
        self.gate = None;
        if let Some(mut child) = self.child.take() {
            let _ = child.wait();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn runs_only_once_released() {
        let mut held = Held::spawn("exit 7").unwrap();
        let mut child = held.child.take().unwrap();
        std::thread::sleep(std::time::Duration::from_millis(50));
        assert!(
            child.try_wait().unwrap().is_none(),
            "ran before the release"
        );
        held.release();
        assert_eq!(child.wait().unwrap().code(), Some(7));
    }

    #[test]
    fn never_runs_when_aborted() {
        let mut held = Held::spawn("exit 7").unwrap();
        let mut child = held.child.take().unwrap();
        held.gate = None;
        assert_eq!(child.wait().unwrap().code(), Some(125));
    }
}
