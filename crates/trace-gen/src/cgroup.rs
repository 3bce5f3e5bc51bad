//! cgroup v2 for `--cgroup PATH`: where the cgroup2 hierarchy is mounted, the group PATH
//! names (its id and depth), the kernel's `struct cgroup` layout that the probes read to test
//! "is the current task in that group or below it", and the names (paths) of the groups that
//! events carry as ids.
//!
//! Why offsets from BTF and not the tracers' own member access: bpftrace 0.17 cannot read
//! `kernfs_node.id` (behind an anonymous union on some kernels), and Oracle's DTrace for
//! Linux drops the offsets of anonymous unions (see `backend/dtrace/btf.rs`). The test is the
//! one bcc's `bpf_current_task_under_cgroup` makes: the task's default-hierarchy group
//! (`task->cgroups->dfl_cgrp`) is at least as deep as the target, and its ancestor at the
//! target's depth is the target (`cgrp->ancestors[L]->kn->id` on Linux 6.0 and later,
//! `cgrp->ancestor_ids[L]` before). A group's id is its kernfs node's, which is the inode
//! number of its directory.

use crate::backend::dtrace::btf::{running_offsets, Member};
use std::collections::HashMap;
use std::ffi::OsStr;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};

/// The inode of the initial (host's) cgroup namespace (`PROC_CGROUP_INIT_INO`).
const INIT_CGROUP_NAMESPACE: u64 = 0xEFFF_FFFB;

/// Where the cgroup2 hierarchy is mounted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mount {
    /// The mount point (`/sys/fs/cgroup`; `/sys/fs/cgroup/unified` on a hybrid host).
    pub dir: PathBuf,
    /// The group at the mount point, as the hierarchy names it (`/` unless a subtree was
    /// bind-mounted): prefixed to every name, so that names read as in `/proc/PID/cgroup`.
    pub root: Vec<u8>,
}

/// Undoes mountinfo's octal escapes (`\040` for a space, `\012`, `\011`, `\134`).
fn unescape_mountinfo(field: &str) -> Vec<u8> {
    let b = field.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'\\'
            && i + 3 < b.len()
            && b[i + 1..i + 4].iter().all(|c| (b'0'..=b'7').contains(c))
        {
            let v = b[i + 1..i + 4]
                .iter()
                .fold(0u32, |acc, c| acc * 8 + u32::from(c - b'0'));
            out.push(v as u8);
            i += 4;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    out
}

/// The first cgroup2 mount in a `/proc/self/mountinfo` text.
pub fn parse_mountinfo(text: &str) -> Option<Mount> {
    text.lines().find_map(|line| {
        let (mount, fs) = line.split_once(" - ")?;
        if fs.split(' ').next()? != "cgroup2" {
            return None;
        }
        let f: Vec<&str> = mount.split(' ').collect();
        Some(Mount {
            dir: PathBuf::from(OsStr::from_bytes(&unescape_mountinfo(f.get(4)?))),
            root: unescape_mountinfo(f.get(3)?),
        })
    })
}

/// Where cgroup2 is mounted here (from `/proc/self/mountinfo`).
pub fn mount() -> Option<Mount> {
    parse_mountinfo(&std::fs::read_to_string("/proc/self/mountinfo").ok()?)
}

/// The number of components of a hierarchy path (`/` 0, `/a/b` 2): a group's depth, the
/// kernel's `cgroup.level`.
fn depth(path: &[u8]) -> u32 {
    path.split(|&b| b == b'/').filter(|c| !c.is_empty()).count() as u32
}

/// `root` joined with `rel` (`/`-separated, no trailing `/` unless it is the root).
fn join(root: &[u8], rel: &[u8]) -> Vec<u8> {
    let mut p = root.to_vec();
    for c in rel.split(|&b| b == b'/').filter(|c| !c.is_empty()) {
        if p.last() != Some(&b'/') {
            p.push(b'/');
        }
        p.extend_from_slice(c);
    }
    if p.is_empty() {
        p.push(b'/');
    }
    p
}

/// The group `--cgroup` names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Group {
    /// Its path in the hierarchy, as `/proc/PID/cgroup` shows it (`/` for the root).
    pub path: Vec<u8>,
    /// Its id: the inode number of its directory (the kernel's `kn->id`).
    pub id: u64,
    /// Its depth (the kernel's `cgroup.level`: 0 for the root).
    pub level: u32,
}

