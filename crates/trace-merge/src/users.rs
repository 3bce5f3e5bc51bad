//! uid -> user name, looked up once per uid.
//!
//! A trace holds millions of events from a handful of users, so every name is looked up once
//! and cached. Names come from the system's user database (`getpwuid` through the `uzers`
//! crate, which follows NSS like `ls -l` does), from another host's passwd file
//! (`--passwd FILE`, for traces analysed away from the traced machine), or not at all
//! (`-N/--numeric`). An unknown uid is shown as its number, as the seed does.

use rustc_hash::FxHashMap;
use std::collections::hash_map::Entry;
use std::io;
use std::os::unix::ffi::OsStrExt;
use std::path::{Path, PathBuf};

/// The largest `--passwd` file read (a passwd file of 100,000 users is about 6 MiB).
pub const MAX_PASSWD_BYTES: usize = 16 << 20;
/// The longest line of a `--passwd` file (a real line is under 200 bytes; NSS's own buffer
/// for one entry is typically 1 KiB to 16 KiB).
pub const MAX_PASSWD_LINE: usize = 64 << 10;

/// Where names come from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum UserSource {
    /// The system's user database.
    System,
    /// A passwd file read up front (`--passwd FILE`): uid -> name.
    Passwd(FxHashMap<u32, Vec<u8>>),
    /// No names: print the uid (`-N`).
    Numeric,
}

/// A `--passwd` file could not be read.
#[derive(Debug, thiserror::Error)]
#[error("--passwd {}: {source}", path.display())]
pub struct PasswdError {
    /// The file named on the command line.
    pub path: PathBuf,
    /// Why it could not be read.
    #[source]
    pub source: io::Error,
}

impl UserSource {
    /// Whether a user called `name` exists in this source: the system's database, the
    /// `--passwd` file, or (numeric) never.
    pub fn has_name(&self, name: &[u8]) -> bool {
        match self {
            UserSource::System => std::str::from_utf8(name)
                .ok()
                .and_then(uzers::get_user_by_name)
                .is_some(),
            UserSource::Passwd(map) => map.values().any(|n| n == name),
            UserSource::Numeric => false,
        }
    }

    /// Reads and parses a passwd file (see [`parse_passwd`]): at most [`MAX_PASSWD_BYTES`],
    /// lines of at most [`MAX_PASSWD_LINE`], else an error (`--passwd /dev/zero` must end,
    /// in bounded memory).
    pub fn from_passwd_file(path: &Path) -> Result<UserSource, PasswdError> {
        use std::io::Read;
        let error = |source| PasswdError {
            path: path.to_owned(),
            source,
        };
        let mut text = Vec::new();
        std::fs::File::open(path)
            .and_then(|f| f.take(MAX_PASSWD_BYTES as u64 + 1).read_to_end(&mut text))
            .map_err(error)?;
        if text.len() > MAX_PASSWD_BYTES {
            return Err(error(io::Error::new(
                io::ErrorKind::InvalidData,
                format!(
                    "larger than {} MiB, not read (a passwd file is a few KB)",
                    MAX_PASSWD_BYTES >> 20
                ),
            )));
        }
        if let Some(n) = text
            .split(|&b| b == b'\n')
            .position(|line| line.len() > MAX_PASSWD_LINE)
        {
            return Err(error(io::Error::new(
                io::ErrorKind::InvalidData,
                format!(
                    "line {} is longer than {} KiB, not a passwd file",
                    n + 1,
                    MAX_PASSWD_LINE >> 10
                ),
            )));
        }
        Ok(UserSource::Passwd(parse_passwd(&text)))
    }
}

/// Parses passwd(5) text: `name:password:uid:...` lines. Blank lines, `#` comments, NIS
/// `+`/`-` lines and lines without a numeric uid are skipped. When a uid appears twice the
/// first line wins, as with `getpwuid`.
pub fn parse_passwd(text: &[u8]) -> FxHashMap<u32, Vec<u8>> {
    let mut map = FxHashMap::default();
    for line in text.split(|&b| b == b'\n') {
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        if line.is_empty() || matches!(line[0], b'#' | b'+' | b'-') {
            continue;
        }
        let mut fields = line.split(|&b| b == b':');
        let (Some(name), Some(_), Some(uid)) = (fields.next(), fields.next(), fields.next()) else {
            continue;
        };
        let Some(uid) = std::str::from_utf8(uid)
            .ok()
            .and_then(|s| s.parse::<u32>().ok())
        else {
            continue;
        };
        if name.is_empty() {
            continue;
        }
        map.entry(uid).or_insert_with(|| name.to_vec());
    }
    map
}

