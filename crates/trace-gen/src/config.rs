//! The validated configuration: [`Config::from_cli`] resolves users, checks names, picks the
//! backend and the tracer binary, and builds the [`ScriptSpec`], so that the rest of trace-gen
//! never sees a raw flag.

use crate::backend::{self, tracer_path, Backend};
use crate::cgroup::CgroupFilter;
use crate::cli::{Cli, TargetOsArg};
use crate::error::Error;
use crate::script::{CommName, ScriptSpec, Target, TargetOs};
use std::ffi::OsString;
use std::path::PathBuf;
use std::sync::Arc;

/// Everything trace-gen will do, validated.
#[derive(Debug, Clone)]
pub struct Config {
    /// The tracer (`--backend`, `-B`/`-S`/`-D`, or this host's default).
    pub backend: Arc<dyn Backend>,
    /// The tracer's binary: from its `*_PATH` variable, or the default (looked up in PATH when
    /// it is a bare name).
    pub tracer: PathBuf,
    /// What the script must do.
    pub spec: ScriptSpec,
    /// `-c CMD`.
    pub command: Option<String>,
    /// `--print-script`.
    pub print_script: bool,
}

impl Config {
    /// Validates the command line. `env` reads an environment variable (the real environment
    /// in main, a map in tests).
    pub fn from_cli(cli: Cli, env: impl Fn(&str) -> Option<OsString>) -> Result<Config, Error> {
        check_combinations(&cli)?;
        check_pids(&cli.pid, !cli.print_script)?;
        let uid = cli.uid.as_deref().map(resolve_user).transpose()?;
        let comm = cli
            .name
            .as_deref()
            .map(|n| {
                CommName::new(n).map_err(|why| Error::BadComm {
                    name: n.to_owned(),
                    why,
                })
            })
            .transpose()?;
        let target = if !cli.pid.is_empty() {
            let mut pids = cli.pid.clone();
            pids.sort_unstable();
            pids.dedup();
            Target::Pids(pids)
        } else if cli.command.is_some() {
            Target::Command
        } else {
            Target::SystemWide {
                exclude: vec![std::process::id()],
            }
        };
        let target_os = match cli.target_os {
            Some(os) => target_os_of(os),
            None => host_target_os(),
        };
        let backend: Arc<dyn Backend> = match cli.backend_name() {
            Some(name) => backend::make(name).into(),
            None => backend::host_default(&env)?.into(),
        };
        check_target_os(&cli, &*backend)?;
        let cgroup = cli
            .cgroup
            .as_deref()
            .map(|path| cgroup_filter(path, &*backend, target_os))
            .transpose()?;
        let tracer = tracer_path(&*backend, &env);
        if !cli.print_script {
            check_path_variable(&*backend, &tracer, &env)?;
        }
        Ok(Config {
            backend,
            tracer,
            spec: ScriptSpec {
                target,
                follow: !cli.no_follow,
                stop_at_exit: cli.stop_at_exit,
                resolve_paths: !cli.no_resolve,
                uid,
                comm,
                cgroup,
                buffer_size: cli
                    .buffer_size
                    .unwrap_or_else(|| default_buffer_size(cpus())),
                target_os,
            },
            command: cli.command,
            print_script: cli.print_script,
        })
    }
}

/// Options that are refused together, or without the one they need.
fn check_combinations(cli: &Cli) -> Result<(), Error> {
    if cli.no_follow && cli.pid.is_empty() && cli.command.is_none() {
        return Err(Error::BadCombination {
            options: "--no-follow without -p or -c",
            why: "there is no process to stop following (without -p or -c the whole system \
                  is traced)",
        });
    }
    if cli.stop_at_exit && cli.command.is_none() {
        return Err(Error::BadCombination {
            options: "--stop-at-exit without -c",
            why: "it stops tracing when the -c command exits; with -p, tracing stops when the \
                  processes exit",
        });
    }
    Ok(())
}

/// `--target-os` chooses a DTrace dialect: with another tracer it would be ignored.
fn check_target_os(cli: &Cli, backend: &dyn Backend) -> Result<(), Error> {
    if cli.target_os.is_some() && backend.name() != "dtrace" {
        return Err(Error::BadCombination {
            options: "--target-os without DTrace",
            why: "it chooses the DTrace dialect; bpftrace and SystemTap scripts are for Linux \
                  only (add -D, or leave --target-os out)",
        });
    }
    Ok(())
}

