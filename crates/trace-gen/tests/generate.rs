//! `trace-gen --generate`: the man page and the shell completions come from the same clap
//! definition as `--help`, so they name every option and every backend.

use crate::common::trace_gen;

fn generate(kind: &str) -> String {
    let out = trace_gen().args(["--generate", kind]).output().unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.stderr.is_empty());
    String::from_utf8(out.stdout).unwrap()
}

#[test]
fn man_page_names_the_options_and_backends() {
    let man = generate("man");
    assert!(man.contains(".TH trace-gen 1"), "{man}");
    for option in [
        "\\-\\-backend",
        "\\-\\-print\\-script",
        "\\-\\-no\\-follow",
        "\\-\\-pid",
    ] {
        assert!(man.contains(option), "{option} missing:\n{man}");
    }
    assert!(man.contains("systemtap"), "{man}");
    assert!(
        !man.contains("\\fB\\-\\-generate"),
        "--generate is for packagers, hidden from the options:\n{man}"
    );
}

#[test]
fn completions_for_bash_zsh_and_fish() {
    let bash = generate("completions-bash");
    assert!(bash.contains("-o default trace-gen"), "{bash}");
    assert!(bash.contains("bpftrace systemtap dtrace"), "{bash}");
    let zsh = generate("completions-zsh");
    assert!(zsh.starts_with("#compdef trace-gen"), "{zsh}");
    assert!(zsh.contains("--backend"), "{zsh}");
    let fish = generate("completions-fish");
    assert!(fish.contains("complete -c trace-gen -l backend"), "{fish}");
    assert!(fish.contains("systemtap"), "{fish}");
}

#[test]
fn an_unknown_kind_is_a_usage_error() {
    let out = trace_gen().args(["--generate", "pdf"]).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("--generate"));
}
