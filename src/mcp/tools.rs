//! The tools the server offers: each a read-only CLI command with `--json`, its arguments
//! as a JSON schema, and how its answer is shaped and paged.

use serde_json::{json, Map, Value};

/// An argument's JSON type.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Ty {
    Str,
    Int,
    Bool,
    Ints,
    Strs,
}

pub struct Param {
    pub name: &'static str,
    pub ty: Ty,
    pub required: bool,
    pub about: &'static str,
}

/// How a command prints its answer.
#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// One JSON value per line: paged, `{"items": [...], "more": cursor}`.
    Lines,
    /// Lines of the global log: paged by position (`--from`), so a page never re-reads
    /// what came before it.
    Log,
    /// One JSON value: `{"result": value}`.
    One,
    /// One field of a JSON object: `{"<field>": value}`.
    Field(&'static str),
}

pub struct Tool {
    pub name: &'static str,
    pub about: &'static str,
    pub params: &'static [Param],
    pub shape: Shape,
    /// Takes the server's reducer, snapshot and upcaster settings.
    pub replays: bool,
    /// Runs jq (a reducer, a predicate, --where): takes the server's jq limits.
    pub runs_jq: bool,
    /// Exit code 1 is an answer (`when` never holds, `check` found problems).
    pub one_is_answer: bool,
    /// The command line, after the subcommand's own options and before `-- STORE`.
    pub argv: fn(&Args) -> Cmd,
}

/// The subcommand, its options, and the positionals after the store.
pub struct Cmd {
    pub command: &'static str,
    pub options: Vec<String>,
    pub positionals: Vec<String>,
}

/// A call's arguments, checked against the tool's parameters.
pub struct Args<'a>(pub &'a Map<String, Value>);

impl Args<'_> {
    pub fn str(&self, name: &str) -> Option<String> {
        self.0.get(name).and_then(Value::as_str).map(str::to_string)
    }

    pub fn int(&self, name: &str) -> Option<i64> {
        self.0.get(name).and_then(Value::as_i64)
    }

    fn list(&self, name: &str) -> Vec<String> {
        match self.0.get(name) {
            Some(Value::Array(a)) => a
                .iter()
                .map(|v| v.as_str().map_or_else(|| v.to_string(), str::to_string))
                .collect(),
            _ => Vec::new(),
        }
    }

    /// `--name=value` for each argument given, so that a value starting with `-` is never
    /// taken for an option.
    fn options(&self, names: &[(&str, &str)]) -> Vec<String> {
        let mut out = Vec::new();
        for (arg, flag) in names {
            match self.0.get(*arg) {
                Some(Value::String(s)) => out.push(format!("--{flag}={s}")),
                Some(Value::Number(n)) => out.push(format!("--{flag}={n}")),
                Some(Value::Bool(true)) => out.push(format!("--{flag}")),
                Some(Value::Array(_)) => out.push(format!("--{flag}={}", self.list(arg).join(","))),
                _ => {}
            }
        }
        out
    }
}

/// Checks `args` against `tool`'s parameters: every required one given, each of its
/// type, no other.
pub fn check(tool: &Tool, args: &Map<String, Value>) -> Result<(), String> {
    for (name, value) in args {
        let paging: &[Param] = if tool.pages() { &PAGING } else { &[] };
        let Some(p) = tool.params.iter().chain(paging).find(|p| p.name == name) else {
            return Err(format!("{} takes no argument {name:?}", tool.name));
        };
        let fits = match p.ty {
            Ty::Str => value.is_string(),
            Ty::Int => value.as_i64().is_some(),
            Ty::Bool => value.is_boolean(),
            Ty::Ints => value
                .as_array()
                .is_some_and(|a| !a.is_empty() && a.iter().all(|v| v.as_i64().is_some())),
            Ty::Strs => value
                .as_array()
                .is_some_and(|a| a.iter().all(Value::is_string)),
        };
        if !fits {
            return Err(format!(
                "{}: {name} must be {}",
                tool.name,
                type_words(p.ty)
            ));
        }
    }
    for p in tool.params.iter().filter(|p| p.required) {
        if !args.contains_key(p.name) {
            return Err(format!("{}: {} is required", tool.name, p.name));
        }
    }
    if let Some(limit) = args.get("limit").and_then(Value::as_i64) {
        if !(1..=MAX_LIMIT).contains(&limit) {
            return Err(format!("limit must be from 1 to {MAX_LIMIT}"));
        }
    }
    Ok(())
}

