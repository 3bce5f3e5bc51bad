//! The end-of-run report counts honestly: every line read (one over the 8 MiB cap too), and
//! hints only when they apply.

use crate::common::{trace_merge, TempDir};

/// A two-line file whose second line is over the 8 MiB line cap: 2 lines read, 1 malformed,
/// whether read alone or merged with another input.
#[test]
fn a_line_over_the_cap_is_counted_as_read() {
    let dir = TempDir::new("report-long-line");
    let file = dir.path("long.trace");
    let mut bytes = b"=> uid: 0 pid: 1 tid: 1 comm: cat open: /etc/hosts 100\n".to_vec();
    bytes.extend_from_slice(b"=> uid: 0 pid: 2 tid: 2 comm: cat open: /");
    bytes.resize(bytes.len() + (9 << 20), b'a');
    bytes.extend_from_slice(b" 200\n");
    std::fs::write(&file, &bytes).unwrap();
    let other = dir.path("other.trace");
    std::fs::write(
        &other,
        "=> uid: 0 pid: 3 tid: 3 comm: cat open: /x 50\n<= uid: 0 pid: 3 tid: 3 ret: 3 60\n",
    )
    .unwrap();
    for (inputs, lines, paired) in [(vec![&file], 2, 0), (vec![&file, &other], 4, 1)] {
        let out = trace_merge().args(&inputs).output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(
            err.contains(&format!("{paired} opens paired from {lines} lines")),
            "{inputs:?}: {err}"
        );
        assert!(err.contains("1 malformed lines skipped"), "{err}");
    }
}

/// "(--unfinished prints them)" only when --unfinished was not given.
#[test]
fn the_unfinished_hint_only_without_unfinished() {
    let dir = TempDir::new("report-unfinished");
    let file = dir.path("open.trace");
    std::fs::write(
        &file,
        "=> uid: 0 pid: 1 tid: 1 comm: cat open: /etc/hosts 100\n",
    )
    .unwrap();
    for (args, hint) in [(&[][..], true), (&["--unfinished"][..], false)] {
        let out = trace_merge().args(args).arg(&file).output().unwrap();
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains("1 opens never completed"), "{err}");
        assert_eq!(
            err.contains("--unfinished prints them"),
            hint,
            "{args:?}: {err}"
        );
    }
}
