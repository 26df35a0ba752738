//! One function per command, each a thin layer over `eventscope::store` and `::replay`.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use clap::CommandFactory;
use eventscope::replay::{Reducer, Replayer, SeekOptions, Watch};
use eventscope::store::{EventSource, LogFilter, OpenOptions, FORMATS};

use super::args::{Cli, Command, JqLimits, ReplayArgs};
use super::output::{table, Out, Paint};

/// What the command line asks for once parsed: a command that ran, or the terminal UI.
pub enum Outcome {
    Done,
    OpenUi(Box<UiRequest>),
}

/// The terminal UI's store and settings, for `main` to hand to the UI (and the UI to its
/// worker process).
#[derive(Clone, serde::Serialize, serde::Deserialize)]
pub struct UiRequest {
    pub store: PathBuf,
    pub open: OpenOptions,
    pub reducer: Option<PathBuf>,
    /// Where the reducer was named when not by `--reducer` (the store's defaults).
    #[serde(default)]
    pub reducer_origin: Option<String>,
    /// Start replays from store snapshots (through `snapshot_map` or `<category>.snapshot.jq`).
    pub from_snapshots: bool,
    pub snapshot_map: Option<PathBuf>,
    pub reducer_timeout: std::time::Duration,
    /// MiB of memory a reducer call may grow the worker to.
    pub reducer_memory: u64,
    /// The Read-model tab's table: the spec's text (`--read-model`, a file read here).
    #[serde(default)]
    pub read_model: Option<String>,
    #[serde(default)]
    pub project: Option<String>,
    #[serde(default)]
    pub ignore: Vec<String>,
    /// The folder of upcasters every read goes through, and where it was found.
    #[serde(default)]
    pub upcasters: Option<PathBuf>,
    #[serde(default)]
    pub upcasters_origin: Option<String>,
}

/// Fills what the command line leaves unsaid from the store's defaults (`project`): the
/// reducer, the layout or map, the snapshot mapping.
fn apply_defaults(cli: &mut Cli) -> Result<()> {
    let upcast_found = apply_defaults_but_upcasters(cli)?;
    let (reducer, upcast) = match cli.command.as_mut() {
        // The TUI on the demo has no store of the user's to look beside.
        None if cli.store.is_none() => return Ok(()),
        None => (cli.replay.reducer.clone(), Some(&mut cli.replay.upcast)),
        Some(command) => (
            command.store_and_replay().1.and_then(|r| r.reducer.clone()),
            command.upcast_args(),
        ),
    };
    if let Some(u) = upcast {
        if u.upcasters.is_none() && !u.no_upcasters {
            let beside = reducer
                .as_deref()
                .and_then(eventscope::project::upcasters_beside);
            if let Some((dir, origin)) = upcast_found.or(beside) {
                u.upcasters = Some(dir);
                u.upcasters_origin = Some(origin);
            }
        }
    }
    Ok(())
}

/// The store's defaults for the reducer, layout and map; the upcasters found, if any.
fn apply_defaults_but_upcasters(cli: &mut Cli) -> Result<Option<(std::path::PathBuf, String)>> {
    let (store, replay) = match &mut cli.command {
        // The demo's own reducers come with it; a chosen store has its own defaults.
        None if cli.store.is_none() => return Ok(None),
        None => (cli.store.as_deref(), Some(&mut cli.replay)),
        Some(c) => c.store_and_replay(),
    };
    // A command that reads no store and replays nothing (demo, import, man) has none.
    if store.is_none() && replay.is_none() {
        return Ok(None);
    }
    let env = std::env::var(eventscope::project::REDUCER_VAR).ok();
    let found = eventscope::project::find(store, env.as_deref()).map_err(anyhow::Error::msg)?;
    if let Some(replay) = replay {
        if let Some(r) = found.reducer.filter(|_| replay.reducer.is_none()) {
            replay.reducer = r.path;
            replay.reducer_origin = Some(r.origin);
        }
        if replay.snapshot_map.is_none() {
            replay.snapshot_map = found.snapshot_map;
        }
    }
    if cli.open.format.is_none() && cli.open.map.is_none() {
        cli.open.format = found.layout;
        cli.open.map = found.map;
    }
    Ok(found.upcasters)
}