fn type_words(ty: Ty) -> &'static str {
    match ty {
        Ty::Str => "a string",
        Ty::Int => "an integer",
        Ty::Bool => "true or false",
        Ty::Ints => "a non-empty array of integers",
        Ty::Strs => "an array of strings",
    }
}

pub const DEFAULT_LIMIT: i64 = 100;
pub const MAX_LIMIT: i64 = 1000;

/// What every paged tool takes besides its own parameters.
const PAGING: [Param; 2] = [
    Param {
        name: "limit",
        ty: Ty::Int,
        required: false,
        about: "At most this many items (1 to 1000; 100 by default); the answer may hold fewer to stay within 256 KiB",
    },
    Param {
        name: "cursor",
        ty: Ty::Str,
        required: false,
        about: "The `more` of the previous page, to go on from there",
    },
];

impl Tool {
    pub fn pages(&self) -> bool {
        matches!(self.shape, Shape::Lines | Shape::Log)
    }

    /// The tool as `tools/list` gives it: name, description, and a JSON schema.
    pub fn listing(&self) -> Value {
        let mut properties = Map::new();
        let paging: &[Param] = if self.pages() { &PAGING } else { &[] };
        for p in self.params.iter().chain(paging) {
            let schema = match p.ty {
                Ty::Str => json!({"type": "string"}),
                Ty::Int => json!({"type": "integer"}),
                Ty::Bool => json!({"type": "boolean"}),
                Ty::Ints => json!({"type": "array", "items": {"type": "integer"}, "minItems": 1}),
                Ty::Strs => json!({"type": "array", "items": {"type": "string"}}),
            };
            let mut schema = schema;
            schema["description"] = json!(p.about);
            properties.insert(p.name.to_string(), schema);
        }
        let required: Vec<&str> = self
            .params
            .iter()
            .filter(|p| p.required)
            .map(|p| p.name)
            .collect();
        json!({
            "name": self.name,
            "description": self.about,
            "inputSchema": {
                "type": "object",
                "properties": properties,
                "required": required,
                "additionalProperties": false,
            },
            "annotations": {"readOnlyHint": true, "destructiveHint": false, "idempotentHint": true, "openWorldHint": false},
        })
    }
}

const fn p(name: &'static str, ty: Ty, required: bool, about: &'static str) -> Param {
    Param {
        name,
        ty,
        required,
        about,
    }
}

const STREAM: Param = p(
    "stream",
    Ty::Str,
    true,
    "The stream id, as list_streams gives it",
);

