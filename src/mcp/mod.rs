//! `eventscope mcp STORE`: a read-only Model Context Protocol server over stdio (JSON-RPC
//! 2.0, a message per line). Its tools are the CLI's read-only commands with `--json`
//! (tools.rs), each call run as a child process of this binary (child.rs).

mod child;
mod tools;

use std::io::{BufRead, Write};
use std::time::Duration;

use serde_json::{json, Map, Value};

use tools::{Args, Shape, Tool};

/// Protocol revisions this server speaks, newest first.
const VERSIONS: [&str; 3] = ["2025-06-18", "2025-03-26", "2024-11-05"];
/// The most a request line may hold.
const MESSAGE_LIMIT: usize = 4 << 20;
/// The most text a tool's answer holds; a longer list is paged.
const ANSWER_LIMIT: usize = 256 << 10;

/// What every call is run with: the store, and the options given to `mcp` that every
/// command takes (layout, connection), that replays take (reducer, snapshots, upcasters),
/// and that jq programs take (the guard's limits).
pub struct Server {
    pub store: String,
    pub open: Vec<String>,
    pub replay: Vec<String>,
    pub jq: Vec<String>,
    pub call_timeout: Duration,
}

pub fn serve(server: &Server) -> anyhow::Result<()> {
    let stdin = std::io::stdin();
    let mut input = stdin.lock();
    let stdout = std::io::stdout();
    loop {
        let reply = match read_message(&mut input)? {
            None => return Ok(()),
            Some(Err(too_long)) => Some(error(Value::Null, -32700, &too_long)),
            Some(Ok(line)) if line.iter().all(u8::is_ascii_whitespace) => None,
            Some(Ok(line)) => match serde_json::from_slice::<Value>(&line) {
                Ok(msg) => server.handle(&msg),
                Err(e) => Some(error(Value::Null, -32700, &format!("not JSON: {e}"))),
            },
        };
        if let Some(reply) = reply {
            let mut out = stdout.lock();
            serde_json::to_writer(&mut out, &reply)?;
            out.write_all(b"\n")?;
            out.flush()?;
        }
    }
}

/// The next line, at most [`MESSAGE_LIMIT`] bytes (a longer one is read past and refused);
/// `None` at the end of the input.
fn read_message(r: &mut impl BufRead) -> std::io::Result<Option<Result<Vec<u8>, String>>> {
    let mut line = Vec::new();
    let mut too_long = false;
    loop {
        let buf = r.fill_buf()?;
        if buf.is_empty() {
            return Ok((!line.is_empty() || too_long).then(|| ok_or_long(line, too_long)));
        }
        let (part, done) = match buf.iter().position(|b| *b == b'\n') {
            Some(i) => (&buf[..i], Some(i + 1)),
            None => (buf, None),
        };
        if line.len() + part.len() > MESSAGE_LIMIT {
            too_long = true;
            line.clear();
        } else if !too_long {
            line.extend_from_slice(part);
        }
        let used = done.unwrap_or(buf.len());
        r.consume(used);
        if done.is_some() {
            return Ok(Some(ok_or_long(line, too_long)));
        }
    }
}

fn ok_or_long(line: Vec<u8>, too_long: bool) -> Result<Vec<u8>, String> {
    match too_long {
        true => Err(format!("a message over {} MiB", MESSAGE_LIMIT >> 20)),
        false => Ok(line),
    }
}

fn error(id: Value, code: i64, message: &str) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "error": {"code": code, "message": message}})
}

fn answer(id: Value, result: Value) -> Value {
    json!({"jsonrpc": "2.0", "id": id, "result": result})
}

