//! What the command line accepts.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// Explore event stores and travel through an aggregate's history.
///
/// With no command, opens STORE (or the bundled demo) in the terminal UI.
#[derive(Debug, Parser)]
#[command(name = "eventscope", version, args_conflicts_with_subcommands = true)]
pub struct Cli {
    /// The event store to open (a SQLite file, or a postgres://, mysql:// or mariadb:// URL); the bundled demo when
    /// omitted.
    pub store: Option<PathBuf>,
    #[command(flatten)]
    pub replay: ReplayArgs,
    #[command(flatten)]
    pub open: OpenArgs,
    /// The TUI's Read-model tab: the application's read model table, as check
    /// --read-model takes it ('table=T,id=C,doc=C[,version=C][,stream=JQ]' or a file).
    #[arg(long, value_name = "SPEC")]
    pub read_model: Option<String>,
    /// With --read-model: a jq program from the reducer's state to the document's shape.
    #[arg(
        long,
        value_name = "JQ",
        requires = "read_model",
        allow_hyphen_values = true
    )]
    pub project: Option<String>,
    /// With --read-model: fields to leave out, as JSON Pointers ('/lastUpdated,/_id').
    #[arg(
        long,
        value_name = "PATHS",
        value_delimiter = ',',
        requires = "read_model"
    )]
    pub ignore: Vec<String>,
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// How to read the store's tables; by default the layout is detected.
#[derive(Debug, Clone, Args)]
pub struct OpenArgs {
    /// Read the store as this layout (see `eventscope formats`).
    #[arg(long, global = true, help_heading = "Reading the store", value_name = "NAME", value_parser = format_name)]
    pub format: Option<String>,
    /// Read a home-grown schema: 'table=T,stream=C,version=C,type=C,data=C[,metadata=C]
    /// [,time=C][,position=C][,id=C]', or the path of a file with those pairs. On
    /// PostgreSQL, table may be SCHEMA.NAME and position= is required.
    #[arg(
        long,
        global = true,
        help_heading = "Reading the store",
        value_name = "SPEC",
        conflicts_with = "format"
    )]
    pub map: Option<String>,
    /// How long to wait, in milliseconds, while another process holds a write lock.
    #[arg(
        long,
        global = true,
        help_heading = "Reading the store",
        value_name = "MS",
        default_value_t = 5000
    )]
    pub busy_timeout: u64,
    /// PostgreSQL: look for the event store in this schema only (else in every schema
    /// the role can see).
    #[arg(
        long,
        global = true,
        help_heading = "PostgreSQL connection",
        value_name = "NAME"
    )]
    pub schema: Option<String>,
    /// PostgreSQL: a hot standby of the store (a postgres:// URL). The heavy one-shot
    /// scans read from it: events (not --follow), stats, types, state --category and
    /// export; each says on stderr that the replica answered. Everything else, and the
    /// TUI, reads the store.
    #[arg(
        long,
        global = true,
        help_heading = "PostgreSQL connection",
        value_name = "URL"
    )]
    pub replica: Option<String>,
    /// PostgreSQL: show archived events and streams (Marten, Emmett).
    #[arg(long, global = true, help_heading = "PostgreSQL connection")]
    pub archived: bool,
    /// PostgreSQL: the events table to read (NAME or SCHEMA.NAME), where a database holds
    /// several (a Python eventsourcing System: one <app>_events per application).
    #[arg(
        long,
        global = true,
        help_heading = "PostgreSQL connection",
        value_name = "NAME"
    )]
    pub table: Option<String>,
    /// PostgreSQL: the session's statement_timeout, in milliseconds.
    #[arg(
        long,
        global = true,
        help_heading = "PostgreSQL connection",
        value_name = "MS",
        default_value_t = 60_000
    )]
    pub statement_timeout: u64,
    /// PostgreSQL: the session's lock_timeout, in milliseconds.
    #[arg(
        long,
        global = true,
        help_heading = "PostgreSQL connection",
        value_name = "MS",
        default_value_t = 2_000
    )]
    pub lock_timeout: u64,
    /// PostgreSQL: the session's idle_in_transaction_session_timeout, in milliseconds.
    #[arg(
        long,
        global = true,
        help_heading = "PostgreSQL connection",
        value_name = "MS",
        default_value_t = 30_000
    )]
    pub idle_timeout: u64,
}

