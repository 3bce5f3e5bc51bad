//! Negative return values to the names people know (`-2` -> `ENOENT`).
//!
//! The table is Linux's, whatever system the trace came from: the trace grammar states that
//! `ret` follows the Linux convention, and the Solaris/BSD/macOS generators print `-errno`
//! already mapped. Generated once from `asm-generic/errno-base.h`, `asm-generic/errno.h` and
//! the kernel-internal codes of `linux/errno.h` (which a kernel-side probe can see, e.g.
//! `ERESTARTSYS` when a signal interrupts a blocking open). Aliases (`EWOULDBLOCK`,
//! `EDEADLOCK`) give way to the primary name.

/// The symbolic name of errno `n` (positive), when Linux defines one.
pub fn errno_name(n: i64) -> Option<&'static str> {
    let n = u16::try_from(n).ok()?;
    let table: &[(u16, &str)] = if n < 512 { USER } else { KERNEL };
    table
        .binary_search_by_key(&n, |&(code, _)| code)
        .ok()
        .map(|i| table[i].1)
}

/// True for the kernel's restart codes: `-ERESTARTSYS` (-512), `-ERESTARTNOINTR` (-513),
/// `-ERESTARTNOHAND` (-514) and `-ERESTART_RESTARTBLOCK` (-516). A probe at the system call's
/// return sees one when a signal interrupted a blocking open; the kernel then restarts the
/// call (the trace shows it again) or the program gets `EINTR`. Such an open is not a failure
/// of its own: strace prints it as `? ERESTARTSYS (To be restarted ...)`, trace-merge as
/// `RESTARTED ERESTARTSYS`, keeps it out of `-x`/`--ok` and counts it apart in `--summary`.
pub fn is_restart(ret: i64) -> bool {
    matches!(ret, -512 | -513 | -514 | -516)
}

/// True for a failed open: a negative return that is not a restart ([`is_restart`]).
pub fn is_failure(ret: i64) -> bool {
    ret < 0 && !is_restart(ret)
}

/// The errno of a return value: `ENOENT` for `-2`; `None` for a success (`>= 0`). A negative
/// value with no name is kept as a number (see [`ErrnoName::Unknown`]).
pub fn name_for_ret(ret: i64) -> Option<ErrnoName> {
    if ret >= 0 {
        return None;
    }
    let n = ret.checked_neg().unwrap_or(i64::MAX);
    Some(match errno_name(n) {
        Some(name) => ErrnoName::Known(name),
        None => ErrnoName::Unknown(n),
    })
}

/// The errno of a failed call, named when known.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ErrnoName {
    /// A Linux name such as `ENOENT`.
    Known(&'static str),
    /// A number with no name; displayed as `E` followed by the number (`E4095`), which no real
    /// errno name looks like.
    Unknown(i64),
}

impl std::fmt::Display for ErrnoName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ErrnoName::Known(name) => f.write_str(name),
            ErrnoName::Unknown(n) => write!(f, "E{n}"),
        }
    }
}

