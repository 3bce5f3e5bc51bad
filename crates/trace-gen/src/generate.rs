//! Shell completions and the man page, generated from the clap definition so they can never
//! disagree with `--help`.
//!
//! `trace-gen --generate KIND` prints one of them on stdout and exits (the flag is hidden
//! from `--help`, as it is for packagers; the README documents it):
//!
//! ```text
//! trace-gen --generate man > trace-gen.1
//! trace-gen --generate completions-bash > /usr/share/bash-completion/completions/trace-gen
//! trace-gen --generate completions-zsh  > /usr/share/zsh/vendor-completions/_trace-gen
//! trace-gen --generate completions-fish > /usr/share/fish/vendor_completions.d/trace-gen.fish
//! ```
//!
//! A flag rather than an xtask: the binary a user installed is the one whose options the
//! files describe, with no source tree needed.

use std::io::{self, Write};

use clap_complete::Shell;

/// What `--generate` prints.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Generate {
    /// The man page, roff (`man -l trace-gen.1`).
    Man,
    /// bash completions.
    CompletionsBash,
    /// zsh completions.
    CompletionsZsh,
    /// fish completions.
    CompletionsFish,
    /// elvish completions.
    CompletionsElvish,
    /// PowerShell completions.
    CompletionsPowershell,
}

/// Writes `what` for `command` (the binary's `Cli::command()`) to `out`.
pub fn generate(what: Generate, mut command: clap::Command, out: &mut dyn Write) -> io::Result<()> {
    let name = command.get_name().to_string();
    let shell = match what {
        Generate::Man => return clap_mangen::Man::new(command).render(out),
        Generate::CompletionsBash => Shell::Bash,
        Generate::CompletionsZsh => Shell::Zsh,
        Generate::CompletionsFish => Shell::Fish,
        Generate::CompletionsElvish => Shell::Elvish,
        Generate::CompletionsPowershell => Shell::PowerShell,
    };
    clap_complete::generate(shell, &mut command, name, out);
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::{Arg, Command};

    fn command() -> Command {
        Command::new("trace-gen")
            .about("Trace open() calls with a dynamic tracer")
            .arg(
                Arg::new("print-script")
                    .long("print-script")
                    .help("Print the script")
                    .action(clap::ArgAction::SetTrue),
            )
            .arg(Arg::new("backend").long("backend").value_parser([
                "bpftrace",
                "systemtap",
                "dtrace",
            ]))
    }

    fn text(what: Generate) -> String {
        let mut out = Vec::new();
        generate(what, command(), &mut out).unwrap();
        String::from_utf8(out).unwrap()
    }

    #[test]
    fn man_page_has_the_options() {
        let man = text(Generate::Man);
        assert!(
            man.starts_with(".ie \\n(.g .ds Aq"),
            "roff preamble: {}",
            &man[..40]
        );
        assert!(man.contains(".TH trace-gen"), "{man}");
        assert!(man.contains("\\-\\-print\\-script"), "{man}");
        assert!(man.contains("Print the script"), "{man}");
    }

    #[test]
    fn completions_name_the_options_and_values() {
        let bash = text(Generate::CompletionsBash);
        assert!(bash.contains("-o default trace-gen"), "{bash}");
        assert!(
            bash.contains("--print-script") && bash.contains("systemtap"),
            "{bash}"
        );
        let zsh = text(Generate::CompletionsZsh);
        assert!(zsh.starts_with("#compdef trace-gen"), "{zsh}");
        let fish = text(Generate::CompletionsFish);
        assert!(
            fish.contains("complete -c trace-gen -l print-script"),
            "{fish}"
        );
    }
}