/// `--cgroup PATH`: the group (exit 2 when PATH is not one), and the kernel's layout the
/// probes read it with. SystemTap cannot filter by group.
fn cgroup_filter(
    path: &std::ffi::OsStr,
    backend: &dyn Backend,
    target_os: TargetOs,
) -> Result<CgroupFilter, Error> {
    let linux_dtrace = backend.name() == "dtrace" && target_os == TargetOs::Linux;
    if backend.name() != "bpftrace" && !linux_dtrace {
        return Err(Error::BadCombination {
            options: "--cgroup without bpftrace or DTrace for Linux",
            why: "only bpftrace (-B) and DTrace for Linux (-D) can test a process's cgroup in \
                  the kernel; SystemTap and the other DTrace platforms cannot here",
        });
    }
    let group = crate::cgroup::find_group(path).map_err(|why| Error::BadCgroup {
        path: path.to_string_lossy().into_owned(),
        why,
    })?;
    let layout = crate::cgroup::Layout::running().map_err(Error::CgroupLayout)?;
    Ok(CgroupFilter { group, layout })
}

/// `-p 0` is never a process; with `running`, every pid must exist now.
fn check_pids(pids: &[u32], running: bool) -> Result<(), Error> {
    for &pid in pids {
        if pid == 0 {
            return Err(Error::BadPid {
                pid,
                why: "not a process (process ids start at 1)",
            });
        }
        if running && !crate::sys::process_exists(pid) {
            return Err(Error::BadPid {
                pid,
                why: "no such process",
            });
        }
        if !running {
            continue;
        }
        // What /proc says of it (a process that vanished since is caught by the tracer's
        // sweep: the run then ends at once).
        let Ok(status) = std::fs::read_to_string(format!("/proc/{pid}/status")) else {
            continue;
        };
        let field = |name: &str| {
            status
                .lines()
                .find_map(|l| l.strip_prefix(name))
                .map(str::trim)
        };
        if field("State:").is_some_and(|s| s.starts_with('Z') || s.starts_with('X')) {
            return Err(Error::BadPid {
                pid,
                why: "not a running process: a zombie (it has exited; its parent has not \
                      reaped it yet)",
            });
        }
        if let Some(tgid) = field("Tgid:").and_then(|t| t.parse::<u32>().ok()) {
            if tgid != pid {
                return Err(Error::ThreadNotProcess {
                    tid: pid,
                    pid: tgid,
                });
            }
        }
    }
    Ok(())
}

/// A `*_PATH` variable that is set (not empty) must name an executable file: a wrong value
/// is an error naming it, never a fallback to the default or to another tracer.
fn check_path_variable(
    backend: &dyn Backend,
    tracer: &std::path::Path,
    env: &dyn Fn(&str) -> Option<OsString>,
) -> Result<(), Error> {
    let var = backend.path_var();
    if !env(var).is_some_and(|v| !v.is_empty()) || backend::is_executable(tracer) {
        return Ok(());
    }
    let why = match std::fs::metadata(tracer) {
        Err(_) => "no such file",
        Ok(m) if !m.is_file() => "not a file",
        Ok(_) => "not executable",
    };
    Err(Error::BadPathVariable {
        var,
        path: tracer.to_owned(),
        why,
        default: backend.default_path(env),
    })
}

fn resolve_user(s: &str) -> Result<u32, Error> {
    if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) {
        return match s.parse::<u32>() {
            Ok(n) if n != u32::MAX => Ok(n),
            _ => Err(Error::BadUid(s.to_owned())),
        };
    }
    uzers::get_user_by_name(s)
        .map(|u| u.uid())
        .ok_or_else(|| Error::UnknownUser(s.to_owned()))
}

fn target_os_of(os: TargetOsArg) -> TargetOs {
    match os {
        TargetOsArg::Solaris10 => TargetOs::Solaris10,
        TargetOsArg::Solaris11 => TargetOs::Solaris11,
        TargetOsArg::Illumos => TargetOs::Illumos,
        TargetOsArg::Freebsd => TargetOs::FreeBsd,
        TargetOsArg::Macos => TargetOs::MacOs,
        TargetOsArg::Linux => TargetOs::Linux,
    }
}

/// This host's DTrace dialect. On Solaris, `uname -r` says 5.10 or 5.11 (the seed's test).
fn host_target_os() -> TargetOs {
    if cfg!(target_os = "illumos") {
        TargetOs::Illumos
    } else if cfg!(target_os = "solaris") {
        let release = std::process::Command::new("uname").arg("-r").output().ok();
        let minor = release
            .and_then(|o| String::from_utf8(o.stdout).ok())
            .and_then(|r| {
                r.trim()
                    .rsplit('.')
                    .next()
                    .and_then(|m| m.parse::<u32>().ok())
            });
        if minor.is_some_and(|m| m < 11) {
            TargetOs::Solaris10
        } else {
            TargetOs::Solaris11
        }
    } else if cfg!(target_os = "freebsd") {
        TargetOs::FreeBsd
    } else if cfg!(target_os = "macos") {
        TargetOs::MacOs
    } else {
        TargetOs::Linux
    }
}

