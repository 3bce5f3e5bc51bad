//! The README's DuckDB recipes, run as written: tests/recipes/run_duckdb_recipes.py takes the
//! section out of README.md and runs its shell lines and its SQL (DuckDB from PyPI, in the
//! virtualenv that scripts/install-deps.sh makes) on a generated two-host trace; their numbers
//! must equal `trace-merge --summary`'s on the same traces: counts, failures, and the
//! nearest-rank percentiles.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command as StdCommand;

use serde_json::Value;

use crate::common::{bin, in_ci, trace_merge, TempDir};
use crate::opens_corpus::{fleet_trace, late_failures_trace, Open};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The virtualenv's python with duckdb, or None (outside CI only).
fn duckdb_python() -> Option<PathBuf> {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo().join("target"));
    let python = target.join("duckdb-venv/bin/python");
    let ok = StdCommand::new(&python)
        .args(["-c", "import duckdb"])
        .output()
        .is_ok_and(|o| o.status.success());
    if !ok {
        assert!(
            !in_ci(),
            "DuckDB is required in CI at {} (scripts/install-deps.sh installs it)",
            python.display()
        );
        eprintln!(
            "SKIPPED: no DuckDB at {} (run scripts/install-deps.sh)",
            python.display()
        );
        return None;
    }
    Some(python)
}

/// What one SQL statement of the recipes returned.
struct Result {
    label: String,
    rows: Vec<Vec<Value>>,
}

/// The figures of `trace-merge --summary ARGS`: opens, failed, p50, p90, p99, max (ns).
fn summary(args: &[&str]) -> [u64; 6] {
    let out = trace_merge().arg("--summary").args(args).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let text = String::from_utf8(out.stdout).unwrap();
    let word_after = |key: &str| -> u64 {
        let at = text.find(key).unwrap_or_else(|| panic!("{key} in {text}")) + key.len();
        text[at..]
            .split_whitespace()
            .next()
            .unwrap()
            .parse()
            .unwrap()
    };
    let ns = |label: &str| -> u64 {
        let line = text
            .lines()
            .find(|l| l.trim_start().starts_with(label))
            .unwrap_or_else(|| panic!("{label} in {text}"));
        let inner = &line[line.rfind('(').unwrap() + 1..line.rfind(" ns)").unwrap()];
        inner.parse().unwrap()
    };
    assert!(
        !text.contains("within"),
        "the test traces are small enough for exact figures"
    );
    [
        word_after("opens:"),
        word_after("failed:"),
        ns("p50"),
        ns("p90"),
        ns("p99"),
        ns("max"),
    ]
}

fn int(v: &Value) -> u64 {
    v.as_u64().unwrap_or_else(|| panic!("not a count: {v}"))
}

#[test]
fn readme_duckdb_recipes_agree_with_the_summary() {
    let (web1, opens1) = fleet_trace("web1", 4000, 21);
    let (web2, _) = fleet_trace("web2", 2500, 22);
    check_duckdb_recipes("recipes", web1, &opens1, web2);
}

/// 30,000 opens that succeed, then failures and paths that are not UTF-8: what sampled type
/// inference got wrong (errno, path_b64 typed NULL). The recipes read with the schema's types
/// give --summary's answers, errno names and exact bytes included.
#[test]
fn readme_duckdb_recipes_keep_late_failures_and_bytes() {
    let (web1, opens1) = late_failures_trace("web1", 30_000, 400, 31);
    let (web2, _) = fleet_trace("web2", 2500, 22);
    check_duckdb_recipes("recipes-late", web1, &opens1, web2);
}