pub fn run(mut cli: Cli) -> Result<Outcome> {
    apply_defaults(&mut cli)?;
    let options = OpenOptions {
        format: cli.open.format.clone(),
        map: cli.open.map.clone(),
        live: false,
        busy_timeout: Some(std::time::Duration::from_millis(cli.open.busy_timeout)),
        schema: cli.open.schema.clone(),
        table: cli.open.table.clone(),
        archived: cli.open.archived,
        limits: Some(eventscope::store::Limits {
            statement_timeout: std::time::Duration::from_millis(cli.open.statement_timeout),
            lock_timeout: std::time::Duration::from_millis(cli.open.lock_timeout),
            idle_in_transaction_timeout: std::time::Duration::from_millis(cli.open.idle_timeout),
        }),
    };
    // One-shot commands read one consistent snapshot of the store from start to end.
    let open = |path: &Path| -> Result<Box<dyn EventSource>> {
        let name = eventscope::store::display_name(path);
        let store = eventscope::store::open_source(path, &options)
            .with_context(|| format!("opening {name}"))?;
        store
            .pin_snapshot()
            .with_context(|| format!("reading {name}"))?;
        Ok(store)
    };
    let open_replay = |path: &Path, replay: &ReplayArgs| -> Result<Box<dyn EventSource>> {
        through_upcasters(open(path)?, &replay.upcast, &replay.limits)
    };
    // The heavy one-shot scans go to the replica where one is given, and say so.
    let replica = cli.open.replica.clone();
    let scan_at = |path: &Path| -> Result<PathBuf> {
        let Some(url) = &replica else {
            return Ok(path.to_path_buf());
        };
        let primary = path.to_string_lossy();
        if !eventscope::store::is_postgres_url(&primary) || !eventscope::store::is_postgres_url(url)
        {
            anyhow::bail!("--replica takes the postgres:// URL of a standby of a PostgreSQL store");
        }
        super::output::warn(&format!(
            "answered by the replica {}",
            eventscope::store::display_name(Path::new(url))
        ));
        Ok(PathBuf::from(url))
    };
    let Some(command) = cli.command else {
        let live = OpenOptions {
            live: true,
            ..options
        };
        let read_model = ReadModelArgs {
            spec: cli
                .read_model
                .as_deref()
                .map(super::read_model::spec_text)
                .transpose()?,
            project: cli.project.clone(),
            ignore: cli.ignore.clone(),
        };
        return open_default(cli.store, &cli.replay, live, read_model);
    };
    let done: Result<()> = match command {
        Command::Demo { out, events, hot } => demo(&out, events, hot),
        Command::Streams {
            store,
            category,
            json,
            count,
        } => streams(&*open(&store)?, category.as_deref(), json, count),
        Command::Events {
            store,
            stream,
            event_type,
            from,
            limit,
            last,
            find,
            limits,
            json,
            follow,
            upcast,
            upcasters,
        } => {
            // Listings show what is stored unless asked (a folder named on the command
            // line is asked).
            let upcast =
                upcast || (upcasters.upcasters.is_some() && upcasters.upcasters_origin.is_none());
            if upcast && upcasters.upcasters.is_none() {
                anyhow::bail!("--upcast: no upcasters; give --upcasters DIR, or put an upcasters/ folder beside the store");
            }
            let upcasting = |s: Box<dyn EventSource>| match upcast {
                true => through_upcasters(s, &upcasters, &limits),
                false => Ok(s),
            };
            // Following starts at the end, as `tail -f` does, unless told where.
            let last = match (last, follow && from.is_none() && limit.is_none()) {
                (None, true) => Some(super::events::FOLLOW_SHOWS),
                (last, _) => last,
            };
            let filter = LogFilter {
                stream,
                event_type,
                from_position: from.unwrap_or(i64::MIN),
                limit,
                ..Default::default()
            };
            if follow {
                let live = OpenOptions {
                    live: true,
                    ..options.clone()
                };
                let store = eventscope::store::open_source(&store, &live).with_context(|| {
                    format!("opening {}", eventscope::store::display_name(&store))
                })?;
                super::events::follow(&*upcasting(store)?, filter, last, &find, &limits, json)
            } else {
                let store = upcasting(open(&scan_at(&store)?)?)?;
                super::events::list(&*store, filter, last, &find, &limits, json)
            }
        }
        Command::State {
            store,
            stream,
            category,
            skip,
            at,
            at_time,
            replay,
            json,
            envelope,
        } => match (stream, category) {
            (_, Some(category)) => super::debug::category_state(
                &*open_replay(&scan_at(&store)?, &replay)?,
                &category,
                at_time.as_deref(),
                &replay,
                json,
            ),
            (Some(stream), None) => super::answer::state(
                &*open_replay(&store, &replay)?,
                &stream,
                &super::answer::Points {
                    at: &at,
                    at_time: at_time.as_deref(),
                    skips: &skip.skips(),
                },
                &replay,
                json,
                envelope,
            ),
            (None, None) => Err(anyhow::anyhow!("give a STREAM or --category")),
        },
        Command::Blame {
            store,
            stream,
            at,
            skip,
            replay,
            json,
        } => super::debug::blame(
            &*open_replay(&store, &replay)?,
            &stream,
            at,
            &skip.skips(),
            &replay,
            json,
        ),
        Command::When {
            store,
            words,
            category,
            all,
            strict,
            replay,
            json,
        } => super::debug::when(
            &*open_replay(&store, &replay)?,
            &words,
            category.as_deref(),
            eventscope::replay::WhenOptions { all, strict },
            &replay,
            json,
        ),
        Command::Consumers {
            store,
            consumers,
            tracking,
            exact,
            stuck_after,
            fail_on,
            json,
        } => {
            let log = open(&store)?;
            let mut extra = Vec::new();
            for t in &tracking {
                extra.extend(eventscope::store::consumers::tracked_elsewhere(
                    &*open(t)?,
                    &log.name(),
                )?);
            }
            let options = eventscope::store::consumers::ConsumerOptions {
                extra,
                exact,
                stuck_after: std::time::Duration::from_secs(stuck_after.unsigned_abs()),
                spec: consumers
                    .as_deref()
                    .map(eventscope::store::consumers::ConsumerSpec::parse)
                    .transpose()?,
                ..Default::default()
            };
            super::consumers::run(&*log, &options, fail_on, json)
        }
        Command::Stats {
            store,
            stream,
            category,
            bucket,
            json,
        } => super::find::stats(
            &*open(&scan_at(&store)?)?,
            stream,
            category.as_deref(),
            bucket,
            json,
        ),
        Command::Related {
            store,
            event,
            correlation_key,
            causation_key,
            json,
        } => {
            let mut keys = eventscope::store::RelatedKeys::default();
            if let Some(k) = correlation_key {
                keys.correlation = vec![k];
            }
            if let Some(k) = causation_key {
                keys.causation = vec![k];
            }
            super::find::related(&*open(&store)?, &event, &keys, json)
        }
        Command::Whatif {
            store,
            stream,
            skip,
            at,
            replay,
            json,
        } => super::debug::whatif(
            &*open_replay(&store, &replay)?,
            &stream,
            &skip.skips(),
            at,
            &replay,
            json,
        ),
        Command::Diff {
            store,
            stream,
            from,
            to,
            replay,
            json,
        } => super::answer::diff_cmd(
            &*open_replay(&store, &replay)?,
            &stream,
            from,
            to,
            &replay,
            json,
        ),
        Command::Import { file, out } => super::import::run(&file, &out),
        Command::Mcp {
            store,
            replay,
            call_timeout,
        } => {
            // Opened once here, so that a wrong path or URL is one line now, not at every call.
            drop(open(&store)?);
            super::mcp::run(&store, &cli.open, &replay, call_timeout)
        }
        Command::Export {
            store,
            parquet,
            stream,
            event_type,
            find,
            states,
            rows_per_file,
            replay,
            json,
        } => super::export::run(
            &*open_replay(&scan_at(&store)?, &replay)?,
            &eventscope::store::display_name(&store),
            &super::export::Options {
                dir: &parquet,
                stream,
                event_type,
                find: &find,
                states,
                rows_per_file,
                replay: &replay,
                json,
            },
        ),
        Command::ExportTest {
            store,
            stream,
            at,
            correlation,
            redact,
            out,
            replay,
        } => {
            let given = match (&correlation, &stream) {
                (Some(id), _) => super::fixtures::Given::Correlation(id),
                (None, Some(s)) => super::fixtures::Given::Stream(s, at),
                (None, None) => anyhow::bail!("name a stream, or an event with --correlation"),
            };
            super::fixtures::export_test(
                &*open_replay(&store, &replay)?,
                given,
                out.as_deref(),
                redact.as_deref(),
                &replay,
            )
        }
        Command::Test { dir, replay, json } => super::fixtures::test(&dir, &replay, json),
        Command::CompareReducers {
            store,
            against,
            category,
            stream,
            at_time,
            replay,
            json,
        } => {
            let scope = super::compare::Scope {
                category: category.as_deref(),
                stream: stream.as_deref(),
                at_time: at_time.as_deref(),
            };
            super::compare::run(
                &*open_replay(&store, &replay)?,
                &replay,
                &against,
                &scope,
                json,
            )
        }
        Command::History {
            store,
            words,
            category,
            replay,
            json,
        } => super::history::run(
            &*open_replay(&store, &replay)?,
            &words,
            category.as_deref(),
            &replay,
            json,
        ),
        Command::Types {
            store,
            category,
            event_type,
            max_shapes,
            json,
        } => super::types::run(
            &*open(&scan_at(&store)?)?,
            category.as_deref(),
            event_type.as_deref(),
            max_shapes as usize,
            json,
        ),
        Command::Formats { json } => formats(json),
        Command::Check {
            store,
            read_model: Some(spec),
            project,
            ignore,
            category,
            replay,
            json,
        } => super::read_model::run(
            &*open(&store)?,
            &spec,
            &super::read_model::Options {
                project: project.as_deref(),
                ignore: &ignore,
                category: category.as_deref(),
            },
            &replay,
            json,
        ),
        Command::Check {
            store,
            replay,
            json,
            ..
        } => super::check::run(&*open(&store)?, &load_reducer(&replay)?, &replay, json),
        Command::Snapshots {
            store,
            stream,
            json,
        } => super::answer::snapshots(&*open(&store)?, stream.as_deref(), json),
        Command::Completions { shell } => super::completions::print(shell),
        Command::Man { all: None } => super::man::print(),
        Command::Man { all: Some(dir) } => {
            for path in super::man::write_all(&dir)? {
                println!("{}", path.display());
            }
            Ok(())
        }
        Command::StreamIds { store } => {
            // Completion must never print an error into the user's command line.
            if let Ok(store) = open(&store) {
                if let Ok(streams) = store.streams() {
                    let mut out = std::io::stdout().lock();
                    for s in streams {
                        use std::io::Write;
                        writeln!(out, "{}", eventscope::printable(&s.stream_id))?;
                    }
                }
            }
            Ok(())
        }
    };
    done.map(|()| Outcome::Done)
}

