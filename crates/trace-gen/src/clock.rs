//! The clocks behind the `# clock-offset-ns:` header. std has no way to read
//! CLOCK_MONOTONIC as a number (`Instant` is opaque) and `/proc/uptime` has only 10 ms
//! resolution, so this calls `clock_gettime` ([`crate::sys::clock_ns`]).

use crate::sys::clock_ns as now_ns;

/// CLOCK_REALTIME - CLOCK_MONOTONIC in nanoseconds: add it to a monotonic timestamp (bpftrace
/// `nsecs`, stap `ktime_get_ns()`, DTrace `timestamp` on Linux) to get Unix time. The realtime
/// read is bracketed by two monotonic reads and compared with their midpoint.
pub fn realtime_offset_ns() -> i64 {
    let m1 = now_ns(libc::CLOCK_MONOTONIC);
    let rt = now_ns(libc::CLOCK_REALTIME);
    let m2 = now_ns(libc::CLOCK_MONOTONIC);
    i64::try_from(rt - (m1 + m2) / 2).unwrap_or(0)
}

#[cfg(test)]
mod tests {
    #[test]
    fn offset_turns_monotonic_into_unix_time() {
        let unix = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos() as i128;
        let mono = super::now_ns(libc::CLOCK_MONOTONIC);
        let offset = i128::from(super::realtime_offset_ns());
        // Within a second: the reads are microseconds apart.
        assert!(
            (mono + offset - unix).abs() < 1_000_000_000,
            "{mono} + {offset} vs {unix}"
        );
        assert!(mono > 0);
    }
}