/// The README's DuckDB section run on `web1` (whose opens are `opens1`) and `web2`, every
/// figure checked against trace-merge's own.
fn check_duckdb_recipes(tag: &str, web1: Vec<u8>, opens1: &[Open], web2: Vec<u8>) {
    let Some(python) = duckdb_python() else {
        return;
    };
    let dir = TempDir::new(tag);
    std::fs::write(dir.path("web1.trace"), web1).unwrap();
    std::fs::write(dir.path("web2.trace"), web2).unwrap();
    let path = format!(
        "{}:{}",
        bin().parent().unwrap().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let out = StdCommand::new(&python)
        .arg(repo().join("crates/trace-merge/tests/recipes/run_duckdb_recipes.py"))
        .arg(repo().join("README.md"))
        .current_dir(&dir.0)
        .env("PATH", path)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "the recipes failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let results: Vec<Result> = String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|l| {
            let v: Value = serde_json::from_str(l).unwrap();
            Result {
                label: v["label"].as_str().unwrap().to_string(),
                rows: serde_json::from_value(v["rows"].clone()).unwrap(),
            }
        })
        .collect();
    let rows = |label: &str| -> &Vec<Vec<Value>> {
        &results
            .iter()
            .find(|r| r.label.starts_with(label))
            .unwrap_or_else(|| panic!("no recipe labelled {label:?}"))
            .rows
    };
    let web1 = dir.path("web1.trace");
    let web1 = web1.to_str().unwrap();
    let [opens, failed, p50, p90, p99, max] = summary(&[web1]);
    assert_eq!(opens, opens1.len() as u64);

    let totals = &rows("Totals")[0];
    assert_eq!((int(&totals[0]), int(&totals[1])), (opens, failed));
    let pct = &rows("Latency percentiles")[0];
    assert_eq!(
        pct.iter().map(int).collect::<Vec<_>>(),
        [p50, p90, p99, max]
    );

    // Top failing paths: the failures of each path, as --summary-by path counts them.
    let by_path = trace_merge()
        .args(["--summary-by", "path", web1])
        .output()
        .unwrap();
    // Paths that are not UTF-8 show their other bytes as \xHH: compared in their lossy form.
    let by_path = lossy_unescaped(&by_path.stdout);
    let table = &by_path[by_path.find("summary by path:\n").expect("the table")..];
    let failed_of: HashMap<&str, u64> = table
        .lines()
        .skip(2)
        .take_while(|l| !l.is_empty())
        .map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            (*f.last().unwrap(), f[1].parse().unwrap())
        })
        .collect();
    let top = rows("Top failing paths");
    assert_eq!(top.len(), 10);
    assert_eq!(int(&top[0][1]), *failed_of.values().max().unwrap());
    for row in top {
        let path = row[0].as_str().unwrap();
        assert_eq!(int(&row[1]), failed_of[path], "{row:?}");
        // Every failure keeps its errno, and a path that is not UTF-8 its bytes.
        assert!(
            row[2].as_str().is_some_and(|e| e.starts_with('E')),
            "{row:?}"
        );
        let exact = opens1
            .iter()
            .find(|o| o.path == path)
            .expect("a path of the trace");
        assert_eq!(
            row[3].is_string(),
            exact.path.contains('\u{fffd}'),
            "{row:?}"
        );
        if let Some(b64) = row[3].as_str() {
            let bytes = crate::common::base64_decode(b64);
            assert!(std::str::from_utf8(&bytes).is_err(), "{row:?}");
            assert_eq!(String::from_utf8_lossy(&bytes), path, "{row:?}");
        }
    }

    // Failures by errno: as --summary's table, name by name.
    let summary_text = String::from_utf8(
        trace_merge()
            .args(["--summary", web1])
            .output()
            .unwrap()
            .stdout,
    )
    .unwrap();
    let errno_table = &summary_text[summary_text.find("failures by errno:").expect("the table")..];
    let by_errno: HashMap<String, u64> = errno_table
        .lines()
        .skip(2)
        .take_while(|l| !l.trim().is_empty())
        .map(|l| {
            let f: Vec<&str> = l.split_whitespace().collect();
            (f[1].to_owned(), f[0].parse().unwrap())
        })
        .collect();
    let errnos = rows("Failures by errno");
    assert_eq!(errnos.len(), by_errno.len(), "{errnos:?} vs {by_errno:?}");
    for row in errnos {
        let name = row[0].as_str().expect("an errno name, never NULL");
        assert_eq!(int(&row[1]), by_errno[name], "{row:?}");
    }

    // p99 by process name: each as --summary --comm NAME gives it.
    let by_comm = rows("p99 latency by process name");
    let comms: std::collections::HashSet<&str> = opens1.iter().map(|o| o.comm).collect();
    assert_eq!(by_comm.len(), comms.len());
    for row in by_comm {
        let comm = row[0].as_str().unwrap();
        let s = summary(&["--comm", comm, web1]);
        assert_eq!((int(&row[1]), int(&row[2])), (s[0], s[4]), "{comm}");
    }

    // Opens per second, against the trace itself.
    let mut per_second: HashMap<u64, (u64, u64)> = HashMap::new();
    for o in opens1 {
        let e = per_second.entry(o.start_ns / 1_000_000_000).or_default();
        e.0 += 1;
        e.1 += u64::from(o.ret < 0);
    }
    let seconds = rows("Opens per second");
    assert_eq!(seconds.len(), per_second.len());
    for row in seconds {
        assert_eq!(
            per_second[&int(&row[0])],
            (int(&row[1]), int(&row[2])),
            "{row:?}"
        );
    }

    // The Parquet copy holds every open.
    assert_eq!(int(&rows("The Parquet file, read back")[0][0]), opens);
    assert!(dir.path("opens.parquet").exists());

    // Several hosts, one row each, as each host's own summary.
    let hosts = rows("Per host: opens, failures, p99");
    assert_eq!(hosts.len(), 2);
    for row in hosts {
        let host = row[0].as_str().unwrap();
        let trace = dir.path(&format!("{host}.trace"));
        let s = summary(&[trace.to_str().unwrap()]);
        assert_eq!(
            (int(&row[1]), int(&row[2]), int(&row[3])),
            (s[0], s[1], s[4]),
            "{host}"
        );
    }
}