/// What folds streams of `category`, as a header names it: the built-in merge chosen on
/// purpose by the store's defaults says where, instead of calling itself a guess.
pub fn describe(reducer: &Reducer, args: &ReplayArgs, category: &str) -> String {
    let name = match (&args.reducer_origin, &args.reducer) {
        (Some(origin), None) if reducer.is_merge_for(category) => {
            eventscope::project::named_from("built-in merge", Some(origin))
        }
        _ => reducer.describe(category),
    };
    name + &upcast_words(&args.upcast)
}

/// The store as a command reads it: through its upcasters where there are some, each
/// call guarded as reducers' are.
pub fn through_upcasters(
    store: Box<dyn EventSource>,
    args: &super::args::UpcastArgs,
    limits: &JqLimits,
) -> Result<Box<dyn EventSource>> {
    let Some(dir) = args.upcasters.as_deref().filter(|_| !args.no_upcasters) else {
        return Ok(store);
    };
    let upcasters = eventscope::replay::upcast::Upcasters::load(dir)?;
    let watch = guard(&*store, limits)?;
    Ok(Box::new(
        eventscope::replay::upcast_source::UpcastSource::new(
            store,
            std::rc::Rc::new(upcasters),
            Some(watch),
        ),
    ))
}

/// `· upcasters: DIR (from …)` for a header, where events are upcast.
pub fn upcast_words(args: &super::args::UpcastArgs) -> String {
    match args.upcasters.as_deref().filter(|_| !args.no_upcasters) {
        Some(dir) => format!(
            " · upcasters: {}",
            eventscope::project::named_from(
                &dir.display().to_string(),
                args.upcasters_origin.as_deref()
            )
        ),
        None => String::new(),
    }
}