impl Server {
    /// The reply to one message; none to a notification or a client's response.
    fn handle(&self, msg: &Value) -> Option<Value> {
        let Some(obj) = msg.as_object() else {
            let why = match msg.is_array() {
                true => "batches are not supported",
                false => "a request is a JSON object",
            };
            return Some(error(Value::Null, -32600, why));
        };
        let id = obj.get("id").cloned();
        let Some(method) = obj.get("method").and_then(Value::as_str) else {
            // A response to a request of ours (we send none): nothing to say.
            return id
                .is_none()
                .then(|| error(Value::Null, -32600, "no method"));
        };
        let id = id?;
        let params = obj.get("params").cloned().unwrap_or(json!({}));
        Some(match method {
            "initialize" => answer(id, initialize(&params)),
            "ping" => answer(id, json!({})),
            "tools/list" => answer(
                id,
                json!({"tools": tools::TOOLS.iter().map(Tool::listing).collect::<Vec<_>>()}),
            ),
            "tools/call" => {
                let name = params.get("name").and_then(Value::as_str).unwrap_or("");
                let Some(tool) = tools::find(name) else {
                    return Some(error(id, -32602, &format!("no tool {name:?}")));
                };
                let empty = Map::new();
                let args = match params.get("arguments") {
                    None | Some(Value::Null) => &empty,
                    Some(Value::Object(a)) => a,
                    Some(_) => return Some(error(id, -32602, "arguments must be an object")),
                };
                answer(id, self.call(tool, args))
            }
            other => error(id, -32601, &format!("no method {other:?}")),
        })
    }

    /// A tool's result: its answer as JSON text and as structured content, or an error
    /// the model reads (`isError`).
    fn call(&self, tool: &Tool, args: &Map<String, Value>) -> Value {
        let structured = tools::check(tool, args).and_then(|()| self.run(tool, args));
        match structured {
            Ok(s) => json!({
                "content": [{"type": "text", "text": s.to_string()}],
                "structuredContent": s,
                "isError": false,
            }),
            Err(why) => json!({
                "content": [{"type": "text", "text": why}],
                "isError": true,
            }),
        }
    }

    fn run(&self, tool: &Tool, args: &Map<String, Value>) -> Result<Value, String> {
        let a = Args(args);
        let cmd = (tool.argv)(&a);
        let limit = a.int("limit").unwrap_or(tools::DEFAULT_LIMIT) as usize;
        let cursor = a.str("cursor");
        let (skip, from) = parse_cursor(tool, cursor.as_deref())?;
        let mut argv = vec![cmd.command.to_string()];
        argv.extend(self.open.iter().cloned());
        if tool.replays {
            argv.extend(self.replay.iter().cloned());
        }
        if tool.runs_jq {
            argv.extend(self.jq.iter().cloned());
        }
        argv.extend(cmd.options);
        if let Some(from) = from {
            argv.retain(|o| !o.starts_with("--from="));
            argv.push(format!("--from={from}"));
        }
        if tool.shape == Shape::Log {
            // One more than asked: whether there is a next page, and where it starts.
            argv.push(format!("--limit={}", limit + 1));
        }
        argv.push("--json".to_string());
        argv.push("--".to_string());
        argv.push(self.store.clone());
        argv.extend(cmd.positionals);
        let done = child::run(&argv, self.call_timeout)?;
        let notes: Vec<String> = done
            .stderr
            .lines()
            .map(|l| l.strip_prefix("eventscope: ").unwrap_or(l).to_string())
            .filter(|l| !l.is_empty())
            .take(20)
            .collect();
        let answered = done.code == Some(0) || (tool.one_is_answer && done.code == Some(1));
        if !answered {
            return Err(match notes.is_empty() {
                true => format!("{} ended with {:?}", tool.name, done.code),
                false => notes.join("\n"),
            });
        }
        let text = String::from_utf8_lossy(&done.stdout);
        let mut out = match tool.shape {
            Shape::One | Shape::Field(_) => {
                if done.cut || text.len() > 4 * ANSWER_LIMIT {
                    return Err(format!(
                        "{}: the answer is over 1 MiB; narrow it",
                        tool.name
                    ));
                }
                let v: Value = serde_json::from_str(text.trim())
                    .map_err(|e| format!("{}: the command's answer is not JSON: {e}", tool.name))?;
                match tool.shape {
                    Shape::Field(f) => json!({ f: v.get(f).cloned().unwrap_or(Value::Null) }),
                    _ => json!({ "result": v }),
                }
            }
            Shape::Lines | Shape::Log => page(tool, &text, done.cut, skip, limit)?,
        };
        if !notes.is_empty() {
            out["notes"] = json!(notes);
        }
        Ok(out)
    }
}

