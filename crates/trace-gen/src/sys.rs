//! Every libc call trace-gen makes, each behind a safe function with its `// SAFETY:`
//! argument. This is the only module allowed `unsafe` (the crate denies it elsewhere): std has
//! no safe way to ask for the effective uid, the host name, an inheritable pipe end on fd 3,
//! a parent-death signal, an ignored SIGPIPE in a child, CPU affinity, `kill`, `poll`, or
//! CLOCK_MONOTONIC as a number.

use std::fs::File;
use std::io;
use std::os::fd::{FromRawFd, RawFd};
use std::os::unix::process::CommandExt;
use std::process::Command;

/// Whether trace-gen runs as root (effective uid 0).
pub fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() == 0 }
}

/// The host name, or `None` when it cannot be read.
pub fn host_name() -> Option<Vec<u8>> {
    let mut buf = [0u8; 256];
    // SAFETY: the buffer is valid and writable for its length; gethostname writes at most
    // that many bytes into it.
    let rc = unsafe { libc::gethostname(buf.as_mut_ptr().cast(), buf.len()) };
    if rc != 0 {
        return None;
    }
    let end = buf.iter().position(|&b| b == 0).unwrap_or(buf.len());
    Some(buf[..end].to_vec())
}

/// A pipe, both ends close-on-exec: (read end, write end).
pub fn pipe() -> io::Result<(File, File)> {
    let mut fds = [0 as libc::c_int; 2];
    // SAFETY: fds is a valid, writable array of two ints; pipe2 only fills it.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: pipe2 succeeded, so both fds are open, and nothing else owns them: each File
    // becomes their only owner and closes it once.
    Ok(unsafe { (File::from_raw_fd(fds[0]), File::from_raw_fd(fds[1])) })
}

/// Makes `fd` (open in this process, close-on-exec) the child's fd 3, inherited across its
/// `exec`.
pub fn inherit_as_fd3(command: &mut Command, fd: RawFd) {
    // SAFETY: the closure runs in the child between fork and exec, where only
    // async-signal-safe calls are allowed: it makes only dup2 and fcntl, and allocates
    // nothing. dup2 puts `fd` on fd 3 without close-on-exec; if `fd` already is 3, dup2 would
    // keep the flag, so it is cleared by hand.
    unsafe {
        command.pre_exec(move || {
            if fd == 3 {
                if libc::fcntl(3, libc::F_SETFD, 0) != 0 {
                    return Err(io::Error::last_os_error());
                }
            } else if libc::dup2(fd, 3) != 3 {
                return Err(io::Error::last_os_error());
            }
            Ok(())
        });
    }
}

/// Has the child get `signal` when the thread that spawns it exits (`PR_SET_PDEATHSIG`).
/// Spawn from the main thread, which lives as long as trace-gen, so the signal comes when
/// trace-gen exits or dies.
pub fn signal_on_parent_death(command: &mut Command, signal: libc::c_int) {
    // SAFETY: the closure runs in the child between fork and exec; prctl is
    // async-signal-safe, and the closure allocates nothing. Its result is ignored: without
    // the signal the tracer still runs, and trace-gen stops it itself on a normal exit.
    unsafe {
        command.pre_exec(move || {
            libc::prctl(libc::PR_SET_PDEATHSIG, signal);
            Ok(())
        });
    }
}

/// Whether trace-gen runs in the foreground process group of a terminal (on stdin, stdout
/// or stderr): then the terminal's Ctrl-C reaches its whole group.
pub fn in_terminal_foreground() -> bool {
    // SAFETY: getpgrp has no preconditions and cannot fail.
    let me = unsafe { libc::getpgrp() };
    (0..3).any(|fd| {
        // SAFETY: tcgetpgrp only queries the descriptor; on one that is not a terminal (or
        // closed) it fails with -1.
        unsafe { libc::tcgetpgrp(fd) == me }
    })
}

/// The inode of the initial (host's) PID namespace (`PROC_PID_INIT_INO`).
pub const INIT_PID_NAMESPACE: u64 = 0xEFFF_FFFC;

/// The inode of trace-gen's PID namespace when it is not the host's, else `None` (also when
/// `/proc/self/ns/pid` cannot be read).
pub fn pid_namespace() -> Option<u64> {
    use std::os::unix::fs::MetadataExt;
    let inode = std::fs::metadata("/proc/self/ns/pid").ok()?.ino();
    (inode != INIT_PID_NAMESPACE).then_some(inode)
}

/// Calls `getppid()`: the system call a fence probe watches for.
pub fn getppid() {
    // SAFETY: getppid has no preconditions and cannot fail.
    unsafe { libc::getppid() };
}