pub fn load_reducer(args: &ReplayArgs) -> Result<Reducer> {
    Ok(Reducer::load_named(
        args.reducer.as_deref(),
        args.reducer_origin.as_deref(),
    )?)
}

/// The guard on a command's jq programs: a call that runs past `--jq-timeout` or grows
/// the process past `--jq-memory` ends the command with one line naming the program and
/// the place (jaq cannot be interrupted, so the process exits, cleaning up first).
pub fn guard(store: &dyn EventSource, limits: &JqLimits) -> Result<std::sync::Arc<Watch>> {
    let watch = std::sync::Arc::new(Watch::default());
    watch.limit_memory(limits.reducer_memory);
    let limit = std::time::Duration::from_secs_f64(limits.reducer_timeout);
    // Weak: the watchdog outlives the command, and must not keep the cleanup from running.
    let sidecars = store.sidecar_guard().map(|s| std::sync::Arc::downgrade(&s));
    watch.monitor(limit, move |t| {
        super::output::warn(&t.to_string());
        if let Some(s) = sidecars.as_ref().and_then(std::sync::Weak::upgrade) {
            s.clean_up();
        }
        std::process::exit(1);
    })?;
    Ok(watch)
}

/// A replayer whose reducer calls (and snapshot mappings) are guarded.
pub fn timed_replayer<'a>(
    store: &'a dyn EventSource,
    reducer: &'a Reducer,
    args: &ReplayArgs,
    options: SeekOptions,
) -> Result<Replayer<'a>> {
    Ok(Replayer::new(store, reducer, options)
        .with_watch(guard(store, &args.limits)?)
        .with_progress(super::progress::replay_bar()))
}