#[derive(Debug, Clone, Args)]
pub struct ReplayArgs {
    /// A .jq reducer for every stream, or a folder of <category>.jq files (with an optional
    /// default.jq). Without it, each event's data is deep-merged into the state.
    #[arg(long, value_name = "PATH")]
    pub reducer: Option<PathBuf>,
    /// Replay from the first event (the default; kept for scripts).
    #[arg(long, conflicts_with = "from_snapshots")]
    pub no_snapshots: bool,
    /// Start replays from the store's snapshots. A snapshot holds the application's
    /// aggregate, so this needs a mapping to the reducer's state: <category>.snapshot.jq
    /// beside the reducers, or --snapshot-map (without one, only native stores with a
    /// --reducer). Every answer then says which snapshot it started from.
    #[arg(long)]
    pub from_snapshots: bool,
    /// A jq program from a stored snapshot (its input) to the reducer's state, for every
    /// category; `$event` holds the snapshot's stream_id, version, topic and created_at.
    #[arg(long, value_name = "FILE")]
    pub snapshot_map: Option<PathBuf>,
    #[command(flatten)]
    pub limits: JqLimits,
    #[command(flatten)]
    pub upcast: UpcastArgs,
    /// Where a reducer not given by --reducer was named (`EVENTSCOPE_REDUCER`, a
    /// `.eventscope.toml`, `reducers/` beside the store), for every header.
    #[arg(skip)]
    pub reducer_origin: Option<String>,
}

/// Upcasters: jq programs from a stored envelope to its current one.
#[derive(Debug, Clone, Args, Default)]
pub struct UpcastArgs {
    /// A folder of upcasters: <Type>.jq, or <Type>.v<N>.jq for events stored with schema
    /// version N, each a jq program from the stored envelope to the one every view then
    /// sees. Default: `upcasters/` beside the store or the reducers, or `upcasters` in
    /// .eventscope.toml.
    #[arg(long, value_name = "DIR")]
    pub upcasters: Option<PathBuf>,
    /// Read events as stored, even where upcasters lie beside the store.
    #[arg(long, conflicts_with = "upcasters")]
    pub no_upcasters: bool,
    /// Where upcasters not given by --upcasters were found, for every header.
    #[arg(skip)]
    pub upcasters_origin: Option<String>,
}

/// The one guard on every jq program: reducers, `when` predicates, `--where`, snapshot
/// mappings.
#[derive(Debug, Clone, Args)]
pub struct JqLimits {
    /// Stop any jq program (a reducer, a predicate, --where, a snapshot mapping) that
    /// spends longer than this many seconds on one event. Also --jq-timeout.
    #[arg(long, visible_alias = "jq-timeout", value_name = "SECONDS", default_value_t = 2.0, value_parser = positive_seconds)]
    pub reducer_timeout: f64,
    /// Stop any jq program's call that grows eventscope past this many MiB of memory.
    /// Also --jq-memory.
    #[arg(long, visible_alias = "jq-memory", value_name = "MIB", default_value_t = 1024, value_parser = clap::value_parser!(u64).range(16..=1 << 20))]
    pub reducer_memory: u64,
}

/// Finding events: by category, jq, text and time.
#[derive(Debug, Clone, Args, Default)]
pub struct FindArgs {
    /// Only streams of this category.
    #[arg(long, value_name = "CAT", conflicts_with = "stream")]
    pub category: Option<String>,
    /// Only events for which this jq predicate over the envelope holds (the envelope
    /// reducers see as `$event`): `.data.amount > 1000`, `.type | test("Withdrawn$")`.
    #[arg(long = "where", value_name = "JQ", allow_hyphen_values = true)]
    pub where_: Option<String>,
    /// Only events whose stored payload or metadata contains this text (no JSON parse).
    #[arg(long, value_name = "STR")]
    pub text: Option<String>,
    /// Only events stamped at or after T (the syntax of --at-time).
    #[arg(long, value_name = "T", value_parser = time_bound)]
    pub since: Option<String>,
    /// Only events stamped at or before T (the syntax of --at-time; a prefix such as
    /// 2024-03-01 means the end of that day).
    #[arg(long, value_name = "T", value_parser = time_bound)]
    pub until: Option<String>,
}