/// The group `arg` names: a directory under the cgroup2 mount, given absolute (under the
/// mount) or relative to the mount (with or without a leading `/`, as `/proc/PID/cgroup`
/// prints it). The error says why it is not one, for a one-line message.
pub fn find_group(arg: &OsStr) -> Result<Group, String> {
    let m = mount().ok_or("no cgroup2 file system is mounted (see /proc/self/mountinfo)")?;
    if std::fs::metadata("/proc/self/ns/cgroup").is_ok_and(|n| n.ino() != INIT_CGROUP_NAMESPACE) {
        return Err(
            "trace-gen runs in a cgroup namespace, where a group's depth in the \
                    hierarchy is not known: run it in the host's cgroup namespace"
                .to_owned(),
        );
    }
    find_group_in(&m, Path::new(arg))
}

/// [`find_group`] under the mount `m`.
pub fn find_group_in(m: &Mount, arg: &Path) -> Result<Group, String> {
    let base = std::fs::canonicalize(&m.dir)
        .map_err(|e| format!("the cgroup2 mount {}: {e}", m.dir.display()))?;
    let joined = if arg.starts_with(&m.dir) || arg.starts_with(&base) {
        arg.to_path_buf()
    } else {
        let rel = arg.strip_prefix("/").unwrap_or(arg);
        base.join(rel)
    };
    let dir = std::fs::canonicalize(&joined).map_err(|e| {
        if arg.is_absolute() && arg.exists() {
            return format!(
                "{} is not a cgroup2 directory (the cgroup2 mount is {})",
                arg.display(),
                m.dir.display()
            );
        }
        format!(
            "{}: {} (give a directory under the cgroup2 mount {}, or a path relative to it)",
            joined.display(),
            e,
            m.dir.display()
        )
    })?;
    let rel = dir.strip_prefix(&base).map_err(|_| {
        format!(
            "{} is not under the cgroup2 mount {}",
            dir.display(),
            m.dir.display()
        )
    })?;
    let meta = std::fs::metadata(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    // cgroup.controllers is in every cgroup2 directory and in no cgroup v1 one.
    if !meta.is_dir() || !dir.join("cgroup.controllers").exists() {
        return Err(format!("{} is not a cgroup2 directory", dir.display()));
    }
    let path = join(&m.root, rel.as_os_str().as_bytes());
    Ok(Group {
        level: depth(&path),
        path,
        id: meta.ino(),
    })
}

/// How the ancestors of a group are kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ancestors {
    /// Linux 6.0 and later: `struct cgroup *ancestors[]`, each one's id at `->kn->id`.
    Pointers {
        /// `cgroup.ancestors`.
        ancestors: u64,
        /// `cgroup.kn`.
        kn: u64,
        /// `kernfs_node.id`.
        kn_id: u64,
    },
    /// Before: `u64 ancestor_ids[]`.
    Ids {
        /// `cgroup.ancestor_ids`.
        ancestor_ids: u64,
    },
}

/// The offsets the probes read, from the running kernel's BTF.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Layout {
    /// `task_struct.cgroups` (a `struct css_set *`).
    pub task_cgroups: u64,
    /// `css_set.dfl_cgrp` (the task's group in the default hierarchy, cgroup2).
    pub dfl_cgrp: u64,
    /// `cgroup.level` (an int).
    pub level: u64,
    /// `cgroup.kn` and `kernfs_node.id`, for the task's own group's id (DTrace).
    pub kn: u64,
    /// `kernfs_node.id`.
    pub kn_id: u64,
    /// Where the ancestors are.
    pub ancestors: Ancestors,
}

/// Every member [`Layout`] reads, in its order.
const MEMBERS: [Member; 7] = [
    ("task_struct", "cgroups"),
    ("css_set", "dfl_cgrp"),
    ("cgroup", "level"),
    ("cgroup", "kn"),
    ("kernfs_node", "id"),
    ("cgroup", "ancestors"),
    ("cgroup", "ancestor_ids"),
];

