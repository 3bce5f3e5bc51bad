//! `-u NAME` with a name the user database does not know is a usage error (exit 2, one line):
//! names are matched through the same database as the output's user column, so such a name
//! matches nothing, and an empty output would read as "that user opened nothing". A saved
//! trace from another host is read with that host's `--passwd FILE`, or filtered by uid.
//! Also: exit status 2 for an output error is listed in `--help`.

use crate::common::{data, trace_merge};

fn refused(args: &[&str]) -> String {
    let out = trace_merge()
        .args(args)
        .arg(data("users.trace"))
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2), "{args:?} should be refused");
    assert!(out.stdout.is_empty(), "{args:?}");
    let err = String::from_utf8(out.stderr).unwrap();
    assert_eq!(err.lines().count(), 1, "{err}");
    err
}

#[test]
fn an_unknown_user_name_is_an_error() {
    assert_eq!(
        refused(&["-u", "nosuchuser"]),
        "trace-merge: -u nosuchuser: no such user in this system's user database (give a uid, \
         or for a trace from another host its passwd file with --passwd FILE)\n"
    );
    assert!(refused(&[
        "--passwd",
        data("other-host.passwd").to_str().unwrap(),
        "-u",
        "root2"
    ])
    .contains("-u root2: no such user in the --passwd file"));
    assert!(refused(&["-N", "-u", "root"]).contains("(-N prints and matches uids only)"));
}

#[test]
fn known_names_and_any_uid_are_accepted() {
    trace_merge()
        .args(["-u", "root"])
        .arg(data("users.trace"))
        .assert()
        .success();
    // A uid needs no database: any number is accepted (a trace from another host).
    trace_merge()
        .args(["-u", "4242"])
        .arg(data("users.trace"))
        .assert()
        .success();
}

#[test]
fn output_error_exit_status_is_in_the_help() {
    let help = trace_merge().arg("--help").output().unwrap();
    let help = String::from_utf8(help.stdout).unwrap();
    let status = help.split("Exit status:").nth(1).unwrap();
    assert!(status.contains("the output could not be"), "{status}");
    let man = trace_merge().args(["--generate", "man"]).output().unwrap();
    let man = String::from_utf8(man.stdout).unwrap();
    assert!(man.contains("the output could not be"), "{man}");
}
