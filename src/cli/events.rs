//! `events`: the global log, filtered, once or followed as other processes append to it.

use std::ops::ControlFlow;
use std::time::Duration;

use anyhow::Result;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use eventscope::replay::EventTest;
use eventscope::store::{EventSource, LogFilter, SourceExt, StoreError};

use super::args::{FindArgs, JqLimits};
use eventscope::Event;

use super::output::{Out, Paint};

/// The filter and the test `events` applies: stream, type, category, jq, text, times.
/// Following (`waits`), a stream or category with no event yet is waited for, said once.
pub(super) fn prepare(
    store: &dyn EventSource,
    mut filter: LogFilter,
    find: &FindArgs,
    limits: &JqLimits,
    waits: bool,
) -> Result<(LogFilter, EventTest)> {
    // Listing needs rows, not states: a stream whose versions cannot be read is listed.
    let listed = |s: &String| matches!(store.stream_found(s), Ok(Some(_)));
    if let Some(stream) = filter.stream.as_ref().filter(|s| !listed(s)) {
        match super::answer::need_stream(store, stream) {
            Err(_) if waits => super::output::warn(&format!(
                "waiting for stream {} (no event yet)",
                eventscope::printable(stream)
            )),
            other => drop(other?),
        }
    }
    if let Some(category) = &find.category {
        let streams = store.streams_of_category(category)?;
        if streams.is_empty() && waits {
            super::output::warn(&format!(
                "waiting for category {} (no stream yet)",
                eventscope::printable(category)
            ));
        }
        filter.streams = Some(match streams.is_empty() && !waits {
            true => category_streams(store, category)?,
            false => streams,
        });
    }
    let mut test = EventTest::new(find.where_.as_deref(), find.text.as_deref())
        .map_err(|e| anyhow::anyhow!(e))?;
    if find.where_.is_some() {
        test = test.with_watch(super::commands::guard(store, limits)?);
    }
    // A prefix names a period: --since takes its start, --until its end (as --at-time).
    let read = |t: &Option<String>, parse: fn(&str) -> Result<_, String>| {
        t.as_deref()
            .map(parse)
            .transpose()
            .map_err(|e| anyhow::anyhow!(e))
    };
    test.since = read(&find.since, eventscope::time::parse_time_start)?;
    test.until = read(&find.until, eventscope::time::parse_time_bound)?;
    if test.needs_times() && !store.has_times() {
        anyhow::bail!("this store has no event times, so --since/--until cannot be used");
    }
    Ok((filter, test))
}

/// The ids of a category's streams, or one line saying there are none.
pub fn category_streams(store: &dyn EventSource, category: &str) -> Result<Vec<String>> {
    let streams = store.streams_of_category(category)?;
    if streams.is_empty() {
        anyhow::bail!(
            "no stream of category {:?} (`eventscope streams` lists them)",
            eventscope::printable(category)
        );
    }
    Ok(streams)
}

/// How many stored events `--follow` shows before the new ones when not told.
pub const FOLLOW_SHOWS: usize = 10;

/// The position of the `n`th matching event from the end, at or before `end`: windows
/// growing backwards from the end are read until they hold `n` matches or reach the
/// start, so that `-n 10` on a long log reads about its tail, not the whole log.
fn start_of_last(
    store: &dyn EventSource,
    filter: &LogFilter,
    test: &EventTest,
    n: usize,
    end: i64,
) -> Result<i64> {
    let past_end = end.saturating_add(1);
    if n == 0 {
        return Ok(past_end);
    }
    let first = LogFilter {
        limit: Some(1),
        to_position: Some(end),
        ..filter.clone()
    };
    let mut floor = None;
    store.read_log(&first, |e: Event| {
        floor = Some(e.global_position);
        Ok::<_, anyhow::Error>(ControlFlow::Break(()))
    })?;
    let Some(floor) = floor else {
        return Ok(past_end);
    };
    let mut span = i64::try_from(n)
        .unwrap_or(i64::MAX)
        .saturating_mul(4)
        .max(1024);
    loop {
        let from = past_end.saturating_sub(span).max(floor);
        let window = LogFilter {
            from_position: from,
            to_position: Some(end),
            limit: None,
            ..filter.clone()
        };
        let mut kept = std::collections::VecDeque::with_capacity(n.min(1 << 16));
        store.search_log(
            &window,
            |row| Ok::<_, anyhow::Error>(test.keeps(row)),
            |e: Event| {
                if kept.len() == n {
                    kept.pop_front();
                }
                kept.push_back(e.global_position);
                Ok::<_, anyhow::Error>(ControlFlow::Continue(()))
            },
        )?;
        if kept.len() == n || from <= floor {
            return Ok(kept.front().copied().unwrap_or(past_end));
        }
        span = span.saturating_mul(8);
    }
}

