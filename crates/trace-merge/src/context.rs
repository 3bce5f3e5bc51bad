//! What a printer, a column and a filter need besides the open itself: user names and the
//! headers of the open's trace. Shared by `printer` and `columns` (which `printer` uses), so
//! it lives below both.

use crate::info::TraceInfo;
use crate::users::UserDb;

/// What a printer needs besides the event: user names and the trace's headers (its
/// wall-clock offset, for absolute times).
pub struct Context<'a> {
    /// Names for uids (system, `--passwd` file, or numbers with `-N`).
    pub users: &'a mut UserDb,
    /// The headers of the trace the event comes from.
    pub info: &'a TraceInfo,
}
