//! Writing results: buffered stdout, colour only for a terminal without NO_COLOR, tables
//! for people and JSON lines for programs.

use std::io::{BufWriter, IsTerminal, StdoutLock, Write};

use serde::Serialize;

pub struct Out {
    w: BufWriter<StdoutLock<'static>>,
    pub color: bool,
}

pub enum Paint {
    Green,
    Red,
    Yellow,
    Dim,
    Bold,
}

impl Out {
    pub fn stdout() -> Out {
        let color = std::io::stdout().is_terminal()
            && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
        Out {
            w: BufWriter::new(std::io::stdout().lock()),
            color,
        }
    }

    /// Writes a line, its control characters escaped (see [`eventscope::printable`]); only
    /// the colours this module paints survive as escape sequences.
    /// Several lines may be written at once (pretty JSON); each is escaped on its own.
    pub fn line(&mut self, text: &str) -> std::io::Result<()> {
        for part in text.split('\n') {
            writeln!(self.w, "{}", escape_keeping_paint(part, self.color))?;
        }
        Ok(())
    }

    pub fn json_line(&mut self, value: &impl Serialize) -> std::io::Result<()> {
        serde_json::to_writer(&mut self.w, value)?;
        writeln!(self.w)
    }

    pub fn paint(&self, paint: Paint, text: &str) -> String {
        if !self.color {
            return text.to_string();
        }
        let code = match paint {
            Paint::Green => "32",
            Paint::Red => "31",
            Paint::Yellow => "33",
            Paint::Dim => "2",
            Paint::Bold => "1",
        };
        format!("\x1b[{code}m{text}\x1b[0m")
    }

    pub fn flush(&mut self) -> std::io::Result<()> {
        self.w.flush()
    }
}

const PAINT_CODES: [&str; 6] = [
    "\x1b[0m", "\x1b[1m", "\x1b[2m", "\x1b[31m", "\x1b[32m", "\x1b[33m",
];

fn escape_keeping_paint(text: &str, color: bool) -> String {
    if !color {
        return eventscope::printable(text).into_owned();
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('\x1b') {
        out.push_str(&eventscope::printable(&rest[..at]));
        let tail = &rest[at..];
        match PAINT_CODES.iter().find(|p| tail.starts_with(*p)) {
            Some(p) => {
                out.push_str(p);
                rest = &tail[p.len()..];
            }
            None => {
                out.push_str("\\x1b");
                rest = &tail[1..];
            }
        }
    }
    out.push_str(&eventscope::printable(rest));
    out
}

/// A line for stderr, its control characters escaped.
pub fn warn(text: &str) {
    eprintln!("eventscope: {}", eventscope::printable(text));
}

/// Left-aligned columns sized to their widest cell; the last column is not padded.
pub fn table(header: &[&str], rows: &[Vec<String>]) -> Vec<String> {
    // Cells are escaped first, so that widths count what is shown.
    let rows: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            r.iter()
                .map(|c| eventscope::printable(c).into_owned())
                .collect()
        })
        .collect();
    let rows = &rows;
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let header: Vec<String> = header.iter().map(|h| h.to_string()).collect();
    std::iter::once(&header)
        .chain(rows)
        .map(|row| {
            let mut line = String::new();
            for (i, cell) in row.iter().enumerate() {
                if i + 1 == row.len() {
                    line.push_str(cell);
                } else {
                    line.push_str(&format!("{cell:<w$}  ", w = widths[i]));
                }
            }
            line
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn table_aligns_columns() {
        let lines = table(
            &["A", "BB"],
            &[
                vec!["long".into(), "x".into()],
                vec!["s".into(), "y".into()],
            ],
        );
        assert_eq!(lines, vec!["A     BB", "long  x", "s     y"]);
    }
}