/// The cached uid -> name resolver used by the outputs.
#[derive(Debug)]
pub struct UserDb {
    source: UserSource,
    /// Per uid: whether the database knew it, and the name (or the decimal uid when not).
    cache: FxHashMap<u32, (bool, Box<[u8]>)>,
    lookups: u64,
}

impl UserDb {
    /// A resolver over `source`.
    pub fn new(source: UserSource) -> UserDb {
        UserDb {
            source,
            cache: FxHashMap::default(),
            lookups: 0,
        }
    }

    /// A resolver knowing only these users (tests).
    #[cfg(test)]
    pub fn from_names(names: &[(u32, &str)]) -> UserDb {
        UserDb::new(UserSource::Passwd(
            names
                .iter()
                .map(|&(uid, name)| (uid, name.as_bytes().to_vec()))
                .collect(),
        ))
    }

    /// The name for `uid` (raw bytes, may need escaping), or its decimal number.
    pub fn name(&mut self, uid: u32) -> &[u8] {
        &self.resolve(uid).1
    }

    /// The name for `uid` when the user database has one.
    pub fn known_name(&mut self, uid: u32) -> Option<&[u8]> {
        let (known, name) = self.resolve(uid);
        known.then_some(&**name)
    }

    fn resolve(&mut self, uid: u32) -> &(bool, Box<[u8]>) {
        match self.cache.entry(uid) {
            Entry::Occupied(e) => e.into_mut(),
            Entry::Vacant(e) => {
                self.lookups += 1;
                let name = match &self.source {
                    UserSource::System => {
                        uzers::get_user_by_uid(uid).map(|u| u.name().as_bytes().to_vec())
                    }
                    UserSource::Passwd(map) => map.get(&uid).cloned(),
                    UserSource::Numeric => None,
                };
                e.insert(match name {
                    Some(name) => (true, name.into_boxed_slice()),
                    None => (false, uid.to_string().into_bytes().into_boxed_slice()),
                })
            }
        }
    }

    /// How many distinct uids were resolved (each once).
    pub fn lookups(&self) -> u64 {
        self.lookups
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn passwd_parsing() {
        let text = b"# comment\nroot:x:0:0:root:/root:/bin/bash\n\nwww-data:x:33:33::/var/www:/usr/sbin/nologin\r\n\
+nis::::::\nbroken line\nbad:x:notanumber:1\nalias:x:0:0::/:/bin/sh\n:x:5:5::/:\nalice:x:1000:1000";
        let map = parse_passwd(text);
        assert_eq!(
            map.get(&0).map(Vec::as_slice),
            Some(&b"root"[..]),
            "first wins"
        );
        assert_eq!(map.get(&33).map(Vec::as_slice), Some(&b"www-data"[..]));
        assert_eq!(map.get(&1000).map(Vec::as_slice), Some(&b"alice"[..]));
        assert_eq!(map.len(), 3);
    }

    #[test]
    fn cache_looks_up_once() {
        let mut map = FxHashMap::default();
        map.insert(7, b"seven".to_vec());
        let mut names = UserDb::new(UserSource::Passwd(map));
        for _ in 0..100 {
            assert_eq!(names.name(7), b"seven");
            assert_eq!(names.name(8), b"8");
        }
        assert_eq!(names.lookups(), 2);
        assert_eq!(names.known_name(7), Some(&b"seven"[..]));
        assert_eq!(names.known_name(8), None);
    }

    #[test]
    fn numeric_and_system() {
        let mut names = UserDb::new(UserSource::Numeric);
        assert_eq!(names.name(0), b"0");
        assert_eq!(names.known_name(0), None);
        let mut sys = UserDb::new(UserSource::System);
        assert_eq!(sys.name(0), b"root");
        assert_eq!(sys.known_name(0), Some(&b"root"[..]));
        assert_eq!(sys.name(4_000_000_000), b"4000000000");
        assert_eq!(sys.known_name(4_000_000_000), None);
    }
}
