//! The worker's searches: events matching a text or jq test (in slices, so a scan of the
//! whole log never holds up other requests) and an event's correlation tree.

use std::ops::ControlFlow;

use eventscope::replay::EventTest;
use eventscope::store::{LogFilter, RelatedKeys, Relation, SourceExt, StoreError};

use super::protocol::{FindSpec, Msg, RelatedLine, Req, Target, WorkerError};
use super::Worker;

/// Most points a plot keeps.
const PLOT_POINTS: usize = 2000;

/// How long one slice of a scan reads before other requests get their turn (checked
/// every [`CHECK_EVERY`] rows): by time, so a fast test is not cut into many queries.
const SLICE: std::time::Duration = std::time::Duration::from_millis(100);
const CHECK_EVERY: usize = 1024;
/// Matches of a slice sent with their rows (the only-matching view lists them).
pub const FOUND_ROWS: usize = 10_000;
/// Matches' rows the UI keeps in all; matches past them are listed as they are read.
pub const FOUND_ROWS_KEPT: usize = 50_000;

/// A row's stored payload shape, as the catalog computes it.
fn shape_of_row(row: &eventscope::store::StreamRow<'_>) -> eventscope::store::types::ShapeFields {
    use eventscope::store::StreamRow;
    match row {
        StreamRow::Event(e) => eventscope::store::types::shape_of(e),
        StreamRow::Raw(r) => {
            let e = eventscope::Event {
                data: serde_json::from_slice(r.data).unwrap_or(serde_json::Value::Null),
                ..Default::default()
            };
            eventscope::store::types::shape_of(&e)
        }
    }
}