/// Events a replay leaves out (what-if).
#[derive(Debug, Clone, Args, Default)]
pub struct SkipArgs {
    /// Replay without the events at these versions.
    #[arg(long, value_name = "V[,V...]", value_delimiter = ',')]
    pub skip: Vec<i64>,
    /// Replay without events of this type (repeatable).
    #[arg(long, value_name = "TYPE")]
    pub skip_type: Vec<String>,
}

impl SkipArgs {
    pub fn skips(&self) -> eventscope::replay::Skips {
        eventscope::replay::Skips {
            versions: self.skip.iter().copied().collect(),
            types: self.skip_type.iter().cloned().collect(),
        }
    }
}

/// A time `--at-time` can read: checked here so that a typo is a usage error (exit 2).
fn time_bound(s: &str) -> Result<String, String> {
    eventscope::time::parse_time_bound(s).map(|_| s.to_string())
}

/// A format name from `eventscope formats`.
fn format_name(s: &str) -> Result<String, String> {
    let mut names: Vec<&str> = eventscope::store::FORMATS
        .iter()
        .filter(|f| f.layout != eventscope::store::Layout::Custom)
        .map(|f| f.name)
        .collect();
    let servers = eventscope::store::PG_FORMATS
        .iter()
        .chain(eventscope::store::MYSQL_FORMATS);
    for (name, _, _) in servers {
        if !names.contains(name) {
            names.push(name);
        }
    }
    if names.contains(&s) {
        Ok(s.to_string())
    } else {
        Err(format!(
            "unknown format {s:?}; the formats are {} (or --map)",
            names.join(", ")
        ))
    }
}

/// A row count SQLite can take: at most i64::MAX.
fn limit_in_range(s: &str) -> Result<usize, String> {
    match s.parse::<u64>() {
        Ok(n) if n <= i64::MAX as u64 => {
            usize::try_from(n).map_err(|_| format!("{s} is too large"))
        }
        _ => Err(format!("{s:?} is not a count from 0 to {}", i64::MAX)),
    }
}

