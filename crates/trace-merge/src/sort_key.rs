//! What `--sort` compares two opens on, and how a value compares: shared by `sort` (which
//! holds the opens) and `columns` (whose rows say how opens compare on each column), so it
//! lives below both.

use std::cmp::Ordering;

use crate::event::OpenEvent;

/// What the comparison looks at, borrowed from a held open or from one not yet copied.
pub struct Key<'a> {
    /// The open.
    pub event: OpenEvent<'a>,
    /// Its user name, when sorting by user and the uid has one.
    pub user: Option<&'a [u8]>,
    /// The `# host:` of its trace.
    pub host: Option<&'a [u8]>,
    /// Its place in the input: the last tie-breaker, so that sorting is stable.
    pub seq: u64,
}

/// Present values in the asked order; absent ones last either way.
pub fn by<T: Ord>(a: Option<T>, b: Option<T>, reverse: bool) -> Ordering {
    match (a, b) {
        (Some(x), Some(y)) if reverse => y.cmp(&x),
        (Some(x), Some(y)) => x.cmp(&y),
        (Some(_), None) => Ordering::Less,
        (None, Some(_)) => Ordering::Greater,
        (None, None) => Ordering::Equal,
    }
}