/// No command: the TUI, on STORE or on the bundled demo with its bundled reducers.
/// What the TUI's Read-model tab checks.
struct ReadModelArgs {
    spec: Option<String>,
    project: Option<String>,
    ignore: Vec<String>,
}

fn open_default(
    store: Option<PathBuf>,
    replay: &ReplayArgs,
    open: OpenOptions,
    read_model: ReadModelArgs,
) -> Result<Outcome> {
    let (store, reducer) = match store {
        Some(p) => (p, replay.reducer.clone()),
        None => {
            let demo = demo_path()?;
            let reducers = replay.reducer.clone().or_else(|| demo_reducers(&demo).ok());
            (demo, reducers)
        }
    };
    Ok(Outcome::OpenUi(Box::new(UiRequest {
        store,
        open,
        reducer,
        reducer_origin: replay.reducer_origin.clone(),
        from_snapshots: replay.from_snapshots,
        snapshot_map: replay.snapshot_map.clone(),
        reducer_timeout: std::time::Duration::from_secs_f64(replay.limits.reducer_timeout),
        reducer_memory: replay.limits.reducer_memory,
        read_model: read_model.spec,
        project: read_model.project,
        ignore: read_model.ignore,
        upcasters: replay
            .upcast
            .upcasters
            .clone()
            .filter(|_| !replay.upcast.no_upcasters),
        upcasters_origin: replay.upcast.upcasters_origin.clone(),
    })))
}

/// The bundled reducers, written beside the cached demo so the demo opens with them.
fn demo_reducers(demo: &Path) -> Result<PathBuf> {
    let dir = demo.with_extension("reducers");
    std::fs::create_dir_all(&dir)?;
    // Written once: a reducer the user edited there is theirs and stays.
    for (name, code) in eventscope::demo::REDUCERS {
        let file = dir.join(name);
        if !file.exists() {
            std::fs::write(file, code)?;
        }
    }
    Ok(dir)
}

/// The bundled demo lives in the user's cache directory, written once.
pub fn demo_path() -> Result<PathBuf> {
    let base = crate::dirs::cache_dir().unwrap_or_else(|| std::env::temp_dir().join("eventscope"));
    let path = base.join(format!("demo-{}.sqlite", env!("CARGO_PKG_VERSION")));
    if path.exists() {
        return Ok(path);
    }
    std::fs::create_dir_all(&base).with_context(|| format!("creating {}", base.display()))?;
    let tmp = base.join(format!("demo-{}.tmp", std::process::id()));
    let _ = std::fs::remove_file(&tmp);
    eventscope::demo::write_demo(&tmp, 0, 0).context("writing the demo store")?;
    std::fs::rename(&tmp, &path).with_context(|| format!("writing {}", path.display()))?;
    Ok(path)
}