fn positive_seconds(s: &str) -> Result<f64, String> {
    const MOST: f64 = 1e6;
    match s.parse::<f64>() {
        Ok(v) if v > 0.0 && v <= MOST => Ok(v),
        Ok(v) if v > MOST => Err(format!(
            "{s:?} is too long: at most {MOST:.0} seconds (about 11 days)"
        )),
        _ => Err(format!("{s:?} is not a positive number of seconds")),
    }
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Write the demo store (bank accounts, orders, users).
    Demo {
        /// Where to write it; the file must not exist.
        #[arg(long, value_name = "FILE")]
        out: PathBuf,
        /// Scale the store up to this many events with generated streams.
        #[arg(long, value_name = "N", default_value_t = 0)]
        events: usize,
        /// Put N of those events into one long account stream, Account-hot (for trying
        /// eventscope on a stream of production size).
        #[arg(long, value_name = "N", default_value_t = 0)]
        hot: usize,
    },
    /// List streams with their event counts and last versions.
    Streams {
        /// The event store: a SQLite file, or a postgres://, mysql:// or mariadb:// URL.
        store: PathBuf,
        /// Only streams of this category.
        #[arg(long)]
        category: Option<String>,
        /// One JSON object per line.
        #[arg(long)]
        json: bool,
        /// Count every stream's events and the total exactly. On PostgreSQL the list
        /// otherwise takes counts from the layout's streams table and the total from the
        /// planner's estimate (both marked ≈), so as not to read the whole table.
        #[arg(long)]
        count: bool,
    },
    /// List events in global order.
    Events {
        /// The event store: a SQLite file, or a postgres://, mysql:// or mariadb:// URL.
        store: PathBuf,
        /// Only this stream.
        #[arg(long, value_name = "ID")]
        stream: Option<String>,
        /// Only events of this type.
        #[arg(long = "type", value_name = "T")]
        event_type: Option<String>,
        /// First global position to show (default: the first stored, 0 and negative
        /// positions included).
        #[arg(long, value_name = "POS", allow_negative_numbers = true)]
        from: Option<i64>,
        /// Show at most N events (with --follow: of those already stored).
        #[arg(long, value_name = "N", value_parser = limit_in_range)]
        limit: Option<usize>,
        /// Show the last N matching events (with --follow: the last N stored, then what
        /// is appended; 10 when neither --from nor --limit is given, as `tail -f`).
        #[arg(long, short = 'n', value_name = "N", value_parser = limit_in_range)]
        last: Option<usize>,
        #[command(flatten)]
        find: FindArgs,
        #[command(flatten)]
        limits: JqLimits,
        /// One JSON envelope per line.
        #[arg(long)]
        json: bool,
        /// Keep printing events as other processes append them, like `tail -f`: the last
        /// 10 stored first (-n N for more, --from POS for all from there).
        #[arg(long, short = 'f')]
        follow: bool,
        /// Print events as their upcasters make them (marked "upcast": true), from
        /// --upcasters or the default folder; --where then tests the upcast envelope.
        #[arg(long)]
        upcast: bool,
        #[command(flatten)]
        upcasters: UpcastArgs,
    },
    /// Print a stream's state, by default after its last event; or, with --category, the
    /// state of every stream of a category.
    State {
        /// The event store: a SQLite file, or a postgres://, mysql:// or mariadb:// URL.
        store: PathBuf,
        /// The stream id, as `streams` lists it.
        #[arg(required_unless_present = "category")]
        stream: Option<String>,
        /// Every stream of this category, as of --at-time (default: now): one pass over
        /// the category's events in global order.
        #[arg(long, value_name = "CAT", conflicts_with_all = ["stream", "at", "skip"])]
        category: Option<String>,
        #[command(flatten)]
        skip: SkipArgs,
        /// Version(s) to show; a comma list prints one line per version, in the order given.
        #[arg(
            long,
            value_name = "V[,V...]",
            value_delimiter = ',',
            conflicts_with = "at_time"
        )]
        at: Vec<i64>,
        /// The state after the last event, in version order, whose time is at or before T.
        /// If times go backwards in the stream, that state includes the versions before that
        /// event even when they are stamped after T (`check` lists such streams). T is
        /// RFC 3339, a `±hhmm` offset, SQLite's `YYYY-MM-DD HH:MM:SS.fff`, Unix seconds or
        /// milliseconds, or a prefix such as 2024-03-01 that means the end of the period it
        /// names; without an offset it is UTC.
        #[arg(long, value_name = "T", value_parser = time_bound)]
        at_time: Option<String>,
        #[command(flatten)]
        replay: ReplayArgs,
        /// Compact JSON on one line: the bare state.
        #[arg(long)]
        json: bool,
        /// With --json: one {"stream_id", "version", "timestamp", "reducer",
        /// "from_snapshot", "state"} per requested point.
        #[arg(long, requires = "json")]
        envelope: bool,
    },
    /// Which event last changed each field of a stream's state.
    Blame {
        /// The event store: a SQLite file, or a postgres://, mysql:// or mariadb:// URL.
        store: PathBuf,
        /// The stream id, as `streams` lists it.
        stream: String,
        /// The state at this version (default: the last).
        #[arg(long, value_name = "V")]
        at: Option<i64>,
        #[command(flatten)]
        skip: SkipArgs,
        #[command(flatten)]
        replay: ReplayArgs,
        /// One {"path", "value", "version", "type", "timestamp", "global_position",
        /// "event_id"} per line.
        #[arg(long)]
        json: bool,
    },
    /// The first version where a jq predicate on the state holds (`'.balance < 0'`); the
    /// state after each event is its input and `$event` that event. Exits 1 when it never
    /// holds.
    When {
        /// The event store: a SQLite file, or a postgres://, mysql:// or mariadb:// URL.
        store: PathBuf,
        /// STREAM PREDICATE, or with --category only PREDICATE.
        #[arg(num_args = 1..=2, required = true, value_name = "STREAM PREDICATE")]
        words: Vec<String>,
        /// Every stream of this category (one pass in global order), one line per stream
        /// where the predicate holds.
        #[arg(long, value_name = "CAT")]
        category: Option<String>,
        /// Every version where the predicate turns from false to true.
        #[arg(long, conflicts_with = "category")]
        all: bool,
        /// A predicate error (a missing field) fails the command instead of counting as
        /// false.
        #[arg(long)]
        strict: bool,
        #[command(flatten)]
        replay: ReplayArgs,
        /// One {"stream_id", "version", "type", "timestamp", "state"} per line.
        #[arg(long)]
        json: bool,
    },
    /// Every version where the value at PATH changed: old and new value, event type and
    /// time; its first appearance and its removal are rows too. An equal rewrite is no
    /// change (the rule of blame).
    History {
        /// The event store: a SQLite file, or a postgres://, mysql:// or mariadb:// URL.
        store: PathBuf,
        /// STREAM PATH, or with --category only PATH. PATH is a JSON Pointer
        /// (`/items/0/qty`) or a jq path (`.items[0].qty`, `.["a b"]`).
        #[arg(num_args = 1..=2, required = true, value_name = "STREAM PATH")]
        words: Vec<String>,
        /// Every stream of this category, in one pass in global order (the stream id on
        /// each row).
        #[arg(long, value_name = "CAT")]
        category: Option<String>,
        #[command(flatten)]
        replay: ReplayArgs,
        /// One {"stream_id", "version", "type", "timestamp", "change", "old", "new"} per
        /// line.
        #[arg(long)]
        json: bool,
    },
    /// The event types: per type its count, streams, first and last event, stored
    /// schema versions and the payload's shapes over time, with what changed between
    /// consecutive shapes. One pass over the log.
    Types {
        /// The event store: a SQLite file, or a postgres://, mysql:// or mariadb:// URL.
        store: PathBuf,
        /// Only events of streams of this category.
        #[arg(long, value_name = "CAT")]
        category: Option<String>,
        /// Only this type (all its shapes).
        #[arg(long = "type", value_name = "T")]
        event_type: Option<String>,
        /// The most shapes kept per type; events of further shapes are counted as such.
        #[arg(long, value_name = "N", default_value_t = 50, value_parser = clap::value_parser!(u32).range(1..=10_000))]
        max_shapes: u32,
        /// One JSON object per type.
        #[arg(long)]
        json: bool,
    },
    /// What changes without some events: the diff from the real state to the state
    /// replayed without them. The store is never written.
    Whatif {
        /// The event store: a SQLite file, or a postgres://, mysql:// or mariadb:// URL.
        store: PathBuf,
        /// The stream id, as `streams` lists it.
        stream: String,
        #[command(flatten)]
        skip: SkipArgs,
        /// Compare at this version (default: the last).
        #[arg(long, value_name = "V")]
        at: Option<i64>,
        #[command(flatten)]
        replay: ReplayArgs,
        /// The changes as a JSON array.
        #[arg(long)]
        json: bool,
    },
    /// Where every consumer the store records (projection, subscription, process
    /// application, processor) stands: its position, the head of what it follows, its lag,
    /// the first event it has not processed, and whether it is caught up, behind or stuck.
    Consumers {
        /// The event store: a SQLite file, or a postgres://, mysql:// or mariadb:// URL.
        store: PathBuf,
        /// A table of positions no layout names: 'table=T,name=C,position=C[,updated=C]
        /// [,status=C][,follows=C][,kind=C]' (follows holds $all, a category, or stream:ID).
        #[arg(long, value_name = "SPEC")]
        consumers: Option<String>,
        /// Another store that keeps consumer positions in this store's log (a Python
        /// eventsourcing process application's database, tracking its leader); repeatable.
        #[arg(long, value_name = "STORE")]
        tracking: Vec<PathBuf>,
        /// A consumer behind whose last update is older than this is stuck (30s, 15m, 1h).
        #[arg(long, value_name = "SPAN", default_value = "60s", value_parser = eventscope::store::parse_bucket)]
        stuck_after: i64,
        /// Count every event of each lag, however long; by default a lag past 50,000
        /// events is estimated from the rate of the first 50,000 and marked ≈.
        #[arg(long)]
        exact: bool,
        /// Exit 1 when any consumer is in this state (for scripts and monitoring).
        #[arg(long, value_name = "STATE")]
        fail_on: Option<super::consumers::FailOn>,
        /// One JSON object per consumer.
        #[arg(long)]
        json: bool,
    },
    /// What a store holds: events per type and category, stream lengths, the first and
    /// last time, and events per time bucket.
    Stats {
        /// The event store: a SQLite file, or a postgres://, mysql:// or mariadb:// URL.
        store: PathBuf,
        /// Only this stream.
        #[arg(long, value_name = "ID", conflicts_with = "category")]
        stream: Option<String>,
        /// Only streams of this category.
        #[arg(long, value_name = "CAT")]
        category: Option<String>,
        /// The bucket size (30s, 15m, 1h, 1d, 1w); by default the span fits in 60.
        #[arg(long, value_name = "SIZE", value_parser = eventscope::store::parse_bucket)]
        bucket: Option<i64>,
        /// One JSON object.
        #[arg(long)]
        json: bool,
    },
    /// Every event that shares an event's correlation id, across all streams, with its
    /// causes above it and its effects below it, as a tree.
    Related {
        /// The event store: a SQLite file, or a postgres://, mysql:// or mariadb:// URL.
        store: PathBuf,
        /// The event's id (or its global position).
        event: String,
        /// The metadata key of the correlation id, if not one of the common spellings.
        #[arg(long, value_name = "KEY")]
        correlation_key: Option<String>,
        /// The metadata key of the causation id, if not one of the common spellings.
        #[arg(long, value_name = "KEY")]
        causation_key: Option<String>,
        /// One envelope per line, in global order, with "depth" and "parent".
        #[arg(long)]
        json: bool,
    },
    /// Compare a stream's state at two versions.
    Diff {
        /// The event store: a SQLite file, or a postgres://, mysql:// or mariadb:// URL.
        store: PathBuf,
        /// The stream id, as `streams` lists it.
        stream: String,
        #[arg(long, value_name = "V1")]
        from: i64,
        /// Defaults to the last version.
        #[arg(long, value_name = "V2")]
        to: Option<i64>,
        #[command(flatten)]
        replay: ReplayArgs,
        /// The changes as a JSON array.
        #[arg(long)]
        json: bool,
    },
    /// Write a stream's history up to a version as a test fixture: its events (given) and
    /// the reducer's state after them (then), NDJSON that `test` runs and `import` reads.
    ExportTest {
        /// The event store: a SQLite file, or a postgres://, mysql:// or mariadb:// URL.
        store: PathBuf,
        /// The stream id, as `streams` lists it (leave out with --correlation).
        #[arg(required_unless_present = "correlation")]
        stream: Option<String>,
        /// Up to this version (default: the last).
        #[arg(
            long,
            value_name = "V",
            conflicts_with = "correlation",
            allow_negative_numbers = true
        )]
        at: Option<i64>,
        /// Every event sharing this event's correlation id (its id or global position),
        /// across streams, as `related` finds them.
        #[arg(long, value_name = "ID", conflicts_with = "stream")]
        correlation: Option<String>,
        /// A jq program each envelope goes through first (mask emails, names, amounts); the
        /// expected state is computed from what it gives.
        #[arg(long, value_name = "JQ", allow_hyphen_values = true)]
        redact: Option<String>,
        /// Write to this new file (it must not exist) instead of standard output.
        #[arg(long, value_name = "FILE")]
        out: Option<PathBuf>,
        #[command(flatten)]
        replay: ReplayArgs,
    },
    /// Write events (and, with --states, the reducer's state after every event) as
    /// Parquet files for SQL engines: DuckDB, Polars, Spark, ClickHouse.
    Export {
        /// The event store: a SQLite file, or a postgres://, mysql:// or mariadb:// URL.
        store: PathBuf,
        /// The folder to write events-00001.parquet, … into (made if missing; it must be
        /// empty).
        #[arg(long, value_name = "DIR")]
        parquet: PathBuf,
        /// Only this stream.
        #[arg(long, value_name = "ID")]
        stream: Option<String>,
        /// Only events of this type.
        #[arg(long = "type", value_name = "T")]
        event_type: Option<String>,
        #[command(flatten)]
        find: FindArgs,
        /// Also replay every chosen stream from its first event and write the state after
        /// each exported event (states-00001.parquet, …): the state as JSON and its
        /// top-level scalar fields as typed columns.
        #[arg(long)]
        states: bool,
        /// Rows per file (a file holds whole row groups of up to 65,536 rows).
        #[arg(long, value_name = "N", default_value_t = 1_000_000, value_parser = clap::value_parser!(u64).range(1..))]
        rows_per_file: u64,
        #[command(flatten)]
        replay: ReplayArgs,
        /// The summary as one JSON object.
        #[arg(long)]
        json: bool,
    },
    /// Serve the store's answers to agents: a read-only Model Context Protocol server on
    /// stdin/stdout (JSON-RPC, a message per line). Its tools are the read-only commands
    /// with --json; each call runs with this command's options (--reducer, --format, …).
    Mcp {
        /// The event store: a SQLite file, or a postgres://, mysql:// or mariadb:// URL.
        store: PathBuf,
        #[command(flatten)]
        replay: ReplayArgs,
        /// Stop a tool call that runs longer than this many seconds.
        #[arg(long, value_name = "SECONDS", default_value_t = 300, value_parser = clap::value_parser!(u64).range(1..=86_400))]
        call_timeout: u64,
    },
    /// Every stream (of a category, or one) through two reducers, --reducer (A) and
    /// --against (B), in one pass: each stream whose states differ with the first version
    /// where they part, its event and the changes; streams where one fails first. Exits 1
    /// when any differ.
    CompareReducers {
        /// The event store: a SQLite file, or a postgres://, mysql:// or mariadb:// URL.
        store: PathBuf,
        /// The reducer to compare with --reducer: a .jq file or a folder.
        #[arg(long, value_name = "PATH")]
        against: PathBuf,
        /// Only streams of this category.
        #[arg(long, value_name = "CAT", conflicts_with = "stream")]
        category: Option<String>,
        /// Only this stream.
        #[arg(long, value_name = "ID")]
        stream: Option<String>,
        /// Compare the states as of this time instead of at the end (as state --at-time).
        #[arg(long, value_name = "T", value_parser = time_bound)]
        at_time: Option<String>,
        #[command(flatten)]
        replay: ReplayArgs,
        /// One JSON object per stream.
        #[arg(long)]
        json: bool,
    },
    /// Run every fixture in a folder (*.ndjson written by export-test) through a reducer:
    /// pass or fail with the differences. Exits 1 when any fails.
    Test {
        /// A folder of fixtures, or one fixture file.
        dir: PathBuf,
        #[command(flatten)]
        replay: ReplayArgs,
        /// One JSON object per fixture.
        #[arg(long)]
        json: bool,
    },
    /// Import NDJSON envelopes (as `events --json` prints them) into a native store.
    Import {
        /// The NDJSON file; `-` reads standard input.
        file: PathBuf,
        /// The new native store to write; it must not exist yet.
        #[arg(long, value_name = "STORE")]
        out: PathBuf,
    },
    /// List the store layouts eventscope reads and how each maps onto events.
    Formats {
        /// One JSON object per line.
        #[arg(long)]
        json: bool,
    },
    /// Check a store's integrity; exits 1 when it finds problems.
    ///
    /// Reports version gaps and duplicates, timestamps going backwards, undecodable
    /// payloads and, with --reducer, snapshots that replaying disagrees with.
    Check {
        /// The event store: a SQLite file, or a postgres://, mysql:// or mariadb:// URL.
        store: PathBuf,
        /// Check the application's read model against replay instead: a table beside the
        /// events, 'table=T,id=C,doc=C[,version=C][,stream=JQ]' (columns=a,b,c in place of
        /// doc for a plain table), or the path of a file holding it, one pair a line.
        #[arg(long, value_name = "SPEC")]
        read_model: Option<String>,
        /// With --read-model: a jq program from the reducer's state to the document's shape.
        #[arg(
            long,
            value_name = "JQ",
            requires = "read_model",
            allow_hyphen_values = true
        )]
        project: Option<String>,
        /// With --read-model: fields to leave out, as JSON Pointers ('/lastUpdated,/_id').
        #[arg(
            long,
            value_name = "PATHS",
            value_delimiter = ',',
            requires = "read_model"
        )]
        ignore: Vec<String>,
        /// With --read-model: each stream of this category must have a row (default: the
        /// categories of the rows' streams).
        #[arg(long, value_name = "CAT", requires = "read_model")]
        category: Option<String>,
        #[command(flatten)]
        replay: ReplayArgs,
        /// One JSON object per problem.
        #[arg(long)]
        json: bool,
    },
    /// List the snapshots a store keeps (with --json, their decoded content).
    Snapshots {
        /// The event store: a SQLite file, or a postgres://, mysql:// or mariadb:// URL.
        store: PathBuf,
        /// Only this stream's.
        #[arg(long, value_name = "ID")]
        stream: Option<String>,
        /// One JSON object per line.
        #[arg(long)]
        json: bool,
    },
    /// Print a shell completion script (bash and fish also complete stream ids from the
    /// store on the command line).
    Completions { shell: clap_complete::Shell },
    /// Print the manual page (roff), e.g. `eventscope man > ~/.local/share/man/man1/eventscope.1`.
    Man {
        /// Write the main page and one page per subcommand into DIR (eventscope.1,
        /// eventscope-state.1, …) instead of printing the main page.
        #[arg(long, value_name = "DIR")]
        all: Option<PathBuf>,
    },
    /// The stream ids of a store, one per line, for shell completion; prints nothing when
    /// the store cannot be read.
    #[command(name = "__streams", hide = true)]
    StreamIds { store: PathBuf },
}

