//! The byte offsets of the kernel struct members the D script walks to find the file an open
//! resolved to, read from the running kernel's BTF (`/sys/kernel/btf/vmlinux`).
//!
//! Why not D's own `offsetof`: Oracle's DTrace for Linux (2.0) drops the offset of an
//! anonymous union inside a struct, so every member of one reads at the wrong place. Linux
//! 6.18 has `struct file`'s `f_path` and `struct dentry`'s `d_name` in such unions (measured
//! here: `offsetof(struct file, f_path)` is 0 in D, 64 in BTF; `d_name` 0 and 32). trace-gen
//! reads the offsets itself and writes them into the script as numbers; without BTF (another
//! machine, `--print-script` for a golden file) the script falls back to `offsetof`, right on
//! kernels where the members are not in anonymous unions (6.1 and older).
//!
//! BTF is a header, a type section and a string section; each type is 12 bytes (name, info,
//! size or type) followed by data whose size depends on its kind. Only struct and union
//! members are kept; anonymous members are searched recursively, their offsets added.

use std::collections::HashMap;

/// One struct member the walk reads: (struct, member).
pub type Member = (&'static str, &'static str);

/// Every member the D script reads by offset, in the order of the script's `inline` lines.
pub const MEMBERS: &[Member] = &[
    ("task_struct", "fs"),
    ("task_struct", "files"),
    ("files_struct", "fdt"),
    ("fdtable", "max_fds"),
    ("fdtable", "fd"),
    ("fs_struct", "root"),
    ("fs_struct", "pwd"),
    ("file", "f_path"),
    ("path", "mnt"),
    ("path", "dentry"),
    ("vfsmount", "mnt_root"),
    ("mount", "mnt"),
    ("mount", "mnt_parent"),
    ("mount", "mnt_mountpoint"),
    ("dentry", "d_hash"),
    ("dentry", "d_parent"),
    ("dentry", "d_name"),
    ("qstr", "name"),
];

/// The members the io_uring clauses read: the open request (`struct io_open`, in the
/// `io_kiocb`'s command area) as `io_openat_prep()` left it when `io_uring_submit_req` fires.
pub const URING_MEMBERS: &[Member] = &[
    ("io_kiocb", "cmd"),
    ("io_kiocb", "opcode"),
    ("io_open", "dfd"),
    ("io_open", "filename"),
    ("io_open", "how"),
    ("open_how", "flags"),
    ("open_how", "mode"),
    ("open_how", "resolve"),
    ("filename", "name"),
];

/// The offsets of [`MEMBERS`] in one kernel, and of [`URING_MEMBERS`] when it has them all.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KernelLayout {
    offsets: HashMap<Member, u64>,
    /// Whether every member of [`URING_MEMBERS`] was found.
    uring: bool,
}

impl KernelLayout {
    /// The running kernel's layout, if its BTF is readable and has every member. Read and
    /// parsed once per process (5 MB): the script and the start-up note both ask for it.
    pub fn running() -> Option<KernelLayout> {
        static RUNNING: std::sync::OnceLock<Option<KernelLayout>> = std::sync::OnceLock::new();
        RUNNING
            .get_or_init(|| {
                let btf = std::fs::read("/sys/kernel/btf/vmlinux").ok()?;
                KernelLayout::from_btf(&btf)
            })
            .clone()
    }

    /// The layout in a BTF blob, if it has every member of [`MEMBERS`].
    pub fn from_btf(btf: &[u8]) -> Option<KernelLayout> {
        let types = Types::parse(btf)?;
        let mut offsets = HashMap::new();
        for &(s, m) in MEMBERS {
            offsets.insert((s, m), types.offset(s, m)?);
        }
        let mut uring = true;
        for &(s, m) in URING_MEMBERS {
            match types.offset(s, m) {
                Some(o) => {
                    offsets.insert((s, m), o);
                }
                None => uring = false,
            }
        }
        Some(KernelLayout { offsets, uring })
    }

    /// The byte offset of `member`, one of [`MEMBERS`] (or of [`URING_MEMBERS`] when
    /// [`KernelLayout::has_uring`]).
    pub fn offset(&self, member: Member) -> u64 {
        self.offsets[&member]
    }

    /// Whether the io_uring open request's members were all found.
    pub fn has_uring(&self) -> bool {
        self.uring
    }
}

