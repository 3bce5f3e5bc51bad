//! The demo installs only what it runs: scripts/demo.sh calls scripts/install-tracer.sh (not
//! the tests' scripts/install-deps.sh), whose package list (`--list`, read from the script
//! itself) holds the demo's tracer and, on a machine without one, the Rust toolchain that
//! builds it; and every tracer the demo runs is in that list.

use std::path::Path;
use std::process::Command;

fn script(name: &str) -> String {
    std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("scripts")
            .join(name),
    )
    .unwrap()
}

/// The commands of a shell script: its lines without comments and blanks.
fn commands(text: &str) -> Vec<&str> {
    text.lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .collect()
}

#[test]
fn demo_installs_only_what_it_runs() {
    let demo = script("demo.sh");
    let demo_commands = commands(&demo);
    // The demo's installer is the small one, run once; the tests' one is not run at all.
    let installs: Vec<&&str> = demo_commands
        .iter()
        .filter(|l| l.contains("install-"))
        .collect();
    assert_eq!(installs, [&"bash scripts/install-tracer.sh"], "{demo}");
    let listed = Command::new("bash")
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/install-tracer.sh"))
        .arg("--list")
        .output()
        .unwrap();
    assert!(listed.status.success());
    let packages: Vec<String> = String::from_utf8(listed.stdout)
        .unwrap()
        .lines()
        .map(str::to_owned)
        .collect();
    // What the demo runs, by the package that brings it: the tracer of each `trace-gen -X` it
    // runs, and cargo (with rustc) for its build when the machine has no toolchain.
    let runs = |package: &str| match package {
        "bpftrace" => demo_commands.iter().any(|l| l.contains("trace-gen -B")),
        "systemtap" => demo_commands.iter().any(|l| l.contains("trace-gen -S")),
        "cargo" | "rustc" => demo_commands.iter().any(|l| l.starts_with("cargo build")),
        _ => false,
    };
    for package in &packages {
        assert!(
            runs(package),
            "install-tracer.sh installs {package}, which the demo does not run"
        );
    }
    assert!(packages.iter().any(|p| p == "bpftrace"), "{packages:?}");
    // And the tests' installer still starts with the demo's part.
    let deps = script("install-deps.sh");
    assert!(
        commands(&deps)
            .iter()
            .any(|l| l.contains("install-tracer.sh")),
        "install-deps.sh runs install-tracer.sh"
    );
}