impl Command {
    /// The store a command reads, and its replay settings, for the store's defaults.
    /// The upcasters a command reads through, where it can.
    pub fn upcast_args(&mut self) -> Option<&mut UpcastArgs> {
        match self {
            Command::Events { upcasters, .. } => Some(upcasters),
            other => other.store_and_replay().1.map(|r| &mut r.upcast),
        }
    }

    pub fn store_and_replay(&mut self) -> (Option<&std::path::Path>, Option<&mut ReplayArgs>) {
        use Command as C;
        match self {
            C::State { store, replay, .. }
            | C::Blame { store, replay, .. }
            | C::When { store, replay, .. }
            | C::Whatif { store, replay, .. }
            | C::Diff { store, replay, .. }
            | C::History { store, replay, .. }
            | C::ExportTest { store, replay, .. }
            | C::Export { store, replay, .. }
            | C::Mcp { store, replay, .. }
            | C::CompareReducers { store, replay, .. }
            | C::Check { store, replay, .. } => (Some(store), Some(replay)),
            C::Test { replay, .. } => (None, Some(replay)),
            C::Streams { store, .. }
            | C::Types { store, .. }
            | C::Events { store, .. }
            | C::Consumers { store, .. }
            | C::Stats { store, .. }
            | C::Related { store, .. }
            | C::Snapshots { store, .. }
            | C::StreamIds { store } => (Some(store), None),
            C::Demo { .. }
            | C::Import { .. }
            | C::Formats { .. }
            | C::Completions { .. }
            | C::Man { .. } => (None, None),
        }
    }
}
