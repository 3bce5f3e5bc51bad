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

/// clap_complete 4.6 writes a possible value's help inside double quotes in the fish and zsh
/// scripts without escaping `"` (clap-rs/clap#6458 for zsh; fish alike): one `"` in a value's
/// doc comment makes fish refuse that option's line and zsh's completion of it fail. So no
/// value's help may hold one.
#[test]
fn no_possible_value_help_breaks_the_shell_completions() {
    use clap::CommandFactory;
    let command = trace_gen::cli::Cli::command();
    for arg in command.get_arguments() {
        for value in arg.get_possible_values() {
            let help = value
                .get_help()
                .map(ToString::to_string)
                .unwrap_or_default();
            assert!(
                !help.contains('"'),
                "--{} {}: a double quote in its help: {help}",
                arg.get_id(),
                value.get_name()
            );
        }
    }
}