/// CPUs configured (online or not), at least 1.
pub fn configured_cpus() -> u32 {
    // SAFETY: sysconf has no preconditions; an unknown name gives -1, handled below.
    let n = unsafe { libc::sysconf(libc::_SC_NPROCESSORS_CONF) };
    u32::try_from(n).unwrap_or(1).clamp(1, 4096)
}

/// Moves the calling thread to `cpu`; false when that CPU is offline or not allowed.
pub fn pin_to_cpu(cpu: u32) -> bool {
    let Ok(cpu) = usize::try_from(cpu) else {
        return false;
    };
    if cpu >= usize::try_from(libc::CPU_SETSIZE).unwrap_or(0) {
        return false;
    }
    // SAFETY: cpu_set_t is plain data and all-zero is the empty set; CPU_SET stays in
    // bounds (cpu < CPU_SETSIZE, checked above); sched_setaffinity(0, ...) reads `set`, of
    // the size given, and applies to the calling thread only.
    unsafe {
        let mut set: libc::cpu_set_t = std::mem::zeroed();
        libc::CPU_SET(cpu, &mut set);
        libc::sched_setaffinity(0, std::mem::size_of::<libc::cpu_set_t>(), &set) == 0
    }
}

/// Whether process `pid` exists (it may belong to another user: `kill(pid, 0)` then fails
/// with EPERM, which still says it is there). 0 and pids that do not fit `pid_t` are not
/// processes.
pub fn process_exists(pid: u32) -> bool {
    match libc::pid_t::try_from(pid) {
        Ok(p) if p > 0 => {
            // SAFETY: signal 0 only checks that the process exists; p is a single process.
            let rc = unsafe { libc::kill(p, 0) };
            rc == 0 || io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
        }
        _ => false,
    }
}

/// Sends `signal` to process `pid` (a pid that does not fit `pid_t` is ignored, so that it
/// can never become -1, "every process").
pub fn kill(pid: u32, signal: libc::c_int) {
    if let Ok(pid) = libc::pid_t::try_from(pid) {
        if pid > 0 {
            // SAFETY: kill has no memory-safety preconditions; pid is a single process.
            unsafe { libc::kill(pid, signal) };
        }
    }
}

/// Sends `signal` to every process of the process group `pgid` (a group id that does not
/// fit `pid_t`, or 0 or 1, is ignored: never "our own group" or "every process").
pub fn kill_group(pgid: u32, signal: libc::c_int) {
    if let Ok(pgid) = libc::pid_t::try_from(pgid) {
        if pgid > 1 {
            // SAFETY: kill has no memory-safety preconditions; -pgid names one process group.
            unsafe { libc::kill(-pgid, signal) };
        }
    }
}

/// Whether process `pid` exists (a zombie included): `kill(pid, 0)` succeeds, or fails only
/// for want of permission.
pub fn pid_exists(pid: u32) -> bool {
    let Ok(pid) = libc::pid_t::try_from(pid) else {
        return false;
    };
    if pid <= 0 {
        return false;
    }
    // SAFETY: kill with signal 0 sends nothing and has no memory-safety preconditions; pid is
    // a single process (> 0).
    let rc = unsafe { libc::kill(pid, 0) };
    rc == 0 || io::Error::last_os_error().raw_os_error() == Some(libc::EPERM)
}

/// Has the child start with SIGPIPE ignored (a disposition `exec` keeps): its writes to a
/// closed pipe then fail with EPIPE instead of killing it.
pub fn ignore_sigpipe(command: &mut Command) {
    // SAFETY: the closure runs in the child between fork and exec; signal is
    // async-signal-safe, and the closure allocates nothing. SIG_IGN is a valid disposition
    // for SIGPIPE.
    unsafe {
        command.pre_exec(|| {
            libc::signal(libc::SIGPIPE, libc::SIG_IGN);
            Ok(())
        });
    }
}

/// Which of `fds` can be read without blocking (data, end of file or an error), waiting up to
/// `timeout_ms` (-1: until one can) for the first. An interrupted wait is retried.
pub fn readable(fds: [RawFd; 2], timeout_ms: libc::c_int) -> io::Result<[bool; 2]> {
    let mut polled = fds.map(|fd| libc::pollfd {
        fd,
        events: libc::POLLIN,
        revents: 0,
    });
    loop {
        // SAFETY: `polled` is a valid, writable array of 2 pollfd, and 2 is its length; poll
        // only writes their `revents`.
        let rc = unsafe { libc::poll(polled.as_mut_ptr(), 2, timeout_ms) };
        if rc >= 0 {
            return Ok(polled.map(|p| p.revents != 0));
        }
        let e = io::Error::last_os_error();
        if e.kind() != io::ErrorKind::Interrupted {
            return Err(e);
        }
    }
}