impl Layout {
    /// The running kernel's, or why not.
    pub fn running() -> Result<Layout, String> {
        let o = running_offsets(&MEMBERS)
            .ok_or("the kernel's BTF (/sys/kernel/btf/vmlinux) is needed to read struct cgroup")?;
        let need = |i: usize| {
            o[i].ok_or_else(|| {
                format!("this kernel's BTF has no {}.{}", MEMBERS[i].0, MEMBERS[i].1)
            })
        };
        let ancestors = match (o[5], o[6]) {
            (Some(ancestors), _) => Ancestors::Pointers {
                ancestors,
                kn: need(3)?,
                kn_id: need(4)?,
            },
            (None, Some(ancestor_ids)) => Ancestors::Ids { ancestor_ids },
            (None, None) => {
                return Err(
                    "this kernel's struct cgroup has neither ancestors nor ancestor_ids".to_owned(),
                )
            }
        };
        Ok(Layout {
            task_cgroups: need(0)?,
            dfl_cgrp: need(1)?,
            level: need(2)?,
            kn: need(3)?,
            kn_id: need(4)?,
            ancestors,
        })
    }
}

/// `--cgroup`: the group and the layout the probes read it with.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CgroupFilter {
    /// The group.
    pub group: Group,
    /// The kernel's layout.
    pub layout: Layout,
}

/// The spelling of the few types the expressions cast to, in a tracer's language.
#[derive(Debug, Clone, Copy)]
pub struct Dialect {
    /// A 64-bit unsigned integer (`uint64`, `uint64_t`).
    pub u64: &'static str,
    /// A 32-bit signed integer (`int32`, `int`).
    pub i32: &'static str,
}

/// bpftrace's types.
pub const BPFTRACE: Dialect = Dialect {
    u64: "uint64",
    i32: "int32",
};

/// D's types.
pub const D: Dialect = Dialect {
    u64: "uint64_t",
    i32: "int",
};

impl CgroupFilter {
    /// The address of the current task's cgroup2 group, `task` being the address of its
    /// `task_struct` as a number.
    fn group_of(&self, task: &str, t: Dialect) -> String {
        let l = &self.layout;
        format!(
            "*({u} *)(*({u} *)({task} + {}) + {})",
            l.task_cgroups,
            l.dfl_cgrp,
            u = t.u64
        )
    }

    /// A predicate term: the task (its `task_struct` address as a number) is in the group or
    /// below it. Always true for the root group: then `None`, no test at all.
    pub fn under(&self, task: &str, t: Dialect) -> Option<String> {
        let Group { id, level, .. } = self.group;
        if level == 0 {
            return None;
        }
        let l = &self.layout;
        let cg = self.group_of(task, t);
        let u = t.u64;
        let ancestor_id = match l.ancestors {
            Ancestors::Pointers {
                ancestors,
                kn,
                kn_id,
            } => format!(
                "*({u} *)(*({u} *)(*({u} *)({cg} + {}) + {kn}) + {kn_id})",
                ancestors + 8 * u64::from(level)
            ),
            Ancestors::Ids { ancestor_ids } => {
                format!("*({u} *)({cg} + {})", ancestor_ids + 8 * u64::from(level))
            }
        };
        Some(format!(
            "(*({} *)({cg} + {}) >= {level} && {ancestor_id} == {id})",
            t.i32, l.level
        ))
    }

    /// The id of the task's own group (for tracers without bpftrace's `cgroup` builtin).
    pub fn own_id(&self, task: &str, t: Dialect) -> String {
        let l = &self.layout;
        format!(
            "*({u} *)(*({u} *)({} + {}) + {})",
            self.group_of(task, t),
            l.kn,
            l.kn_id,
            u = t.u64
        )
    }
}

/// The names of the groups events carry as ids: the directory with that inode under the
/// cgroup2 mount, found by walking it (all of it, once per id not yet known: groups made
/// since are found then). A group removed before its first event is read has no directory
/// left: it is named `#ID` (never a path: a path starts with `/`).
#[derive(Debug, Default)]
pub struct Names {
    /// The mount, found at the first id (`Some(None)`: none).
    mount: Option<Option<Mount>>,
    known: HashMap<u64, Vec<u8>>,
}