/// The per-CPU buffer when `--buffer-size` is not given: 128 MiB shared among the CPUs, at
/// least 16 MiB and at most 64 MiB each. A burst on a small machine has few CPUs to spread
/// over, so each buffer must hold more of it; a large machine spreads it, and its kernel
/// memory (one buffer per CPU) is kept to 128 MiB until 8 CPUs, 16 MiB each beyond.
pub fn default_buffer_size(cpus: usize) -> u64 {
    ((128u64 << 20) / cpus.max(1) as u64).clamp(16 << 20, 64 << 20)
}

/// The CPUs this process may run on.
pub fn cpus() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

#[cfg(test)]
mod tests {
    #[test]
    fn default_buffer_size_shares_128m_within_16m_and_64m() {
        assert_eq!(default_buffer_size(1), 64 << 20);
        assert_eq!(default_buffer_size(2), 64 << 20);
        assert_eq!(default_buffer_size(4), 32 << 20);
        assert_eq!(default_buffer_size(8), 16 << 20);
        assert_eq!(default_buffer_size(64), 16 << 20);
    }

    use super::*;
    use clap::Parser;

    fn config(args: &[&str]) -> Result<Config, Error> {
        let cli =
            Cli::try_parse_from(std::iter::once("trace-gen").chain(args.iter().copied())).unwrap();
        Config::from_cli(cli, |k| (k == "PATH").then(|| "/nonexistent".into()))
    }

    #[test]
    fn targets() {
        let c = config(&["-B", "-p", "7", "-p", "3", "-p", "7"]).unwrap();
        assert_eq!(c.spec.target, Target::Pids(vec![3, 7]));
        let c = config(&["-B", "-c", "ls"]).unwrap();
        assert_eq!(c.spec.target, Target::Command);
        assert_eq!(c.command.as_deref(), Some("ls"));
        let c = config(&["-B"]).unwrap();
        assert_eq!(
            c.spec.target,
            Target::SystemWide {
                exclude: vec![std::process::id()]
            }
        );
        assert!(c.spec.follow);
        assert!(!c.spec.stop_at_exit);
        assert!(
            config(&["-B", "-c", "ls", "--stop-at-exit"])
                .unwrap()
                .spec
                .stop_at_exit
        );
        assert!(
            !config(&["-B", "-p", "1", "--no-follow"])
                .unwrap()
                .spec
                .follow
        );
    }

    #[test]
    fn users_by_number_or_name() {
        assert_eq!(config(&["-B", "-u", "1000"]).unwrap().spec.uid, Some(1000));
        assert_eq!(config(&["-B", "-u", "root"]).unwrap().spec.uid, Some(0));
        let err = config(&["-B", "-u", "no-such-user-xyz"]).unwrap_err();
        assert_eq!(
            err.to_string(),
            "-u no-such-user-xyz: no such user (give a user name or a numeric uid)"
        );
        assert_eq!(err.exit_code(), 2);
    }

    #[test]
    fn hostile_names_are_refused_with_the_flag_named() {
        for bad in [
            r#"x" } system("id") {"#,
            "a\nb",
            "\\",
            "",
            "sixteen-bytes-xx",
        ] {
            let err = config(&["-B", "-n", bad]).unwrap_err();
            assert!(err.to_string().starts_with("-n "), "{err}");
        }
        assert_eq!(
            config(&["-B", "-n", "Web Content"])
                .unwrap()
                .spec
                .comm
                .unwrap()
                .as_str(),
            "Web Content"
        );
    }

    #[test]
    fn backend_by_flag_name_or_alias() {
        assert_eq!(config(&["-S"]).unwrap().backend.name(), "systemtap");
        assert_eq!(
            config(&["--backend", "stap"]).unwrap().backend.name(),
            "systemtap"
        );
        assert_eq!(
            config(&["--backend", "dtrace"]).unwrap().backend.name(),
            "dtrace"
        );
        let c = config(&["-B"]).unwrap();
        assert_eq!(c.backend.name(), "bpftrace");
        assert_eq!(c.tracer, PathBuf::from("bpftrace"));
        if cfg!(target_os = "linux") {
            assert_eq!(config(&[]).unwrap().backend.name(), "systemtap");
        }
    }

    #[test]
    fn target_os_flag() {
        assert_eq!(
            config(&["-D", "--target-os", "solaris10"])
                .unwrap()
                .spec
                .target_os,
            TargetOs::Solaris10
        );
        assert_eq!(
            config(&["-D", "--target-os", "macos"])
                .unwrap()
                .spec
                .target_os,
            TargetOs::MacOs
        );
    }
}
