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

    pub fn line(&mut self, text: &str) -> std::io::Result<()> {
        writeln!(self.w, "{text}")
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

/// Left-aligned columns sized to their widest cell; the last column is not padded.
pub fn table(header: &[&str], rows: &[Vec<String>]) -> Vec<String> {
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