impl Names {
    /// The name of group `id`.
    pub fn name(&mut self, id: u64) -> &[u8] {
        if !self.known.contains_key(&id) {
            let m = self.mount.get_or_insert_with(mount).clone();
            if let Some(m) = m {
                self.scan(&m.dir, &m.root, 0);
            }
            self.known
                .entry(id)
                .or_insert_with(|| format!("#{id}").into_bytes());
        }
        &self.known[&id]
    }

    /// Records every group at `dir` (named `name`) and below.
    fn scan(&mut self, dir: &Path, name: &[u8], depth: u32) {
        let Ok(meta) = std::fs::symlink_metadata(dir) else {
            return;
        };
        self.known.insert(meta.ino(), name.to_vec());
        // The kernel's limit is far deeper; a loop of bind mounts must still end.
        if depth >= 64 {
            return;
        }
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for e in entries.flatten() {
            if e.file_type().is_ok_and(|t| t.is_dir()) {
                let child = join(name, e.file_name().as_bytes());
                self.scan(&e.path(), &child, depth + 1);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_cgroup2_mount_is_found_in_mountinfo() {
        let hybrid = "31 23 0:28 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755\n\
                      32 31 0:29 / /sys/fs/cgroup/cpu rw,relatime - cgroup cgroup rw,cpu\n\
                      41 31 0:38 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw\n";
        assert_eq!(
            parse_mountinfo(hybrid),
            Some(Mount {
                dir: "/sys/fs/cgroup/unified".into(),
                root: b"/".to_vec()
            })
        );
        let bound = "50 40 0:38 /a\\040b /mnt/c\\134g rw shared:9 - cgroup2 cgroup2 rw\n";
        assert_eq!(
            parse_mountinfo(bound),
            Some(Mount {
                dir: "/mnt/c\\g".into(),
                root: b"/a b".to_vec()
            })
        );
        assert_eq!(parse_mountinfo(&hybrid[..130]), None);
    }

    #[test]
    fn depth_and_join_name_groups_as_the_hierarchy_does() {
        assert_eq!(depth(b"/"), 0);
        assert_eq!(depth(b"/a/b"), 2);
        assert_eq!(join(b"/", b""), b"/");
        assert_eq!(join(b"/", b"a/b"), b"/a/b");
        assert_eq!(join(b"/x", b"a"), b"/x/a");
    }

    fn filter(level: u32, ancestors: Ancestors) -> CgroupFilter {
        CgroupFilter {
            group: Group {
                path: b"/t".to_vec(),
                id: 4242,
                level,
            },
            layout: Layout {
                task_cgroups: 100,
                dfl_cgrp: 200,
                level: 300,
                kn: 400,
                kn_id: 500,
                ancestors,
            },
        }
    }

    #[test]
    fn the_predicate_reads_the_ancestor_at_the_groups_level() {
        let p = Ancestors::Pointers {
            ancestors: 1000,
            kn: 400,
            kn_id: 500,
        };
        assert_eq!(
            filter(2, p).under("$t", BPFTRACE).unwrap(),
            "(*(int32 *)(*(uint64 *)(*(uint64 *)($t + 100) + 200) + 300) >= 2 && \
             *(uint64 *)(*(uint64 *)(*(uint64 *)(*(uint64 *)(*(uint64 *)($t + 100) + 200) + 1016) \
             + 400) + 500) == 4242)"
        );
        let ids = Ancestors::Ids { ancestor_ids: 1000 };
        assert!(filter(1, ids).under("t", D).unwrap().ends_with(
            "*(uint64_t *)(*(uint64_t *)(*(uint64_t *)(t + 100) + 200) + 1008) == 4242)"
        ));
        assert_eq!(filter(0, ids).under("t", D), None);
    }

    #[test]
    fn names_of_groups_gone_say_so() {
        let mut n = Names {
            mount: Some(None),
            ..Names::default()
        };
        assert_eq!(n.name(77), b"#77");
    }
}