pub const TOOLS: &[Tool] = &[
    Tool {
        name: "list_streams",
        about: "Streams with their event counts and last versions (as `eventscope streams --json`).",
        params: &[p("category", Ty::Str, false, "Only streams of this category")],
        shape: Shape::Lines,
        replays: false,
        runs_jq: false,
        one_is_answer: false,
        argv: |a| Cmd {
            command: "streams",
            options: a.options(&[("category", "category")]),
            positionals: vec![],
        },
    },
    Tool {
        name: "list_categories",
        about: "Every category with its number of events (the `categories` of `eventscope stats --json`).",
        params: &[],
        shape: Shape::Field("categories"),
        replays: false,
        runs_jq: false,
        one_is_answer: false,
        argv: |_| Cmd {
            command: "stats",
            options: vec![],
            positionals: vec![],
        },
    },
    Tool {
        name: "list_events",
        about: "Events in global order, filtered (as `eventscope events --json`): by stream, category, type, a jq predicate over the envelope (`where`, e.g. `.data.amount > 1000`), stored text, and time bounds.",
        params: &[
            p("stream", Ty::Str, false, "Only this stream"),
            p("category", Ty::Str, false, "Only streams of this category"),
            p("type", Ty::Str, false, "Only events of this type"),
            p("where", Ty::Str, false, "A jq predicate over the envelope ($event as reducers see it)"),
            p("text", Ty::Str, false, "Only events whose stored payload or metadata contains this text"),
            p("since", Ty::Str, false, "Only events stamped at or after this time (RFC 3339, or a prefix such as 2024-03-01)"),
            p("until", Ty::Str, false, "Only events stamped at or before this time (a prefix means the end of that period)"),
            p("from_position", Ty::Int, false, "The first global position to list"),
        ],
        shape: Shape::Log,
        replays: false,
        runs_jq: true,
        one_is_answer: false,
        argv: |a| Cmd {
            command: "events",
            options: a.options(&[
                ("stream", "stream"),
                ("category", "category"),
                ("type", "type"),
                ("where", "where"),
                ("text", "text"),
                ("since", "since"),
                ("until", "until"),
                ("from_position", "from"),
            ]),
            positionals: vec![],
        },
    },
    Tool {
        name: "get_state",
        about: "A stream's state through the reducer: after its last event, at versions, or as of a time (as `eventscope state --json --envelope`). Each answer names the reducer; the built-in merge says it is a guess.",
        params: &[
            STREAM,
            p("versions", Ty::Ints, false, "The state after each of these versions"),
            p("at_time", Ty::Str, false, "The state as of this time (RFC 3339 or a prefix)"),
        ],
        shape: Shape::Lines,
        replays: true,
        runs_jq: true,
        one_is_answer: false,
        argv: |a| Cmd {
            command: "state",
            options: [vec!["--envelope".to_string()], a.options(&[("versions", "at"), ("at_time", "at-time")])].concat(),
            positionals: vec![a.str("stream").unwrap_or_default()],
        },
    },
    Tool {
        name: "diff",
        about: "What changed in a stream's state between two versions (as `eventscope diff --json`).",
        params: &[
            STREAM,
            p("from", Ty::Int, true, "The earlier version"),
            p("to", Ty::Int, false, "The later version (default: the last)"),
        ],
        shape: Shape::One,
        replays: true,
        runs_jq: true,
        one_is_answer: false,
        argv: |a| Cmd {
            command: "diff",
            options: a.options(&[("from", "from"), ("to", "to")]),
            positionals: vec![a.str("stream").unwrap_or_default()],
        },
    },
    Tool {
        name: "blame",
        about: "Which event last changed each field of a stream's state (as `eventscope blame --json`).",
        params: &[STREAM, p("at", Ty::Int, false, "The state at this version (default: the last)")],
        shape: Shape::Lines,
        replays: true,
        runs_jq: true,
        one_is_answer: false,
        argv: |a| Cmd {
            command: "blame",
            options: a.options(&[("at", "at")]),
            positionals: vec![a.str("stream").unwrap_or_default()],
        },
    },
    Tool {
        name: "when",
        about: "The first version where a jq predicate on the state holds, e.g. `.balance < 0` (as `eventscope when --json`); with `category`, for every stream of it. An empty list and a note when it never holds.",
        params: &[
            p("predicate", Ty::Str, true, "A jq predicate: the state after each event is its input, $event that event"),
            p("stream", Ty::Str, false, "The stream (or give category)"),
            p("category", Ty::Str, false, "Every stream of this category"),
            p("all", Ty::Bool, false, "Every version where the predicate turns from false to true"),
        ],
        shape: Shape::Lines,
        replays: true,
        runs_jq: true,
        one_is_answer: true,
        argv: |a| Cmd {
            command: "when",
            options: a.options(&[("category", "category"), ("all", "all")]),
            positionals: a
                .str("stream")
                .into_iter()
                .chain(a.str("predicate"))
                .collect(),
        },
    },
    Tool {
        name: "what_if",
        about: "What a stream's state would be without some events: the changes from the real state (as `eventscope whatif --json`). Nothing is written.",
        params: &[
            STREAM,
            p("skip_versions", Ty::Ints, false, "Leave out the events at these versions"),
            p("skip_types", Ty::Strs, false, "Leave out events of these types"),
            p("at", Ty::Int, false, "Compare at this version (default: the last)"),
        ],
        shape: Shape::One,
        replays: true,
        runs_jq: true,
        one_is_answer: false,
        argv: |a| Cmd {
            command: "whatif",
            options: [
                a.options(&[("skip_versions", "skip"), ("at", "at")]),
                a.list("skip_types").iter().map(|t| format!("--skip-type={t}")).collect(),
            ]
            .concat(),
            positionals: vec![a.str("stream").unwrap_or_default()],
        },
    },
    Tool {
        name: "field_history",
        about: "Every version where the value at a JSON Pointer path of a stream's state changed: old and new value, event type and time (as `eventscope history --json`).",
        params: &[STREAM, p("path", Ty::Str, true, "A JSON Pointer into the state, e.g. /balance")],
        shape: Shape::Lines,
        replays: true,
        runs_jq: true,
        one_is_answer: false,
        argv: |a| Cmd {
            command: "history",
            options: vec![],
            positionals: vec![a.str("stream").unwrap_or_default(), a.str("path").unwrap_or_default()],
        },
    },
    Tool {
        name: "related",
        about: "Every event sharing an event's correlation id, across streams, with causes and effects as a tree (as `eventscope related --json`).",
        params: &[p("event", Ty::Str, true, "The event's id or global position")],
        shape: Shape::Lines,
        replays: false,
        runs_jq: false,
        one_is_answer: false,
        argv: |a| Cmd {
            command: "related",
            options: vec![],
            positionals: vec![a.str("event").unwrap_or_default()],
        },
    },
    Tool {
        name: "stats",
        about: "What the store holds: events per type and category, stream lengths, first and last time, events per time bucket (as `eventscope stats --json`).",
        params: &[
            p("stream", Ty::Str, false, "Only this stream"),
            p("category", Ty::Str, false, "Only streams of this category"),
            p("bucket", Ty::Str, false, "The bucket size: 30s, 15m, 1h, 1d, 1w"),
        ],
        shape: Shape::One,
        replays: false,
        runs_jq: false,
        one_is_answer: false,
        argv: |a| Cmd {
            command: "stats",
            options: a.options(&[("stream", "stream"), ("category", "category"), ("bucket", "bucket")]),
            positionals: vec![],
        },
    },
    Tool {
        name: "event_types",
        about: "Per event type: count, streams, first and last event, schema versions and payload shapes over time (as `eventscope types --json`).",
        params: &[
            p("category", Ty::Str, false, "Only streams of this category"),
            p("type", Ty::Str, false, "Only this type"),
        ],
        shape: Shape::Lines,
        replays: false,
        runs_jq: false,
        one_is_answer: false,
        argv: |a| Cmd {
            command: "types",
            options: a.options(&[("category", "category"), ("type", "type")]),
            positionals: vec![],
        },
    },
    Tool {
        name: "consumers",
        about: "Where every consumer the store records stands: position, head, lag, first unprocessed event, caught up / behind / stuck (as `eventscope consumers --json`).",
        params: &[],
        shape: Shape::Lines,
        replays: false,
        runs_jq: false,
        one_is_answer: false,
        argv: |_| Cmd {
            command: "consumers",
            options: vec![],
            positionals: vec![],
        },
    },
    Tool {
        name: "check",
        about: "The store's integrity: gaps, duplicate versions, unreadable payloads and times, replay failures (as `eventscope check --json`); an empty list when it finds nothing.",
        params: &[p("category", Ty::Str, false, "Only streams of this category")],
        shape: Shape::Lines,
        replays: true,
        runs_jq: true,
        one_is_answer: true,
        argv: |a| Cmd {
            command: "check",
            options: a.options(&[("category", "category")]),
            positionals: vec![],
        },
    },
];

pub fn find(name: &str) -> Option<&'static Tool> {
    TOOLS.iter().find(|t| t.name == name)
}