fn demo(out: &Path, events: usize, hot: usize) -> Result<()> {
    let room = events.saturating_sub(eventscope::demo::seed_len());
    if hot > room {
        Cli::command()
            .error(
                clap::error::ErrorKind::ArgumentConflict,
                format!(
                    "--hot {hot} needs --events of at least {} (the seed's {} events come first)",
                    hot + eventscope::demo::seed_len(),
                    eventscope::demo::seed_len()
                ),
            )
            .exit();
    }
    let store = eventscope::demo::write_demo(out, events, hot)
        .with_context(|| format!("writing {}", out.display()))?;
    let streams = store.streams()?;
    let total: i64 = streams.iter().map(|s| s.events).sum();
    let mut o = Out::stdout();
    o.line(&format!(
        "wrote {total} events in {} streams to {}",
        streams.len(),
        out.display()
    ))?;
    o.flush()?;
    Ok(())
}

fn streams(store: &dyn EventSource, category: Option<&str>, json: bool, count: bool) -> Result<()> {
    let all = if count {
        store.streams_counted()?
    } else {
        store.streams()?
    };
    let list: Vec<_> = all
        .into_iter()
        .filter(|s| category.is_none_or(|c| s.category == c))
        .collect();
    let mut o = Out::stdout();
    if json {
        for s in &list {
            o.json_line(s)?;
        }
    } else {
        let rows: Vec<Vec<String>> = list
            .iter()
            .map(|s| {
                vec![
                    s.stream_id.clone(),
                    s.category.clone(),
                    if s.events_estimated {
                        format!("≈{}", s.events)
                    } else {
                        s.events.to_string()
                    },
                    s.last_version.to_string(),
                ]
            })
            .collect();
        for (i, line) in table(&["STREAM", "CATEGORY", "EVENTS", "LAST"], &rows)
            .iter()
            .enumerate()
        {
            let line = if i == 0 {
                o.paint(Paint::Bold, line)
            } else {
                line.clone()
            };
            o.line(&line)?;
        }
        o.line(&streams_footer(store, &list, category, count)?)?;
    }
    o.flush()?;
    Ok(())
}

/// `N streams, M events`, saying which numbers are estimates and how to count them.
fn streams_footer(
    store: &dyn EventSource,
    list: &[eventscope::store::StreamInfo],
    category: Option<&str>,
    count: bool,
) -> Result<String> {
    let (events, estimated) = match category {
        // A category's total is the sum of its streams.
        Some(_) => (
            list.iter().map(|s| s.events).sum::<i64>(),
            list.iter().any(|s| s.events_estimated),
        ),
        None => {
            let total = store.event_total(count)?;
            (total.events, total.estimated)
        }
    };
    let mut line = format!(
        "{} stream{}, {}{events} event{}",
        list.len(),
        if list.len() == 1 { "" } else { "s" },
        if estimated { "≈" } else { "" },
        if events == 1 { "" } else { "s" },
    );
    if estimated {
        line.push_str(
            " (≈: the streams table's versions or the planner's estimate; --count counts)",
        );
    }
    Ok(line)
}

fn formats(json: bool) -> Result<()> {
    let mut o = Out::stdout();
    let sqlite = FORMATS
        .iter()
        .map(|f| ("sqlite", f.name, f.library, f.maps));
    let postgres = eventscope::store::PG_FORMATS
        .iter()
        .map(|(name, library, maps)| ("postgres", *name, *library, *maps));
    let mysql = eventscope::store::MYSQL_FORMATS
        .iter()
        .map(|(name, library, maps)| ("mysql", *name, *library, *maps));
    let mut heading = "";
    for (backend, name, library, maps) in sqlite.chain(postgres).chain(mysql) {
        if json {
            o.json_line(&serde_json::json!({"backend": backend, "name": name, "library": library, "maps": maps}))?;
            continue;
        }
        if heading != backend {
            heading = backend;
            let title = match backend {
                "sqlite" => "SQLite files",
                "mysql" => "MySQL and MariaDB URLs (mysql://…, mariadb://…; detected by column sets in the URL's database; --archived, --table)",
                _ => {
                    "PostgreSQL URLs (postgres://…; detected by column sets; --schema, --archived)"
                }
            };
            o.line(&o.paint(Paint::Bold, title))?;
        }
        let name = o.paint(Paint::Bold, &format!("  {name:<14}"));
        o.line(&format!("{name}{library}"))?;
        o.line(&format!("                {maps}"))?;
    }
    o.flush()?;
    Ok(())
}