/// Where a page starts: lines to pass over, or (for the log) the position to read from.
fn parse_cursor(tool: &Tool, cursor: Option<&str>) -> Result<(usize, Option<i64>), String> {
    let Some(c) = cursor else {
        return Ok((0, None));
    };
    let bad = || format!("{}: {c:?} is no cursor this tool gave", tool.name);
    match (tool.shape, c.split_once(':')) {
        (Shape::Log, Some(("from", n))) => Ok((0, Some(n.parse().map_err(|_| bad())?))),
        (Shape::Lines, Some(("skip", n))) => Ok((n.parse().map_err(|_| bad())?, None)),
        _ => Err(bad()),
    }
}

/// A page of a command's JSON lines: at most `limit` items and [`ANSWER_LIMIT`] bytes,
/// with the cursor of the next page where there is more.
fn page(tool: &Tool, text: &str, cut: bool, skip: usize, limit: usize) -> Result<Value, String> {
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    // A cut answer's last line may be partial: it is never read.
    let whole = lines.len() - usize::from(cut && !lines.is_empty());
    let mut items: Vec<Value> = Vec::new();
    let mut bytes = 0;
    let mut next = None;
    for (n, line) in lines.iter().enumerate().skip(skip) {
        if items.len() == limit || (bytes + line.len() > ANSWER_LIMIT && !items.is_empty()) {
            // The log's next page starts after the last event handed out.
            next = Some(match (tool.shape, items.last()) {
                (Shape::Log, Some(last)) => {
                    format!("from:{}", last["global_position"].as_i64().unwrap_or(0) + 1)
                }
                _ => format!("skip:{n}"),
            });
            break;
        }
        if n >= whole {
            return Err(format!(
                "{}: the list is longer than {} MiB here; narrow it (a category, a stream)",
                tool.name,
                child::STDOUT_LIMIT >> 20
            ));
        }
        let item = serde_json::from_str(line)
            .map_err(|e| format!("{}: the command's answer is not JSON: {e}", tool.name))?;
        bytes += line.len();
        items.push(item);
    }
    Ok(json!({"items": items, "more": next}))
}

fn initialize(params: &Value) -> Value {
    let asked = params.get("protocolVersion").and_then(Value::as_str);
    let version = asked
        .filter(|v| VERSIONS.contains(v))
        .unwrap_or(VERSIONS[0]);
    json!({
        "protocolVersion": version,
        "capabilities": {"tools": {"listChanged": false}},
        "serverInfo": {"name": "eventscope", "version": env!("CARGO_PKG_VERSION")},
        "instructions": "Read-only tools over one event store: list streams, categories and events (filter with a jq `where`), replay a stream's state at a version or time, diff, blame, when, what-if, field history, related events, stats, event types, consumers and integrity checks. Answers are eventscope's --json output; lists are paged with `more`. Nothing can write to the store.",
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An answer cut at the output bound ends in a partial line: pages stop before it,
    /// and a page that would need it says to narrow the list instead of failing on JSON.
    #[test]
    fn a_cut_answer_pages_up_to_its_last_whole_line() {
        let streams = tools::find("list_streams").unwrap();
        let text = "{\"a\":1}\n{\"a\":2}\n{\"a\":";
        let first = page(streams, text, true, 0, 1).unwrap();
        assert_eq!(first, json!({"items": [{"a": 1}], "more": "skip:1"}));
        let second = page(streams, text, true, 1, 1).unwrap();
        assert_eq!(second, json!({"items": [{"a": 2}], "more": "skip:2"}));
        let err = page(streams, text, true, 2, 1).unwrap_err();
        assert!(err.contains("narrow it"), "{err}");
        let events = tools::find("list_events").unwrap();
        let text = "{\"global_position\":4}\n{\"global_position\":9}\n";
        let log = page(events, text, false, 0, 1).unwrap();
        assert_eq!(log["more"], "from:5");
    }
}