/// The virtualenv's python with PySpark, and a Java runtime, or None (outside CI only).
fn spark_python() -> Option<PathBuf> {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| repo().join("target"));
    let python = target.join("spark-venv/bin/python");
    let pyspark = StdCommand::new(&python)
        .args(["-c", "import pyspark"])
        .output()
        .is_ok_and(|o| o.status.success());
    let java = StdCommand::new("java")
        .arg("-version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !(pyspark && java) {
        let why = format!(
            "PySpark at {} and java are required (scripts/install-deps.sh installs both)",
            python.display()
        );
        assert!(!in_ci(), "{why}");
        eprintln!("SKIPPED: {why}");
        return None;
    }
    Some(python)
}

/// The README's Spark recipe, run as written on three hosts (one with 30,000 successes before
/// its failures and non-UTF-8 paths): per host, opens, failures and p99 equal that host's
/// `--summary`, and the top failing paths their `--summary-by path` failures.
#[test]
fn readme_spark_recipe_agrees_with_each_hosts_summary() {
    let Some(python) = spark_python() else {
        return;
    };
    let dir = TempDir::new("spark");
    let traces = [
        // Sizes that are not multiples of 100: ceil(0.99 n) is then not floor(0.99 n).
        late_failures_trace("web1", 30_000, 437, 41).0,
        fleet_trace("web2", 4013, 42).0,
        fleet_trace("web3", 2531, 43).0,
    ];
    for (i, trace) in traces.iter().enumerate() {
        std::fs::write(dir.path(&format!("web{}.trace", i + 1)), trace).unwrap();
    }
    std::fs::copy(
        repo().join("crates/trace-merge/schema/opens.schema.json"),
        dir.path("opens.schema.json"),
    )
    .unwrap();
    let path = format!(
        "{}:{}",
        bin().parent().unwrap().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let out = StdCommand::new(&python)
        .arg(repo().join("crates/trace-merge/tests/recipes/run_spark_recipe.py"))
        .arg(repo().join("README.md"))
        .current_dir(&dir.0)
        .env("PATH", path)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "the Spark recipe failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let result: Value = serde_json::from_slice(&out.stdout).unwrap();
    let per_host = result["per_host"].as_array().unwrap();
    assert_eq!(per_host.len(), 3, "{per_host:?}");
    let top_failing = result["top_failing"].as_array().unwrap();
    for row in per_host {
        let host = row[0].as_str().unwrap();
        let trace = dir.path(&format!("{host}.trace"));
        let trace = trace.to_str().unwrap();
        let s = summary(&[trace]);
        assert_eq!(
            (int(&row[1]), int(&row[2]), int(&row[3])),
            (s[0], s[1], s[4]),
            "{host}: (opens, failed, p99) against --summary"
        );
        let by_path = trace_merge()
            .args(["--summary-by", "path", trace])
            .output()
            .unwrap();
        let by_path = lossy_unescaped(&by_path.stdout);
        let table = &by_path[by_path.find("summary by path:\n").expect("the table")..];
        let failed_of: HashMap<&str, u64> = table
            .lines()
            .skip(2)
            .take_while(|l| !l.is_empty())
            .map(|l| {
                let f: Vec<&str> = l.split_whitespace().collect();
                (*f.last().unwrap(), f[1].parse().unwrap())
            })
            .collect();
        let top: Vec<&Vec<Value>> = top_failing
            .iter()
            .map(|r| r.as_array().unwrap())
            .filter(|r| r[0] == host)
            .collect();
        assert_eq!(top.len(), 5, "{host}: {top:?}");
        assert_eq!(
            int(&top[0][3]),
            *failed_of.values().max().unwrap(),
            "{host}"
        );
        for row in top {
            let path = row[1].as_str().unwrap();
            assert_eq!(int(&row[3]), failed_of[path], "{host}: {row:?}");
            assert!(
                row[4].as_str().is_some_and(|e| e.starts_with('E')),
                "{row:?}"
            );
            if let Some(b64) = row[2].as_str() {
                let bytes = crate::common::base64_decode(b64);
                assert_eq!(String::from_utf8_lossy(&bytes), path, "{row:?}");
            }
        }
    }
}

/// Text output with each `\xHH` escape of a byte that is not UTF-8 (0x80 and up) turned back
/// into that byte, then read as UTF-8 the lossy way (as JSON's `path` is): the form the DuckDB
/// and Spark rows use. An escaped backslash (`\\`) is kept as it is.
fn lossy_unescaped(out: &[u8]) -> String {
    let mut bytes = Vec::with_capacity(out.len());
    let mut i = 0;
    while i < out.len() {
        if out[i] == b'\\' && out.get(i + 1) == Some(&b'\\') {
            bytes.extend_from_slice(b"\\\\");
            i += 2;
            continue;
        }
        if out[i] == b'\\' && out.get(i + 1) == Some(&b'x') {
            let hex = out
                .get(i + 2..i + 4)
                .and_then(|h| std::str::from_utf8(h).ok());
            if let Some(b) = hex.and_then(|h| u8::from_str_radix(h, 16).ok()) {
                if b >= 0x80 {
                    bytes.push(b);
                    i += 4;
                    continue;
                }
            }
        }
        bytes.push(out[i]);
        i += 1;
    }
    String::from_utf8_lossy(&bytes).into_owned()
}
