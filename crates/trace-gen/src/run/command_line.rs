//! `--print-script`, and the tracer's command line as a shell would read it: what the user sees
//! is exactly what [`super::run`] starts.

use crate::config::Config;
use crate::script::ScriptSpec;
use std::io::Write;

/// Prints the script on `out` and the tracer's command line on `err` (`--print-script`).
pub fn print_script(
    config: &Config,
    out: &mut dyn Write,
    err: &mut dyn Write,
) -> std::io::Result<()> {
    let backend = &*config.backend;
    out.write_all(backend.script(&config.spec).as_bytes())?;
    out.flush()?;
    let line = command_line(config, &config.spec, None);
    writeln!(err, "{line}")?;
    if let Some(cmd) = &config.command {
        let how = match super::held::simple_words(cmd) {
            Some(_) => format!("{cmd} (run directly: no shell syntax)"),
            None => format!("`sh -c {}`", shell_quote(cmd)),
        };
        writeln!(
            err,
            "# PID: the pid of {how}, started once the probes are attached"
        )?;
    }
    Ok(())
}

/// The tracer's command line as a shell would read it, variables first, script on stdin.
pub fn command_line(config: &Config, spec: &ScriptSpec, pid: Option<u32>) -> String {
    let backend = &*config.backend;
    let mut words: Vec<String> = backend
        .env(spec)
        .iter()
        .map(|(k, v)| {
            format!(
                "{}={}",
                k.to_string_lossy(),
                shell_quote(&v.to_string_lossy())
            )
        })
        .collect();
    words.push(shell_quote(&config.tracer.to_string_lossy()));
    words.extend(
        backend
            .args(spec, pid)
            .iter()
            .map(|a| shell_quote(&a.to_string_lossy())),
    );
    words.push("< script".to_owned());
    words.join(" ")
}

/// Quotes `s` for a POSIX shell when it needs it.
pub fn shell_quote(s: &str) -> String {
    let plain = !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b"-_./=:,+@%".contains(&b));
    if plain {
        s.to_owned()
    } else {
        format!("'{}'", s.replace('\'', r"'\''"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quoting() {
        assert_eq!(shell_quote("bpftrace"), "bpftrace");
        assert_eq!(shell_quote("a b"), "'a b'");
        assert_eq!(shell_quote("it's"), r"'it'\''s'");
        assert_eq!(shell_quote(""), "''");
    }
}
