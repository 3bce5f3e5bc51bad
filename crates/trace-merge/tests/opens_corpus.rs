//! A deterministic trace of a small fleet's opens, for the tests that check what trace-merge
//! exports (heat map, Chrome trace, DuckDB recipes) against what went in: several processes
//! and threads, a few process names, about 15% failures, latencies from 100 ns to 10 ms, and
//! a `# host:` header. Every open completes, so each input open is one output open.

use crate::common::Rng;

/// One open as written into the trace.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Open {
    pub tid: u32,
    pub start_ns: u64,
    pub pid: u32,
    pub duration_ns: u64,
    pub ret: i64,
    pub comm: &'static str,
    pub path: String,
}

/// `opens` opens of host `host` (seeded by `seed`): the trace's bytes and the opens in it.
pub fn fleet_trace(host: &str, opens: usize, seed: u64) -> (Vec<u8>, Vec<Open>) {
    const COMMS: [&str; 4] = ["nginx", "php-fpm", "cat", "sshd"];
    const ERRNOS: [i64; 4] = [-2, -2, -13, -24];
    let mut rng = Rng(seed | 1);
    let mut out = format!("# trace-format: 1\n# host: {host}\n# clock: monotonic\n").into_bytes();
    // 24 threads in 8 processes: (pid, tid, comm, pending open).
    let mut threads: Vec<(u32, u32, &'static str, Option<Open>)> = (0..24u32)
        .map(|i| {
            let pid = 1000 + (i / 3) * 10;
            (pid, pid + i % 3, COMMS[(i / 3) as usize % 4], None)
        })
        .collect();
    let mut done = Vec::with_capacity(opens);
    let mut ts: u64 = 5_000_000_000;
    let mut started = 0;
    while done.len() < opens {
        let t = (rng.next() % threads.len() as u64) as usize;
        let (pid, tid, comm, pending) = &mut threads[t];
        match pending.take() {
            None if started < opens => {
                ts += 50 + rng.next() % 20_000;
                let path = format!("/srv/{}/file-{}", comm, rng.next() % 40);
                out.extend_from_slice(
                    format!("=> uid: 33 pid: {pid} tid: {tid} comm: {comm} open: {path} {ts}\n")
                        .as_bytes(),
                );
                // Log-uniform latency between 100 ns and about 10 ms.
                let duration_ns = 100 + ((rng.next() % 100_000) << (rng.next() % 7));
                let ret = if rng.next() % 100 < 15 {
                    ERRNOS[(rng.next() % 4) as usize]
                } else {
                    3 + (rng.next() % 100) as i64
                };
                *pending = Some(Open {
                    tid: *tid,
                    start_ns: ts,
                    pid: *pid,
                    duration_ns,
                    ret,
                    comm,
                    path,
                });
                started += 1;
            }
            None => {}
            Some(open) => {
                // The return comes at its time, or now if that has passed (other threads
                // ran meanwhile): timestamps never go back.
                ts = ts.max(open.start_ns + open.duration_ns);
                out.extend_from_slice(
                    format!(
                        "<= uid: 33 pid: {} tid: {} ret: {} {}\n",
                        open.pid, open.tid, open.ret, ts
                    )
                    .as_bytes(),
                );
                done.push(Open {
                    duration_ns: ts - open.start_ns,
                    ..open
                });
            }
        }
    }
    (out, done)
}

/// The trace that sampled type inference gets wrong: `ok` opens that all succeed, then
/// `late` opens of which most fail (ENOENT, EACCES) and some carry paths that are not UTF-8
/// (failing or not), on one thread of each comm in turn. Paths are kept lossy in [`Open`].
pub fn late_failures_trace(host: &str, ok: usize, late: usize, seed: u64) -> (Vec<u8>, Vec<Open>) {
    const COMMS: [&str; 4] = ["nginx", "php-fpm", "cat", "sshd"];
    let mut rng = Rng(seed | 1);
    let mut out = format!("# trace-format: 1\n# host: {host}\n# clock: monotonic\n").into_bytes();
    let mut opens = Vec::with_capacity(ok + late);
    let mut ts: u64 = 7_000_000_000;
    for i in 0..ok + late {
        let comm = COMMS[i % 4];
        let pid = 2000 + (i % 4) as u32;
        let mut path: Vec<u8> = if i < ok {
            format!("/srv/{comm}/ok-{}", rng.next() % 50).into_bytes()
        } else {
            format!("/srv/late/missing-{}", rng.next() % 12).into_bytes()
        };
        let late_index = i.saturating_sub(ok);
        if i >= ok && late_index % 4 == 0 {
            // Not UTF-8: Latin-1 bytes, distinct also once made lossy.
            path = format!("/srv/late/caf\u{0}-{}", late_index % 3).into_bytes();
            let at = path.iter().position(|&b| b == 0).unwrap();
            path[at] = 0xe9;
        }
        let ret = match (i < ok, late_index % 5) {
            (true, _) | (false, 4) => 3 + (rng.next() % 100) as i64,
            (false, 0..=2) => -2,
            (false, _) => -13,
        };
        ts += 100 + rng.next() % 5_000;
        let duration_ns = 100 + ((rng.next() % 50_000) << (rng.next() % 6));
        out.extend_from_slice(
            format!("=> uid: 33 pid: {pid} tid: {pid} comm: {comm} open: ").as_bytes(),
        );
        // Non-UTF-8 bytes as C escapes in a quoted path, as the tracers write them.
        out.push(b'"');
        for &b in &path {
            if b >= 0x80 {
                out.extend_from_slice(format!("\\{b:03o}").as_bytes());
            } else {
                out.push(b);
            }
        }
        out.push(b'"');
        out.extend_from_slice(format!(" {ts}\n").as_bytes());
        let end = ts + duration_ns;
        out.extend_from_slice(
            format!("<= uid: 33 pid: {pid} tid: {pid} ret: {ret} {end}\n").as_bytes(),
        );
        opens.push(Open {
            tid: pid,
            start_ns: ts,
            pid,
            duration_ns,
            ret,
            comm,
            path: String::from_utf8_lossy(&path).into_owned(),
        });
        ts = end;
    }
    (out, opens)
}
