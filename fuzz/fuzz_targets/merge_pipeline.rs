//! Fuzz target: trace-merge's whole pipeline (command line, reading, parsing, pairing with the
//! reorder window and eviction, every output format, the report) on arbitrary bytes.
//!
//! The first byte picks the options, so one corpus reaches every sink; the rest is the trace
//! (split in two inputs when bit 7 is set, exercising the merged reader; bit 6 adds the
//! options of the version-2 details, `V2_OPTIONS`, to the format's). Checked:
//! - nothing panics and the run succeeds (an input in memory cannot fail to read);
//! - text formats a terminal shows (standard text, TSV columns, summaries) carry no control byte
//!   other than `\n` and the TSV `\t`, no C1 control, no bidi control and no byte that is not
//!   part of valid UTF-8 (a lone 0x9b is the 8-bit CSI): everything from the trace is escaped;
//! - JSON Lines output is one valid JSON object per line.
#![no_main]

use libfuzzer_sys::fuzz_target;
use trace_merge::fuzzing::merge_bytes;

/// Format choices (low 3 bits of the first byte).
const FORMATS: [&[&str]; 8] = [
    &[],
    &[
        "-o",
        "time,user,uid,pid,tid,comm,path,result,ret,fd,errno,duration,duration_ns,host,\
         resolved,full_path,flags,resolve,mode,via,fault,cgroup,killed",
    ],
    &["--format", "json"],
    &["--format", "csv"],
    &["--summary"],
    &["--summary-by", "comm"],
    &["--sort", "duration,path", "--top", "3"],
    &["-x", "--path", "^/", "-T"],
];

/// The options of the version-2 details (resolved paths, flags, cgroups, killed opens), one
/// set per format of `FORMATS` (bit 6 of the first byte).
const V2_OPTIONS: [&[&str]; 8] = [
    &["-F"],
    &["--sort", "resolved,flags,killed,cgroup"],
    &["--write"],
    &[
        "-o",
        "path,resolved,flags,resolve,mode,via,fault,cgroup,killed,full_path",
    ],
    &["--summary-by", "cgroup"],
    &["--cgroup", "."],
    &["-F", "-o", "full_path,via,mode"],
    &["--raw-path", "^[^/]"],
];

fuzz_target!(|data: &[u8]| {
    let Some((&opts, trace)) = data.split_first() else {
        return;
    };
    let kind = usize::from(opts & 7);
    let mut args: Vec<&str> = vec!["-N"];
    args.extend_from_slice(FORMATS[kind]);
    if opts & 8 != 0 {
        args.push("--unfinished");
    }
    if opts & 64 != 0 {
        args.extend_from_slice(V2_OPTIONS[kind]);
    }
    if opts & 16 != 0 {
        args.extend_from_slice(&["--reorder-window", "0"]);
    }
    if opts & 32 != 0 {
        args.extend_from_slice(&["--max-pending", "2"]);
    }
    let inputs: Vec<&[u8]> = if opts & 128 != 0 {
        let mid = trace.len() / 2;
        vec![&trace[..mid], &trace[mid..]]
    } else {
        vec![trace]
    };
    let run = merge_bytes(&inputs, &args).expect("temporary files");
    if let Err(e) = &run.outcome {
        panic!("run failed on in-memory input: {e}");
    }
    match kind {
        2 => {
            for line in run.stdout.split(|&b| b == b'\n').filter(|l| !l.is_empty()) {
                let v: serde_json::Value = serde_json::from_slice(line).unwrap_or_else(|e| {
                    panic!("invalid JSON line {:?}: {e}", String::from_utf8_lossy(line))
                });
                assert!(v.is_object(), "not an object: {v}");
            }
        }
        3 => {} // CSV carries raw bytes by design (lossless read-back); checked by its own tests.
        _ => assert_terminal_safe(&run.stdout),
    }
    assert_terminal_safe(&run.stderr);
});

/// No byte sequence a terminal would act on: C0 controls other than `\n`/`\t`, DEL, C1
/// controls (UTF-8 `C2 80`-`C2 9F`), bidi controls (U+200E/F, U+202A-E, U+2066-9), bytes
/// that are not valid UTF-8.
fn assert_terminal_safe(out: &[u8]) {
    if let Err(e) = std::str::from_utf8(out) {
        let i = e.valid_up_to();
        panic!(
            "byte {i} of output is not UTF-8: {:?}",
            String::from_utf8_lossy(&out[i.saturating_sub(40)..(i + 40).min(out.len())])
        );
    }
    for (i, &b) in out.iter().enumerate() {
        let bad = match b {
            b'\n' | b'\t' => false,
            0..=0x1f | 0x7f => true,
            0xc2 => matches!(out.get(i + 1), Some(0x80..=0x9f)),
            0xe2 => matches!(
                (out.get(i + 1), out.get(i + 2)),
                (Some(0x80), Some(0x8e | 0x8f | 0xaa..=0xae)) | (Some(0x81), Some(0xa6..=0xa9))
            ),
            _ => false,
        };
        assert!(
            !bad,
            "raw control at byte {i} of output: {:?}",
            String::from_utf8_lossy(&out[i.saturating_sub(40)..(i + 40).min(out.len())])
        );
    }
}
