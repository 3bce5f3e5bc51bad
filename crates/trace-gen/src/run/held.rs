//! The `-c` command, spawned before the tracer but held until the probes are attached, so
//! that its pid can be given to the tracer and none of its opens happens untraced.

use super::command_line::shell_quote;
use crate::error::Error;
use std::io::Write;
use std::process::{Child, Command, Stdio};

/// The command, held until [`Held::release`]: a wrapper shell blocks reading a line on fd 3
/// (a pipe whose write end only trace-gen holds) and then `exec`s the command in the same
/// process, so the pid given to the tracer is the command's. If trace-gen dies before the
/// release, the pipe reads end-of-file and the wrapper exits 125 without running CMD.
///
/// A simple command (words of plain characters, the first an executable: see
/// [`simple_words`]) is `exec`ed itself, so the pid is the program's (`--no-follow -c CMD`
/// traces CMD, and a signal passed on reaches it); anything else runs as `sh -c CMD`.
///
/// When trace-gen is not in the foreground of a terminal, the command gets a process group
/// of its own, so that a signal passed on reaches every process of a pipeline; on a
/// terminal it stays in trace-gen's group, where Ctrl-C and job control reach it as usual.
pub(super) struct Held {
    /// The wrapper, until it is handed to the thread that waits for it.
    pub child: Option<Child>,
    /// The wrapper's pid, which becomes the command's.
    pub pid: u32,
    /// The write end of the pipe the wrapper waits on.
    pub gate: Option<std::fs::File>,
    /// The command leads a process group of its own (its pid is the group's id).
    pub own_group: bool,
}

/// Special builtins and other words that only a shell runs: a command starting with one is
/// never run directly.
const SHELL_ONLY: &[&str] = &[
    ".", ":", "alias", "bg", "break", "cd", "command", "continue", "eval", "exec", "exit",
    "export", "fg", "getopts", "hash", "jobs", "local", "read", "readonly", "return", "set",
    "shift", "times", "trap", "type", "ulimit", "umask", "unalias", "unset", "wait",
];

/// The words of `cmd` when a shell would run it as one program with these arguments and
/// nothing else: every byte plain (letters, digits, `-_./=:,+@%`: no quoting, expansion,
/// globbing, redirection, comment or operator), the first word neither an assignment nor a
/// shell-only word, and an executable file (found in `PATH` when it has no `/`). `None`:
/// the command needs `sh -c`.
pub(super) fn simple_words(cmd: &str) -> Option<Vec<String>> {
    let plain = |w: &str| {
        w.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_./=:,+@%".contains(&b))
    };
    let words: Vec<String> = cmd
        .split([' ', '\t'])
        .filter(|w| !w.is_empty())
        .map(str::to_owned)
        .collect();
    let first = words.first()?;
    if !words.iter().all(|w| plain(w)) || first.contains('=') || SHELL_ONLY.contains(&&**first) {
        return None;
    }
    let found = if first.contains('/') {
        crate::backend::is_executable(std::path::Path::new(first))
    } else {
        std::env::var_os("PATH").is_some_and(|path| {
            std::env::split_paths(&path).any(|d| crate::backend::is_executable(&d.join(first)))
        })
    };
    found.then_some(words)
}

impl Held {
    /// Starts the wrapper for `cmd`. Its stdout goes to trace-gen's stderr: stdout is for
    /// trace lines only.
    pub fn spawn(cmd: &str) -> Result<Held, Error> {
        let (read_end, write_end) =
            crate::sys::pipe().map_err(|e| Error::io("creating the pipe that holds -c", e))?;
        let mut command = Command::new("/bin/sh");
        const GATE: &str = "IFS= read -r _ <&3 || exit 125; exec 3<&-; ";
        match simple_words(cmd) {
            Some(words) => {
                command.args(["-c", &format!("{GATE}exec \"$@\""), "trace-gen-held"]);
                command.args(words);
            }
            None => {
                command.args([
                    "-c",
                    &format!("{GATE}exec /bin/sh -c \"$1\""),
                    "trace-gen-held",
                    cmd,
                ]);
            }
        }
        let own_group = !crate::sys::in_terminal_foreground();
        if own_group {
            use std::os::unix::process::CommandExt;
            command.process_group(0);
        }
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
            own_group,
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
    fn simple_commands_run_directly_anything_else_through_sh() {
        assert_eq!(
            simple_words("cat  /etc/hostname\t-u"),
            Some(vec!["cat".into(), "/etc/hostname".into(), "-u".into()])
        );
        assert_eq!(
            simple_words("/bin/dd if=/dev/zero count=1"),
            Some(vec![
                "/bin/dd".into(),
                "if=/dev/zero".into(),
                "count=1".into()
            ])
        );
        for shell in [
            "exit 7",
            "cd /tmp",
            "A=1 env",
            "cat /etc/host*",
            "cat ~/x",
            "echo $HOME",
            "cat a; cat b",
            "cat a | wc",
            "cat 'a b'",
            "cat a > b",
            "sleep 1 &",
            "no-such-program-xyz",
            "./no/such/file",
            "",
            "{ cat; }",
        ] {
            assert_eq!(simple_words(shell), None, "{shell}");
        }
    }

    #[test]
    fn a_simple_command_is_the_held_process_itself() {
        let mut held = Held::spawn("sleep 5").unwrap();
        let mut child = held.child.take().unwrap();
        held.release();
        // Once released, the wrapper has exec'd sleep itself: no shell in between.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        let comm = loop {
            let comm = std::fs::read_to_string(format!("/proc/{}/comm", held.pid)).unwrap();
            if comm.trim() == "sleep" || std::time::Instant::now() > deadline {
                break comm;
            }
            std::thread::sleep(std::time::Duration::from_millis(10));
        };
        assert_eq!(comm.trim(), "sleep");
        let _ = child.kill();
        let _ = child.wait();
    }

    #[test]
    fn never_runs_when_aborted() {
        let mut held = Held::spawn("exit 7").unwrap();
        let mut child = held.child.take().unwrap();
        held.gate = None;
        assert_eq!(child.wait().unwrap().code(), Some(125));
    }
}