/// The handler of [`WAKE_SIGNAL`]: nothing. Its only effect is the EINTR it gives a blocked
/// read.
extern "C" fn wake_handler(_: libc::c_int) {}

/// The signal that wakes a thread blocked in a read ([`wake_thread`]): SIGURG, which only
/// sockets' out-of-band data raise, and trace-gen has none.
const WAKE_SIGNAL: libc::c_int = libc::SIGURG;

/// Makes [`wake_thread`] end a blocking read of the woken thread with EINTR: a handler
/// installed without SA_RESTART (exec resets it, so no child inherits it).
pub fn make_reads_wakeable() -> io::Result<()> {
    // SAFETY: `action` is fully initialized (zeroed, then its handler and an empty mask);
    // the handler is async-signal-safe (it does nothing); sigaction only reads `action`.
    let rc = unsafe {
        let mut action: libc::sigaction = std::mem::zeroed();
        action.sa_sigaction = wake_handler as extern "C" fn(libc::c_int) as libc::sighandler_t;
        action.sa_flags = 0;
        libc::sigemptyset(&mut action.sa_mask);
        libc::sigaction(WAKE_SIGNAL, &action, std::ptr::null_mut())
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}

/// The calling thread, for [`wake_thread`].
pub fn this_thread() -> libc::pthread_t {
    // SAFETY: pthread_self has no preconditions.
    unsafe { libc::pthread_self() }
}

/// Interrupts a read that `thread` is blocked in (see [`make_reads_wakeable`]); a thread not
/// in a system call runs the empty handler and goes on.
pub fn wake_thread(thread: libc::pthread_t) {
    // SAFETY: `thread` comes from [`this_thread`] of a thread that lives as long as the
    // process (the main thread); the signal's handler is installed.
    unsafe { libc::pthread_kill(thread, WAKE_SIGNAL) };
}

/// Reads `clock` in nanoseconds (0 if it cannot be read).
pub fn clock_ns(clock: libc::clockid_t) -> i128 {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid, writable timespec; clock_gettime only writes it.
    let rc = unsafe { libc::clock_gettime(clock, &mut ts) };
    if rc != 0 {
        return 0;
    }
    i128::from(ts.tv_sec) * 1_000_000_000 + i128::from(ts.tv_nsec)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::{Read, Write};

    #[test]
    fn pipe_carries_bytes_and_closes() {
        let (mut r, mut w) = pipe().unwrap();
        w.write_all(b"go\n").unwrap();
        drop(w);
        let mut s = String::new();
        r.read_to_string(&mut s).unwrap();
        assert_eq!(s, "go\n");
    }

    #[test]
    fn readable_says_which_pipe_has_data() {
        use std::os::fd::AsRawFd;
        let (a, mut aw) = pipe().unwrap();
        let (b, bw) = pipe().unwrap();
        let fds = [a.as_raw_fd(), b.as_raw_fd()];
        assert_eq!(readable(fds, 0).unwrap(), [false, false]);
        aw.write_all(b"x").unwrap();
        assert_eq!(readable(fds, -1).unwrap(), [true, false]);
        drop(bw);
        assert_eq!(
            readable(fds, -1).unwrap(),
            [true, true],
            "a closed end reads"
        );
    }

    #[test]
    fn pids_that_exist() {
        assert!(pid_exists(std::process::id()));
        assert!(pid_exists(1));
        assert!(!pid_exists(0) && !pid_exists(u32::MAX));
        let mut c = Command::new("true").spawn().unwrap();
        let pid = c.id();
        c.wait().unwrap();
        assert!(!pid_exists(pid), "reaped: gone");
    }

    #[test]
    fn cpus_and_host() {
        assert!(configured_cpus() >= 1);
        assert!(host_name().is_some_and(|h| !h.is_empty()));
        assert!(clock_ns(libc::CLOCK_MONOTONIC) > 0);
    }

    #[test]
    fn a_child_inherits_the_pipe_on_fd3() {
        let (r, mut w) = pipe().unwrap();
        use std::os::fd::AsRawFd;
        let mut c = Command::new("/bin/sh");
        c.args(["-c", "IFS= read -r x <&3 && printf %s \"$x\""]);
        c.stdout(std::process::Stdio::piped());
        inherit_as_fd3(&mut c, r.as_raw_fd());
        let child = c.spawn().unwrap();
        drop(r);
        w.write_all(b"through fd 3\n").unwrap();
        drop(w);
        let out = child.wait_with_output().unwrap();
        assert_eq!(out.stdout, b"through fd 3");
    }
}