/// The byte offsets of `members` in the running kernel's BTF, each `None` when the kernel
/// has no such member; `None` without readable BTF. For the other readers of kernel structs
/// (`--cgroup`'s `struct cgroup`, in [`crate::cgroup`]).
pub fn running_offsets(members: &[Member]) -> Option<Vec<Option<u64>>> {
    let btf = std::fs::read("/sys/kernel/btf/vmlinux").ok()?;
    let types = Types::parse(&btf)?;
    Some(members.iter().map(|&(s, m)| types.offset(s, m)).collect())
}

/// A struct or union member: its name, its type id, its offset in bits.
struct Field {
    name: u32,
    ty: u32,
    bit_offset: u32,
}

/// What the walk needs of one BTF type.
enum Type {
    /// A struct or union: its name and members.
    Record { name: u32, fields: Vec<Field> },
    /// A typedef, `const`, `volatile`, `restrict` or type tag: the type it stands for.
    Alias(u32),
    /// Anything else.
    Other,
}

struct Types<'a> {
    /// By id; id 0 is `void`.
    types: Vec<Type>,
    strings: &'a [u8],
}

fn u32_at(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_le_bytes(b.get(at..at + 4)?.try_into().ok()?))
}

impl<'a> Types<'a> {
    /// The types of a little-endian BTF blob (magic 0xeb9f).
    fn parse(b: &'a [u8]) -> Option<Types<'a>> {
        if b.get(0..2)? != [0x9f, 0xeb] {
            return None;
        }
        let hdr_len = u32_at(b, 4)? as usize;
        let field = |i: usize| u32_at(b, 8 + 4 * i).map(|v| v as usize);
        let (type_off, type_len, str_off, str_len) = (field(0)?, field(1)?, field(2)?, field(3)?);
        let section = |off: usize, len: usize| b.get(hdr_len + off..hdr_len + off + len);
        let (t, strings) = (section(type_off, type_len)?, section(str_off, str_len)?);
        let mut types = vec![Type::Other];
        let mut p = 0;
        while p < t.len() {
            let name = u32_at(t, p)?;
            let info = u32_at(t, p + 4)?;
            let size_or_type = u32_at(t, p + 8)?;
            p += 12;
            let kind = (info >> 24) & 0x1f;
            let vlen = (info & 0xffff) as usize;
            let bitfields = info >> 31 == 1;
            types.push(match kind {
                // struct, union
                4 | 5 => {
                    let mut fields = Vec::with_capacity(vlen);
                    for i in 0..vlen {
                        let at = p + 12 * i;
                        let offset = u32_at(t, at + 8)?;
                        fields.push(Field {
                            name: u32_at(t, at)?,
                            ty: u32_at(t, at + 4)?,
                            bit_offset: if bitfields {
                                offset & 0xff_ffff
                            } else {
                                offset
                            },
                        });
                    }
                    Type::Record { name, fields }
                }
                // typedef, volatile, const, restrict, type tag
                8 | 9 | 10 | 11 | 18 => Type::Alias(size_or_type),
                _ => Type::Other,
            });
            p += match kind {
                // int, var, decl tag: one u32
                1 | 14 | 17 => 4,
                // array
                3 => 12,
                // struct, union, datasec, enum64: 12 bytes a member
                4 | 5 | 15 | 19 => 12 * vlen,
                // enum, func proto: 8 bytes a member
                6 | 13 => 8 * vlen,
                _ => 0,
            };
        }
        Some(Types { types, strings })
    }

    fn name(&self, at: u32) -> &[u8] {
        let s = self.strings.get(at as usize..).unwrap_or_default();
        &s[..s.iter().position(|&c| c == 0).unwrap_or(s.len())]
    }

    /// The struct or union type `id` stands for, through typedefs and qualifiers.
    fn record(&self, mut id: u32) -> Option<&[Field]> {
        for _ in 0..32 {
            match self.types.get(id as usize)? {
                Type::Alias(to) => id = *to,
                Type::Record { fields, .. } => return Some(fields),
                Type::Other => return None,
            }
        }
        None
    }

    /// The bit offset of `member` in `fields`, looking inside anonymous members.
    fn find(&self, fields: &[Field], member: &[u8], depth: u32) -> Option<u64> {
        for f in fields {
            if self.name(f.name) == member {
                return Some(u64::from(f.bit_offset));
            }
            if f.name == 0 && depth < 8 {
                if let Some(inner) = self.record(f.ty) {
                    if let Some(o) = self.find(inner, member, depth + 1) {
                        return Some(u64::from(f.bit_offset) + o);
                    }
                }
            }
        }
        None
    }

    /// The byte offset of `member` in `struct name` (the first struct of that name that has
    /// members: a forward declaration has none).
    fn offset(&self, name: &str, member: &str) -> Option<u64> {
        self.types.iter().find_map(|t| match t {
            Type::Record { name: n, fields } if self.name(*n) == name.as_bytes() => {
                self.find(fields, member.as_bytes(), 0).map(|bits| bits / 8)
            }
            _ => None,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A tiny BTF blob: `struct path { void *mnt; void *dentry; }` and `struct file { int
    /// f_lock; union { struct path f_path; struct path __f_path; }; }` with the union at 8.
    fn blob() -> Vec<u8> {
        let strings = b"\0path\0mnt\0dentry\0file\0f_lock\0f_path\0__f_path\0int\0";
        let at = |s: &str| {
            let needle = format!("\0{s}\0");
            (strings
                .windows(needle.len())
                .position(|w| w == needle.as_bytes())
                .unwrap()
                + 1) as u32
        };
        let mut t: Vec<u32> = Vec::new();
        // 1: int
        t.extend([at("int"), 1 << 24, 4, 32]);
        // 2: void * (pointer to 0)
        t.extend([0, 2 << 24, 0]);
        // 3: struct path
        t.extend([at("path"), (4 << 24) | 2, 16]);
        t.extend([at("mnt"), 2, 0, at("dentry"), 2, 64]);
        // 4: anonymous union
        t.extend([0, (5 << 24) | 2, 16]);
        t.extend([at("f_path"), 3, 0, at("__f_path"), 3, 0]);
        // 5: struct file
        t.extend([at("file"), (4 << 24) | 2, 24]);
        t.extend([at("f_lock"), 1, 0, 0, 4, 64]);
        let types: Vec<u8> = t.iter().flat_map(|v| v.to_le_bytes()).collect();
        let mut b = vec![0x9f, 0xeb, 1, 0];
        for v in [
            24,
            0,
            types.len() as u32,
            types.len() as u32,
            strings.len() as u32,
        ] {
            b.extend(v.to_le_bytes());
        }
        b.extend(types);
        b.extend(strings);
        b
    }

    #[test]
    fn members_of_anonymous_unions_get_the_union_offset() {
        let b = blob();
        let types = Types::parse(&b).unwrap();
        assert_eq!(types.offset("file", "f_path"), Some(8));
        assert_eq!(types.offset("file", "__f_path"), Some(8));
        assert_eq!(types.offset("file", "f_lock"), Some(0));
        assert_eq!(types.offset("path", "dentry"), Some(8));
        assert_eq!(types.offset("file", "nothing"), None);
        // Not every member of the walk is there: no layout.
        assert_eq!(KernelLayout::from_btf(&b), None);
        assert!(Types::parse(b"not btf").is_none());
    }

    /// On this machine's kernel, when it has BTF: every member is found, and the two members
    /// D gets wrong on 6.18 are where the kernel's own layout puts them (after the pointer
    /// before them).
    #[test]
    fn the_running_kernel_has_every_member() {
        let Ok(btf) = std::fs::read("/sys/kernel/btf/vmlinux") else {
            // CI runs on a kernel with BTF (the DTrace tests need it too): never skipped there.
            assert!(
                std::env::var("CI").map_or(true, |v| v != "true"),
                "no /sys/kernel/btf/vmlinux"
            );
            eprintln!("notice: the_running_kernel_has_every_member skipped: no kernel BTF");
            return;
        };
        let layout = KernelLayout::from_btf(&btf).expect("every walked member in BTF");
        assert!(layout.offset(("dentry", "d_name")) > layout.offset(("dentry", "d_parent")));
        assert_eq!(layout.offset(("path", "dentry")), 8);
        // UAPI: struct open_how { u64 flags, mode, resolve; }.
        if layout.has_uring() {
            assert_eq!(layout.offset(("open_how", "resolve")), 16);
        }
    }
}
