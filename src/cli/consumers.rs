//! `consumers`: where every projection, subscription and tracker the store records stands.

use anyhow::{bail, Result};
use eventscope::store::consumers::{consumers, Consumer, ConsumerOptions};
use eventscope::store::EventSource;

use super::output::{table, Out, Paint};

/// The state `--fail-on` names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum FailOn {
    /// Any consumer with events left to process (stuck ones included).
    Behind,
    /// Any consumer behind whose position has not moved for `--stuck-after`.
    Stuck,
}

const BAR: usize = 12;

pub fn run(
    store: &dyn EventSource,
    options: &ConsumerOptions,
    fail_on: Option<FailOn>,
    json: bool,
) -> Result<()> {
    let found = consumers(store, options)?;
    let mut o = Out::stdout();
    if json {
        for c in &found {
            o.json_line(c)?;
        }
    } else if found.is_empty() {
        o.line(&format!(
            "{} records no consumer positions (name a table with --consumers 'table=T,name=C,position=C')",
            store.name()
        ))?;
    } else {
        for line in table(
            &[
                "CONSUMER",
                "KIND",
                "FOLLOWS",
                "POSITION",
                "HEAD",
                "LAG",
                "",
                "STATUS",
                "NEXT EVENT",
                "BEHIND FOR",
            ],
            &rows(&found),
        ) {
            o.line(&line)?;
        }
        let summary = o.paint(Paint::Dim, &summary(&found));
        o.line(&summary)?;
        for c in &found {
            for d in &c.dead_letters {
                let event = d
                    .event
                    .as_ref()
                    .map_or("(no longer in the store)".into(), |n| {
                        format!("{} v{} {}", n.stream, n.version, n.event_type)
                    });
                o.line(&format!(
                    "{}: dead letter at #{} {event}: {}",
                    c.consumer,
                    d.position,
                    d.error.as_deref().unwrap_or("no message")
                ))?;
            }
        }
        for c in found
            .iter()
            .filter(|c| c.note.is_some() || c.error.is_some())
        {
            if let Some(e) = &c.error {
                o.line(&format!("{}: {e}", c.consumer))?;
            }
            if let Some(n) = &c.note {
                let note = o.paint(Paint::Dim, &format!("{}: {n}", c.consumer));
                o.line(&note)?;
            }
        }
    }
    o.flush()?;
    let failing = |c: &&Consumer| match fail_on {
        Some(FailOn::Behind) => c.is_behind(),
        Some(FailOn::Stuck) => c.is_stuck(),
        None => false,
    };
    let n = found.iter().filter(failing).count();
    if n > 0 {
        let what = match fail_on {
            Some(FailOn::Stuck) => "stuck",
            _ => "behind",
        };
        bail!("{n} consumer(s) {what} in {}", store.name());
    }
    Ok(())
}

fn rows(found: &[Consumer]) -> Vec<Vec<String>> {
    let most = found.iter().map(|c| c.lag).max().unwrap_or(0).max(1);
    let or_dash = |v: Option<i64>| v.map_or("-".to_string(), |v| v.to_string());
    found
        .iter()
        .map(|c| {
            let filled = usize::try_from(c.lag.saturating_mul(BAR as i64) / most)
                .unwrap_or(0)
                .max(usize::from(c.lag > 0));
            let next = c.next_event.as_ref().map_or("-".to_string(), |n| {
                format!(
                    "{} v{} {} (#{})",
                    n.stream, n.version, n.event_type, n.position
                )
            });
            vec![
                c.consumer.clone(),
                c.kind.clone(),
                c.follows.label(),
                or_dash(c.position),
                or_dash(c.head),
                lag(c),
                format!("{}{}", "█".repeat(filled), "·".repeat(BAR - filled)),
                c.status.clone(),
                next,
                c.behind_for.map_or("-".to_string(), age),
            ]
        })
        .collect()
}

/// A lag as shown: `≈` where it was estimated.
pub fn lag(c: &Consumer) -> String {
    match c.lag_estimated {
        true => format!("≈{}", c.lag),
        false => c.lag.to_string(),
    }
}

/// A span of seconds in its largest whole unit or two: `45s`, `3m 20s`, `2h 5m`, `400d`.
pub fn age(seconds: f64) -> String {
    let s = seconds.max(0.0) as u64;
    match s {
        0..=59 => format!("{s}s"),
        60..=3599 => format!("{}m {}s", s / 60, s % 60),
        3600..=86_399 => format!("{}h {}m", s / 3600, s % 3600 / 60),
        _ => format!("{}d", s / 86_400),
    }
}

fn summary(found: &[Consumer]) -> String {
    let count = |f: &dyn Fn(&Consumer) -> bool| found.iter().filter(|c| f(c)).count();
    let stuck = count(&|c| c.is_stuck());
    let behind = count(&|c| c.is_behind()) - stuck;
    let ahead = count(&|c| c.is_ahead());
    let caught_up = found.len() - count(&|c| c.is_behind()) - ahead;
    let mut line = format!(
        "{} consumers: {caught_up} caught up, {behind} behind, {stuck} stuck",
        found.len()
    );
    if ahead > 0 {
        line.push_str(&format!(", {ahead} past the end of this log"));
    }
    if let Some(worst) = found.iter().filter(|c| c.lag > 0).max_by_key(|c| c.lag) {
        line.push_str(&format!(
            "; furthest behind: {} ({} events)",
            worst.consumer,
            lag(worst)
        ));
    }
    line
}