pub fn list(
    store: &dyn EventSource,
    mut filter: LogFilter,
    last: Option<usize>,
    find: &FindArgs,
    limits: &JqLimits,
    json: bool,
) -> Result<()> {
    let (filter, test) = {
        if let Some(n) = last {
            let end = store.last_position()?;
            filter.to_position = Some(end);
            let (f, test) = prepare(store, filter, find, limits, false)?;
            let from = start_of_last(store, &f, &test, n, end)?;
            (
                LogFilter {
                    from_position: from,
                    ..f
                },
                test,
            )
        } else {
            prepare(store, filter, find, limits, false)?
        }
    };
    let mut o = Out::stdout();
    header(&mut o, json)?;
    let print_each = |e: Event| {
        print(&mut o, &e, json)?;
        Ok::<_, anyhow::Error>(ControlFlow::Continue(()))
    };
    if test.is_empty() {
        store.read_log(&filter, print_each)?;
    } else {
        store.search_log(
            &filter,
            |row| Ok::<_, anyhow::Error>(test.keeps(row)),
            print_each,
        )?;
    }
    o.flush()?;
    Ok(())
}

/// Prints what is stored, then every matching event other processes append, each once:
/// the stored part ends at the position the subscription starts after. Appended events
/// are read again from the store through the same filtered read as the stored part, so
/// every filter tests what it would test afterwards (`--text` the stored text, not a
/// re-serialized copy), and a category's new streams are found as they appear.
pub fn follow(
    store: &dyn EventSource,
    filter: LogFilter,
    last: Option<usize>,
    find: &FindArgs,
    limits: &JqLimits,
    json: bool,
) -> Result<()> {
    let (mut filter, test) = prepare(store, filter, find, limits, true)?;
    let mut o = Out::stdout();
    header(&mut o, json)?;
    // Before the first line, so that whoever reads the output knows how it is followed.
    if let Some(note) = store.access_note() {
        super::output::warn(&note);
    }
    let start = store.last_position()?;
    let subscribed_from = start.max(filter.from_position.saturating_sub(1));
    if let Some(n) = last {
        filter.from_position = filter
            .from_position
            .max(start_of_last(store, &filter, &test, n, start)?);
    }
    store.search_log(
        &filter,
        |row| Ok::<_, anyhow::Error>(test.keeps(row)),
        |e: Event| {
            if e.global_position > start {
                return Ok(ControlFlow::Break(()));
            }
            print(&mut o, &e, json)?;
            Ok::<_, anyhow::Error>(ControlFlow::Continue(()))
        },
    )?;
    o.flush()?;
    let stop = stop_on_signal();
    let mut sub = store.subscribe(subscribed_from)?;
    while !stop.load(Ordering::Relaxed) {
        let batch = match sub.poll() {
            // A writer's long transaction: its events come when it commits.
            Err(StoreError::Locked) => Vec::new(),
            other => other?,
        };
        if batch.is_empty() {
            // Short enough that ^C is answered at once.
            sub.wait(Duration::from_millis(250));
            continue;
        }
        if let (Some(category), Some(known)) = (&find.category, &filter.streams) {
            if batch.iter().any(|e| !known.contains(&e.stream_id)) {
                filter.streams = Some(store.streams_of_category(category)?);
            }
        }
        let appended: std::collections::HashSet<i64> =
            batch.iter().map(|e| e.global_position).collect();
        let window = LogFilter {
            from_position: batch
                .iter()
                .map(|e| e.global_position)
                .min()
                .unwrap_or(start),
            to_position: batch.iter().map(|e| e.global_position).max(),
            limit: None,
            ..filter.clone()
        };
        store.search_log(
            &window,
            |row| Ok::<_, anyhow::Error>(test.keeps(row)),
            |e: Event| {
                if appended.contains(&e.global_position) {
                    print(&mut o, &e, json)?;
                }
                Ok::<_, anyhow::Error>(ControlFlow::Continue(()))
            },
        )?;
        o.flush()?;
    }
    Ok(())
}

/// Ctrl-C and SIGTERM end `--follow` through its loop, so that the store is closed and the
/// files SQLite made beside it are removed.
fn stop_on_signal() -> Arc<AtomicBool> {
    let stop = Arc::new(AtomicBool::new(false));
    let flag = stop.clone();
    if ctrlc::set_handler(move || flag.store(true, Ordering::Relaxed)).is_err() {
        // Without the handler, a signal ends the process as it would have anyway.
    }
    stop
}

fn header(o: &mut Out, json: bool) -> Result<()> {
    if !json {
        let header = format!(
            "{:>8}  {:<24}  {:>5}  {:<18}  {:<26}  DATA",
            "POS", "STREAM", "VER", "TYPE", "TIMESTAMP"
        );
        let header = o.paint(Paint::Bold, &header);
        o.line(&header)?;
    }
    Ok(())
}

fn print(o: &mut Out, e: &Event, json: bool) -> Result<()> {
    if json {
        o.json_line(e)?;
        return Ok(());
    }
    // Escaped before padding, so that escapes do not push columns out of line.
    let p = eventscope::printable;
    let ty = o.paint(Paint::Yellow, &eventscope::pad(&p(&e.event_type), 18));
    let data = match &e.undecodable {
        Some(why) => o.paint(Paint::Red, &format!("⚠ {}", p(why))),
        None => p(&eventscope::preview(&e.data, 60)).into_owned(),
    };
    // The stream is cut at its column (`--json` has it whole), by display width.
    o.line(&format!(
        "{:>8}  {}  {:>5}  {ty}  {:<26}  {data}",
        e.global_position,
        eventscope::pad(&p(&e.stream_id), 24),
        e.version,
        e.timestamp
            .as_deref()
            .map(|t| eventscope::time::display(t, false))
            .unwrap_or_default(),
    ))?;
    Ok(())
}