/// Codes 1..=133 of the user-visible ABI.
const USER: &[(u16, &str)] = &[
    (1, "EPERM"),
    (2, "ENOENT"),
    (3, "ESRCH"),
    (4, "EINTR"),
    (5, "EIO"),
    (6, "ENXIO"),
    (7, "E2BIG"),
    (8, "ENOEXEC"),
    (9, "EBADF"),
    (10, "ECHILD"),
    (11, "EAGAIN"),
    (12, "ENOMEM"),
    (13, "EACCES"),
    (14, "EFAULT"),
    (15, "ENOTBLK"),
    (16, "EBUSY"),
    (17, "EEXIST"),
    (18, "EXDEV"),
    (19, "ENODEV"),
    (20, "ENOTDIR"),
    (21, "EISDIR"),
    (22, "EINVAL"),
    (23, "ENFILE"),
    (24, "EMFILE"),
    (25, "ENOTTY"),
    (26, "ETXTBSY"),
    (27, "EFBIG"),
    (28, "ENOSPC"),
    (29, "ESPIPE"),
    (30, "EROFS"),
    (31, "EMLINK"),
    (32, "EPIPE"),
    (33, "EDOM"),
    (34, "ERANGE"),
    (35, "EDEADLK"),
    (36, "ENAMETOOLONG"),
    (37, "ENOLCK"),
    (38, "ENOSYS"),
    (39, "ENOTEMPTY"),
    (40, "ELOOP"),
    (42, "ENOMSG"),
    (43, "EIDRM"),
    (44, "ECHRNG"),
    (45, "EL2NSYNC"),
    (46, "EL3HLT"),
    (47, "EL3RST"),
    (48, "ELNRNG"),
    (49, "EUNATCH"),
    (50, "ENOCSI"),
    (51, "EL2HLT"),
    (52, "EBADE"),
    (53, "EBADR"),
    (54, "EXFULL"),
    (55, "ENOANO"),
    (56, "EBADRQC"),
    (57, "EBADSLT"),
    (59, "EBFONT"),
    (60, "ENOSTR"),
    (61, "ENODATA"),
    (62, "ETIME"),
    (63, "ENOSR"),
    (64, "ENONET"),
    (65, "ENOPKG"),
    (66, "EREMOTE"),
    (67, "ENOLINK"),
    (68, "EADV"),
    (69, "ESRMNT"),
    (70, "ECOMM"),
    (71, "EPROTO"),
    (72, "EMULTIHOP"),
    (73, "EDOTDOT"),
    (74, "EBADMSG"),
    (75, "EOVERFLOW"),
    (76, "ENOTUNIQ"),
    (77, "EBADFD"),
    (78, "EREMCHG"),
    (79, "ELIBACC"),
    (80, "ELIBBAD"),
    (81, "ELIBSCN"),
    (82, "ELIBMAX"),
    (83, "ELIBEXEC"),
    (84, "EILSEQ"),
    (85, "ERESTART"),
    (86, "ESTRPIPE"),
    (87, "EUSERS"),
    (88, "ENOTSOCK"),
    (89, "EDESTADDRREQ"),
    (90, "EMSGSIZE"),
    (91, "EPROTOTYPE"),
    (92, "ENOPROTOOPT"),
    (93, "EPROTONOSUPPORT"),
    (94, "ESOCKTNOSUPPORT"),
    (95, "EOPNOTSUPP"),
    (96, "EPFNOSUPPORT"),
    (97, "EAFNOSUPPORT"),
    (98, "EADDRINUSE"),
    (99, "EADDRNOTAVAIL"),
    (100, "ENETDOWN"),
    (101, "ENETUNREACH"),
    (102, "ENETRESET"),
    (103, "ECONNABORTED"),
    (104, "ECONNRESET"),
    (105, "ENOBUFS"),
    (106, "EISCONN"),
    (107, "ENOTCONN"),
    (108, "ESHUTDOWN"),
    (109, "ETOOMANYREFS"),
    (110, "ETIMEDOUT"),
    (111, "ECONNREFUSED"),
    (112, "EHOSTDOWN"),
    (113, "EHOSTUNREACH"),
    (114, "EALREADY"),
    (115, "EINPROGRESS"),
    (116, "ESTALE"),
    (117, "EUCLEAN"),
    (118, "ENOTNAM"),
    (119, "ENAVAIL"),
    (120, "EISNAM"),
    (121, "EREMOTEIO"),
    (122, "EDQUOT"),
    (123, "ENOMEDIUM"),
    (124, "EMEDIUMTYPE"),
    (125, "ECANCELED"),
    (126, "ENOKEY"),
    (127, "EKEYEXPIRED"),
    (128, "EKEYREVOKED"),
    (129, "EKEYREJECTED"),
    (130, "EOWNERDEAD"),
    (131, "ENOTRECOVERABLE"),
    (132, "ERFKILL"),
    (133, "EHWPOISON"),
];

/// Kernel-internal codes (512 and up) that a probe inside the kernel may observe.
const KERNEL: &[(u16, &str)] = &[
    (512, "ERESTARTSYS"),
    (513, "ERESTARTNOINTR"),
    (514, "ERESTARTNOHAND"),
    (515, "ENOIOCTLCMD"),
    (516, "ERESTART_RESTARTBLOCK"),
    (517, "EPROBE_DEFER"),
    (518, "EOPENSTALE"),
    (519, "ENOPARAM"),
    (521, "EBADHANDLE"),
    (522, "ENOTSYNC"),
    (523, "EBADCOOKIE"),
    (524, "ENOTSUPP"),
    (525, "ETOOSMALL"),
    (526, "ESERVERFAULT"),
    (527, "EBADTYPE"),
    (528, "EJUKEBOX"),
    (529, "EIOCBQUEUED"),
    (530, "ERECALLCONFLICT"),
    (531, "ENOGRACE"),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_the_common_open_failures() {
        assert_eq!(errno_name(2), Some("ENOENT"));
        assert_eq!(errno_name(13), Some("EACCES"));
        assert_eq!(errno_name(1), Some("EPERM"));
        assert_eq!(errno_name(17), Some("EEXIST"));
        assert_eq!(errno_name(20), Some("ENOTDIR"));
        assert_eq!(errno_name(24), Some("EMFILE"));
        assert_eq!(errno_name(36), Some("ENAMETOOLONG"));
        assert_eq!(errno_name(40), Some("ELOOP"));
        assert_eq!(errno_name(11), Some("EAGAIN"));
        assert_eq!(errno_name(133), Some("EHWPOISON"));
        assert_eq!(errno_name(512), Some("ERESTARTSYS"));
    }

    #[test]
    fn gaps_and_out_of_range_have_no_name() {
        assert_eq!(errno_name(0), None);
        assert_eq!(errno_name(41), None); // EWOULDBLOCK is 11, 41 is unused
        assert_eq!(errno_name(58), None);
        assert_eq!(errno_name(134), None);
        assert_eq!(errno_name(520), None);
        assert_eq!(errno_name(-2), None);
        assert_eq!(errno_name(1 << 40), None);
    }

    #[test]
    fn tables_are_sorted_for_binary_search() {
        for table in [USER, KERNEL] {
            assert!(table.windows(2).all(|w| w[0].0 < w[1].0));
        }
        assert_eq!(USER.len(), 131);
    }

    #[test]
    fn ret_to_name() {
        assert_eq!(name_for_ret(3), None);
        assert_eq!(name_for_ret(0), None);
        assert_eq!(name_for_ret(-2).unwrap().to_string(), "ENOENT");
        assert_eq!(name_for_ret(-4095).unwrap().to_string(), "E4095");
        assert_eq!(name_for_ret(i64::MIN), Some(ErrnoName::Unknown(i64::MAX)));
    }
}
