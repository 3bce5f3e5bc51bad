//! End to end `--cgroup PATH`, with bpftrace and with DTrace for Linux: a fresh cgroup2 group
//! (and a group below it) made under the cgroup2 mount for the test; processes moved into
//! them (their pid written to `cgroup.procs`) open files, and so does one outside. The whole
//! system is traced with `--cgroup`: only the opens of the group's processes come out, each
//! with its own group's path, and nothing else of the (busy) machine. Needs root and the
//! tracer: FAILS in CI when they are missing.

use crate::common::*;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::Duration;
use trace_format::{parse_line, Line};

const LIMIT: Duration = Duration::from_secs(90);

/// Where cgroup2 is mounted, read here from /proc/self/mountinfo (independently of
/// trace-gen's own reading).
fn cgroup2_mount() -> PathBuf {
    let info = std::fs::read_to_string("/proc/self/mountinfo").unwrap();
    let line = info
        .lines()
        .find(|l| {
            l.split_once(" - ")
                .is_some_and(|(_, fs)| fs.starts_with("cgroup2 "))
        })
        .expect("a cgroup2 mount (the test needs one)");
    PathBuf::from(line.split(' ').nth(4).unwrap())
}

/// A fresh group `/NAME` with a group `/NAME/inner` below it; at drop, the processes left in
/// them are moved to the root group and both are removed.
struct Group {
    mount: PathBuf,
    name: String,
}

impl Group {
    fn new(tag: &str) -> Group {
        let g = Group {
            mount: cgroup2_mount(),
            name: format!("trace-gen-test-{tag}-{}", std::process::id()),
        };
        std::fs::create_dir_all(g.dir("inner")).unwrap();
        g
    }

    /// The directory of the group, or of a group below it (`sub` not empty).
    fn dir(&self, sub: &str) -> PathBuf {
        let d = self.mount.join(&self.name);
        if sub.is_empty() {
            d
        } else {
            d.join(sub)
        }
    }

    /// Its path in the hierarchy (as /proc/PID/cgroup shows it).
    fn path(&self, sub: &str) -> String {
        if sub.is_empty() {
            format!("/{}", self.name)
        } else {
            format!("/{}/{sub}", self.name)
        }
    }

    /// `sh -c` moving itself into the group (`sub`) and then running `then`.
    fn run_in(&self, sub: &str, then: &str) -> Command {
        let mut c = Command::new("sh");
        c.args([
            "-c",
            &format!(
                "echo $$ > {}/cgroup.procs && {then}",
                self.dir(sub).display()
            ),
        ]);
        c.stdin(Stdio::null()).stdout(Stdio::null());
        c
    }
}

impl Drop for Group {
    fn drop(&mut self) {
        for sub in ["inner", ""] {
            let dir = self.dir(sub);
            if let Ok(pids) = std::fs::read_to_string(dir.join("cgroup.procs")) {
                for pid in pids.lines() {
                    let _ = std::fs::write(self.mount.join("cgroup.procs"), pid);
                }
            }
            let _ = std::fs::remove_dir(&dir);
        }
    }
}

/// The opens of a raw trace: path, cgroup, and whether every line parsed.
fn opens_with_cgroup(raw: &[u8]) -> Vec<(String, Option<String>)> {
    raw.split(|&b| b == b'\n')
        .filter(|l| !l.is_empty())
        .filter_map(|l| match parse_line(l) {
            Ok(Line::Entry(e)) => Some((
                String::from_utf8_lossy(&e.path.to_bytes()).into_owned(),
                e.detail
                    .cgroup
                    .map(|c| String::from_utf8_lossy(&c.to_bytes()).into_owned()),
            )),
            Ok(_) => None,
            Err(e) => panic!("unparsable line {:?}: {e:?}", String::from_utf8_lossy(l)),
        })
        .collect()
}

/// The test, with `trace_gen` (trace-gen with its tracer chosen).
fn only_the_group_and_below_is_traced(mut trace_gen: Command, tag: &str) {
    let _lock = tracer_lock();
    let s = Scratch::new(tag);
    let g = Group::new(tag);
    let [beacon, inside, below, outside] =
        ["beacon", "inside", "below", "outside"].map(|n| s.path(n));
    for f in [&beacon, &inside, &below, &outside] {
        std::fs::write(f, "").unwrap();
    }
    trace_gen.args(["--cgroup", &g.path("")]);
    let mut live = Live::spawn(trace_gen, None, LIMIT);
    // A loop in the group: its opens say the probes are attached.
    let looper = KillOnDrop(
        g.run_in("", &format!("while :; do : < {beacon}; sleep 0.5; done"))
            .spawn()
            .unwrap(),
    );
    live.wait_for("the group's loop", |t| !t.of_path(&beacon).is_empty());
    // Stopped at once: its opens (and its sleep's) only make the trace longer.
    drop(looper);
    // Outside the group (in this test's own), then inside it, then in the group below.
    assert!(Command::new("cat")
        .arg(&outside)
        .status()
        .unwrap()
        .success());
    assert!(g
        .run_in("", &format!("exec cat {inside}"))
        .status()
        .unwrap()
        .success());
    assert!(g
        .run_in("inner", &format!("exec cat {below}"))
        .status()
        .unwrap()
        .success());
    // Every event before the signal is in the trace (the tracer is drained).
    assert!(Command::new("kill")
        .args(["-INT", &live.child.id().to_string()])
        .status()
        .unwrap()
        .success());
    wait_with_limit(&mut live.child, LIMIT);
    while let Ok(l) = live.lines.recv() {
        live.seen.extend_from_slice(&l);
    }
    let opens = opens_with_cgroup(&live.seen);
    let of = |p: &str| -> Vec<Option<String>> {
        opens
            .iter()
            .filter(|(path, _)| path == p)
            .map(|(_, c)| c.clone())
            .collect()
    };
    let n = opens.len();
    assert_eq!(of(&inside), [Some(g.path(""))], "{n} opens");
    assert_eq!(of(&below), [Some(g.path("inner"))], "{n} opens");
    assert_eq!(of(&outside), [] as [Option<String>; 0], "{n} opens");
    // Nothing else of the machine: every open is of the group or below it.
    for (path, cgroup) in &opens {
        assert!(
            cgroup
                .as_deref()
                .is_some_and(|c| c == g.path("") || c == g.path("inner")),
            "{path} from {cgroup:?}: not of the group"
        );
    }
}

#[test]
fn bpftrace_cgroup_traces_the_group_and_below_only() {
    if !bpftrace_ready("bpftrace_cgroup_traces_the_group_and_below_only") {
        return;
    }
    let mut c = trace_gen();
    c.arg("-B");
    only_the_group_and_below_is_traced(c, "cgroup-bpf");
}

#[test]
fn dtrace_cgroup_traces_the_group_and_below_only() {
    let Some(dtrace) = crate::dtrace::dtrace_ready("dtrace_cgroup_traces_the_group_and_below_only")
    else {
        return;
    };
    let mut c = Command::new(bin("trace-gen"));
    c.env("DTRACE_PATH", dtrace).arg("-D");
    only_the_group_and_below_is_traced(c, "cgroup-dtrace");
}