impl Worker<'_, '_> {
    pub(super) fn find(&mut self, target: Target, find: FindSpec, from: i64) {
        let test = match &find {
            FindSpec::Text(t) => EventTest::new(None, Some(t)).map(EventTest::text_as_shown),
            FindSpec::Jq(code) => {
                EventTest::new(Some(code), None).map(|t| t.with_watch(self.watch.clone()))
            }
            FindSpec::Between(since, until) => EventTest::new(None, None).map(|mut t| {
                t.since = eventscope::time::parse_stored(since);
                t.until = eventscope::time::parse_stored(until);
                t
            }),
            FindSpec::Shape(..) => EventTest::new(None, None),
        };
        let reply = |w: &Worker, keys, rows, scanned, next, result| {
            w.send(Msg::Found {
                target: target.clone(),
                find: find.clone(),
                keys,
                rows,
                scanned,
                next,
                result,
            })
        };
        let test = match test {
            Ok(t) => t,
            Err(e) => {
                let e = Err(WorkerError::Predicate(e));
                return reply(self, Vec::new(), Vec::new(), 0, None, e);
            }
        };
        // A shape is the stored payload's: read past the upcasters.
        let (source, shape) = match &find {
            FindSpec::Shape(ty, fields) => (self.stored, Some((ty, fields))),
            _ => (self.store, None),
        };
        let keeps = |row: &eventscope::store::StreamRow<'_>| match shape {
            Some((ty, fields)) => row.event_type() == ty && shape_of_row(row) == *fields,
            None => test.keeps(row),
        };
        let mut keys = Vec::new();
        let mut rows = Vec::new();
        let mut scanned = 0;
        let mut last = from.saturating_sub(1);
        let started = std::time::Instant::now();
        let mut cut = false;
        // Keys (and `from`) are versions in a stream, positions in the log; a stream is
        // read through its index from the version the slice starts at.
        let mut each = |row: eventscope::store::StreamRow<'_>, key: i64| {
            scanned += 1;
            last = key;
            if keeps(&row) {
                keys.push(key);
                if rows.len() < FOUND_ROWS {
                    rows.push(super::answers::row_of(&row, key));
                }
            }
            cut = scanned % CHECK_EVERY == 0 && started.elapsed() >= SLICE;
            Ok::<_, StoreError>(if cut {
                ControlFlow::Break(())
            } else {
                ControlFlow::Continue(())
            })
        };
        let done = match &target {
            Target::Stream(s) => {
                let mut columns = test.columns();
                columns.timestamp = true;
                source.read_stream_rows(s, from..=i64::MAX, columns, |row| {
                    let v = row.version();
                    each(row, v)
                })
            }
            Target::All => {
                let filter = LogFilter {
                    from_position: from,
                    ..Default::default()
                };
                source.read_log_rows(&filter, |row| {
                    let p = row.global_position();
                    each(row, p)
                })
            }
            Target::Category(_) => {
                let e = Err(WorkerError::NeedsStream);
                return reply(self, Vec::new(), Vec::new(), 0, None, e);
            }
        };
        let next = cut.then_some(last + 1);
        let result = done.map_err(WorkerError::from);
        reply(self, keys, rows, scanned as i64, next, result);
        if let Some(from) = next {
            // Goes on after whatever else is waiting, unless a newer search replaced it.
            self.s
                .queue
                .push_back_unless_newer(Req::Find { target, find, from });
        }
    }

    /// The field at `path` after every event of the stream (one replay, no caching),
    /// thinned to at most `PLOT_POINTS` evenly spaced versions plus the last.
    /// The changes of each pinned field of a stream (JSON Pointers), from one walk.
    pub(super) fn history(
        &self,
        target: &Target,
        paths: &[String],
        skips: &[i64],
    ) -> Result<Vec<Vec<eventscope::replay::history::HistoryRow>>, WorkerError> {
        use eventscope::replay::field_path::FieldPath;
        let Target::Stream(stream) = target else {
            return Err(WorkerError::NeedsStream);
        };
        let parsed: Vec<FieldPath> = paths
            .iter()
            .map(|p| FieldPath::parse(p).map_err(WorkerError::Reducer))
            .collect::<Result<_, _>>()?;
        let skips = eventscope::replay::Skips {
            versions: skips.iter().copied().collect(),
            types: Default::default(),
        };
        Ok(eventscope::replay::history::histories(
            self.store,
            self.reducer,
            stream,
            &parsed,
            &skips,
            Some(&self.watch),
        )?)
    }

    pub(super) fn plot(&self, target: &Target, path: &str) -> Result<Vec<(i64, f64)>, WorkerError> {
        let Target::Stream(stream) = target else {
            return Err(WorkerError::NeedsStream);
        };
        let mut points = Vec::new();
        eventscope::replay::Walk {
            store: self.store,
            reducer: self.reducer,
            watch: Some(&self.watch),
        }
        .run(
            stream,
            serde_json::Value::Null,
            i64::MIN..=i64::MAX,
            &Default::default(),
            eventscope::store::Columns::NONE,
            |row, fold| {
                let state = fold.state();
                if let Some(x) = state.pointer(path).and_then(serde_json::Value::as_f64) {
                    points.push((row.version(), x));
                }
                Ok(ControlFlow::Continue(()))
            },
        )?;
        if points.len() > PLOT_POINTS {
            let step = points.len().div_ceil(PLOT_POINTS);
            let last = points.last().copied();
            points = points.into_iter().step_by(step).collect();
            if points.last().copied() != last {
                points.extend(last);
            }
        }
        Ok(points)
    }

    pub(super) fn stats(
        &self,
        target: &Target,
    ) -> Result<Box<eventscope::store::Stats>, WorkerError> {
        let filter = match target {
            Target::All => LogFilter::default(),
            Target::Stream(s) => LogFilter {
                stream: Some(s.clone()),
                ..Default::default()
            },
            Target::Category(c) => LogFilter {
                streams: Some(self.store.streams_of_category(c)?),
                ..Default::default()
            },
        };
        Ok(Box::new(self.store.stats(&filter, None)?))
    }

    pub(super) fn related(&self, position: i64) -> Result<(String, Vec<RelatedLine>), WorkerError> {
        let r = self
            .store
            .related(&position.to_string(), &RelatedKeys::default())?;
        let lines = r
            .tree_order()
            .into_iter()
            .map(|(i, depth)| {
                let e = &r.events[i];
                RelatedLine {
                    depth,
                    relation: match r.relation(i) {
                        Relation::Asked => "asked",
                        Relation::Cause => "cause",
                        Relation::Effect => "effect",
                        Relation::Other => "",
                    }
                    .into(),
                    position: e.global_position,
                    stream_id: e.stream_id.clone(),
                    version: e.version,
                    event_type: e.event_type.clone(),
                    timestamp: e.timestamp.clone(),
                }
            })
            .collect();
        Ok((format!("{} {}", r.key, r.correlation_id), lines))
    }
}
