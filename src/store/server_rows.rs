//! The log reads both server backends (PostgreSQL, MySQL) build the same way on their own
//! paged `log_rows`: events of a type where only Rust can tell the type (Python
//! eventsourcing's topics), rows, kept events and times. Each backend implements
//! [`ServerRows`]; its `EventSource` methods call these.

use std::ops::ControlFlow;

use super::read::offer_kept;
use super::source::{EventFn, KeepFn, RowFn, TimeFn};
use super::{LogFilter, Result, StoreError, StreamRow, TimeRow};
use crate::Event;

/// A backend's rows of the log, in position order, and how it reads one.
pub(super) trait ServerRows {
    type Row;
    /// Rows of the log matching `filter` (its type in SQL when `type_in_sql`), with its
    /// offset and limit applied.
    fn log_rows(
        &self,
        filter: &LogFilter,
        type_in_sql: bool,
        f: &mut dyn FnMut(&Self::Row) -> Result<ControlFlow<()>>,
    ) -> Result<()>;
    fn event(&self, row: &Self::Row) -> Result<Event>;
    fn row_item<'r>(&self, row: &'r Self::Row) -> Result<StreamRow<'r>>;
    /// Whether the event type is known only once a row is decoded.
    fn type_in_rust(&self) -> bool;
    fn has_times(&self) -> bool;
}

pub(super) fn each_log_event<S: ServerRows>(
    s: &S,
    filter: &LogFilter,
    f: &mut EventFn<'_>,
) -> Result<()> {
    if !s.type_in_rust() || filter.event_type.is_none() {
        return s.log_rows(filter, true, &mut |row| f(s.event(row)?));
    }
    let wanted = filter.event_type.clone().unwrap_or_default();
    let unlimited = LogFilter {
        limit: None,
        offset: 0,
        ..filter.clone()
    };
    let mut skip = filter.offset;
    let mut left = filter.limit.unwrap_or(usize::MAX);
    if left == 0 {
        return Ok(());
    }
    s.log_rows(&unlimited, false, &mut |row| {
        let e = s.event(row)?;
        if e.event_type != wanted {
            return Ok(ControlFlow::Continue(()));
        }
        if skip > 0 {
            skip -= 1;
            return Ok(ControlFlow::Continue(()));
        }
        left -= 1;
        match f(e)? {
            ControlFlow::Continue(()) if left > 0 => Ok(ControlFlow::Continue(())),
            _ => Ok(ControlFlow::Break(())),
        }
    })
}

pub(super) fn each_log_row<S: ServerRows>(
    s: &S,
    filter: &LogFilter,
    f: &mut RowFn<'_>,
) -> Result<()> {
    let unfiltered = LogFilter {
        event_type: None,
        ..filter.clone()
    };
    s.log_rows(&unfiltered, false, &mut |row| f(s.row_item(row)?))
}

pub(super) fn each_kept_event<S: ServerRows>(
    s: &S,
    filter: &LogFilter,
    keep: &mut KeepFn<'_>,
    f: &mut EventFn<'_>,
) -> Result<()> {
    let unlimited = LogFilter {
        limit: None,
        ..filter.clone()
    };
    let type_in_rust = s.type_in_rust();
    let mut left = filter.limit.unwrap_or(usize::MAX);
    if left == 0 {
        return Ok(());
    }
    let wanted = filter.event_type.as_deref().filter(|_| type_in_rust);
    s.log_rows(&unlimited, !type_in_rust, &mut |row| {
        offer_kept(
            s.row_item(row)?,
            wanted,
            &mut *keep,
            || s.event(row),
            &mut left,
            &mut *f,
        )
    })
}

pub(super) fn each_time<S: ServerRows>(
    s: &S,
    filter: &LogFilter,
    f: &mut TimeFn<'_>,
) -> Result<()> {
    if !s.has_times() {
        return Err(StoreError::NoTimes);
    }
    each_log_event(s, filter, &mut |e| {
        f(TimeRow {
            position: e.global_position,
            stream_id: e.stream_id,
            version: e.version,
            time: e.timestamp,
        })
    })
}

/// The offset and limit of `filter` applied to a backend's rows: `f` sees the rows after
/// the first `offset`, and the read stops after `limit` of them (none when it is 0).
pub(super) fn offset_and_limit<'f, R>(
    filter: &LogFilter,
    f: &'f mut dyn FnMut(&R) -> Result<ControlFlow<()>>,
) -> Option<impl FnMut(&R) -> Result<ControlFlow<()>> + 'f> {
    let mut skip = filter.offset;
    let mut left = filter.limit.unwrap_or(usize::MAX);
    if left == 0 {
        return None;
    }
    Some(move |row: &R| -> Result<ControlFlow<()>> {
        if skip > 0 {
            skip -= 1;
            return Ok(ControlFlow::Continue(()));
        }
        let flow = f(row)?;
        left -= 1;
        Ok(if flow.is_break() || left == 0 {
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(())
        })
    })
}
