//! The streams pane: `$all`, then streams grouped by category (categories fold), sorted by
//! id, size or last activity; `/` filters fuzzily (`ac2` finds `Account-acc-2`).

use std::cell::Cell;
use std::collections::{BTreeMap, HashSet};

use nucleo_matcher::pattern::{CaseMatching, Normalization, Pattern};
use nucleo_matcher::{Config, Matcher, Utf32Str};
use ratatui::layout::Rect;
use ratatui::style::Modifier;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;
use ratatui::Frame;

use super::{Component, Move, Outcome};
use crate::tui::action::Command;
use crate::tui::model::{Catalog, Model};
use crate::tui::worker::Target;

/// A line of the streams pane.
#[derive(Debug, Clone, PartialEq)]
pub enum ListRow {
    All,
    /// The store's consumers (shown where it records any).
    Consumers,
    /// The event types and their shapes (the Types overlay).
    Types,
    Category {
        name: String,
        streams: usize,
        folded: bool,
    },
    /// Index into `Catalog::streams`.
    Stream(usize),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SortBy {
    #[default]
    Id,
    Size,
    Activity,
}

impl SortBy {
    fn next(self) -> SortBy {
        match self {
            SortBy::Id => SortBy::Size,
            SortBy::Size => SortBy::Activity,
            SortBy::Activity => SortBy::Id,
        }
    }

    fn label(self) -> &'static str {
        match self {
            SortBy::Id => "id",
            SortBy::Size => "size",
            SortBy::Activity => "last activity",
        }
    }
}

#[derive(Default)]
pub struct StreamList {
    pub filter: String,
    pub filtering: bool,
    pub rows: Vec<ListRow>,
    pub selected: usize,
    pub folded: HashSet<String>,
    pub sort: SortBy,
    /// Rows the pane showed when last drawn, for paging.
    page: Cell<usize>,
    /// The first row shown when last drawn, for clicks.
    offset: Cell<usize>,
}

impl StreamList {
    pub fn new() -> StreamList {
        StreamList {
            rows: vec![ListRow::All],
            page: Cell::new(10),
            ..StreamList::default()
        }
    }

    /// The row list again, from the catalog: the selection stays on the same row.
    pub fn rebuild(&mut self, catalog: &Catalog) {
        let keep = self
            .rows
            .get(self.selected)
            .map(|r| self.row_key(r, catalog));
        self.rows = if self.filter.is_empty() {
            self.grouped(catalog)
        } else {
            self.matches(catalog)
        };
        let same = keep.and_then(|k| self.rows.iter().position(|r| self.row_key(r, catalog) == k));
        self.selected = match same {
            Some(i) if !self.filtering => i,
            _ if self.filtering => 0,
            Some(i) => i,
            None => self
                .rows
                .iter()
                .position(|r| matches!(r, ListRow::Stream(_)))
                .unwrap_or(0),
        };
    }

    fn row_key(&self, row: &ListRow, catalog: &Catalog) -> String {
        match row {
            ListRow::All => "\0all".into(),
            ListRow::Consumers => "\0consumers".into(),
            ListRow::Types => "\0types".into(),
            ListRow::Category { name, .. } => format!("\0c{name}"),
            ListRow::Stream(i) => catalog
                .streams
                .get(*i)
                .map_or_else(String::new, |s| s.stream_id.clone()),
        }
    }

    /// `$all`, then each category once, whatever order streams arrived in.
    fn grouped(&self, catalog: &Catalog) -> Vec<ListRow> {
        let mut groups: BTreeMap<&str, Vec<usize>> = BTreeMap::new();
        for (i, s) in catalog.streams.iter().enumerate() {
            groups.entry(s.category.as_str()).or_default().push(i);
        }
        let key = |i: usize| -> (i64, &str) {
            let s = &catalog.streams[i];
            let rank = match self.sort {
                SortBy::Id => 0,
                SortBy::Size => -s.events,
                SortBy::Activity => -catalog
                    .activity
                    .get(&s.stream_id)
                    .map_or(0, |a| a.last_position),
            };
            (rank, s.stream_id.as_str())
        };
        let mut groups: Vec<(&str, Vec<usize>)> = groups
            .into_iter()
            .map(|(c, mut members)| {
                members.sort_by(|a, b| key(*a).cmp(&key(*b)));
                (c, members)
            })
            .collect();
        if self.sort != SortBy::Id {
            groups.sort_by_key(|(c, members)| (members.first().map(|m| key(*m).0), *c));
        }
        let mut list = vec![ListRow::All];
        if !catalog.consumers.is_empty() {
            list.push(ListRow::Consumers);
        }
        for (category, members) in groups {
            let folded = self.folded.contains(category);
            list.push(ListRow::Category {
                name: category.to_string(),
                streams: members.len(),
                folded,
            });
            if !folded {
                list.extend(members.into_iter().map(ListRow::Stream));
            }
        }
        // Last, out of the way of the streams.
        if !catalog.streams.is_empty() {
            list.push(ListRow::Types);
        }
        list
    }

    /// Streams matching the filter fuzzily, best first.
    fn matches(&self, catalog: &Catalog) -> Vec<ListRow> {
        let pattern = Pattern::parse(&self.filter, CaseMatching::Ignore, Normalization::Smart);
        let mut matcher = Matcher::new(Config::DEFAULT);
        let mut buf = Vec::new();
        let mut scored: Vec<(u32, usize)> = catalog
            .streams
            .iter()
            .enumerate()
            .filter_map(|(i, s)| {
                let score = pattern.score(Utf32Str::new(&s.stream_id, &mut buf), &mut matcher)?;
                Some((score, i))
            })
            .collect();
        scored.sort_by(|a, b| {
            b.0.cmp(&a.0).then_with(|| {
                catalog.streams[a.1]
                    .stream_id
                    .cmp(&catalog.streams[b.1].stream_id)
            })
        });
        let mut rows = Vec::new();
        if pattern
            .score(Utf32Str::new("$all", &mut buf), &mut matcher)
            .is_some()
        {
            rows.push(ListRow::All);
        }
        rows.extend(scored.into_iter().map(|(_, i)| ListRow::Stream(i)));
        rows
    }

    pub fn type_char(&mut self, c: char, catalog: &Catalog) {
        self.filter.push(c);
        self.rebuild(catalog);
    }

    pub fn delete_char(&mut self, catalog: &Catalog) {
        self.filter.pop();
        self.rebuild(catalog);
    }

    pub fn start_filter(&mut self) {
        self.filtering = true;
    }

    /// Esc: the filter goes, the selection stays on its stream.
    pub fn clear_filter(&mut self, catalog: &Catalog) -> bool {
        let had = self.filtering || !self.filter.is_empty();
        self.filtering = false;
        self.filter.clear();
        self.rebuild(catalog);
        had
    }

    /// Enter in the filter: keeps the filter and opens the selected stream.
    pub fn accept_filter(&mut self, model: &mut Model) -> Outcome {
        self.filtering = false;
        self.open_selected(model)
    }

    fn open_selected(&mut self, model: &mut Model) -> Outcome {
        match self.rows.get(self.selected).cloned() {
            Some(ListRow::All) => Outcome::Open(Target::All),
            Some(ListRow::Consumers) => Outcome::ShowConsumers,
            Some(ListRow::Types) => Outcome::ShowTypes,
            Some(ListRow::Stream(i)) => match model.catalog.streams.get(i) {
                Some(s) => Outcome::Open(Target::Stream(s.stream_id.clone())),
                None => Outcome::Done,
            },
            Some(ListRow::Category { name, .. }) => Outcome::Open(Target::Category(name)),
            None => Outcome::Done,
        }
    }

    /// Folds or unfolds the category of the selected row.
    fn fold_selected(&mut self, catalog: &Catalog) {
        let name = match self.rows.get(self.selected) {
            Some(ListRow::Category { name, .. }) => name.clone(),
            Some(ListRow::Stream(i)) => match catalog.streams.get(*i) {
                Some(s) => s.category.clone(),
                None => return,
            },
            _ => return,
        };
        if !self.folded.remove(&name) {
            self.folded.insert(name.clone());
        }
        self.rebuild(catalog);
        // The selection stays on the category's row.
        if let Some(i) = self
            .rows
            .iter()
            .position(|r| matches!(r, ListRow::Category { name: n, .. } if *n == name))
        {
            self.selected = i;
        }
    }

    pub fn page(&self) -> usize {
        self.page.get().max(1)
    }
}

impl Component for StreamList {
    fn on_command(&mut self, command: Command, model: &mut Model) -> Outcome {
        if let Some(m) = Move::of(command, self.page()) {
            self.selected = m.apply(self.selected, self.rows.len());
            return Outcome::Done;
        }
        match command {
            Command::Open => return self.open_selected(model),
            Command::Fold => self.fold_selected(&model.catalog),
            Command::SortStreams => {
                self.sort = self.sort.next();
                self.rebuild(&model.catalog);
                model.say(format!("streams sorted by {}", self.sort.label()));
            }
            _ => return Outcome::Ignored,
        }
        Outcome::Done
    }

    fn on_click(&mut self, _x: u16, y: u16, area: Rect, model: &mut Model) -> Outcome {
        let top = area.y + 1;
        if y < top || y >= area.y + area.height.saturating_sub(1) {
            return Outcome::Ignored;
        }
        let row = self.offset.get() + (y - top) as usize;
        if row >= self.rows.len() {
            return Outcome::Done;
        }
        // A click selects; a click on the selected row opens it (or folds a category).
        if row == self.selected {
            return self.open_selected(model);
        }
        self.selected = row;
        Outcome::Done
    }

    fn draw(&self, frame: &mut Frame, area: Rect, model: &Model, focused: bool) {
        let t = &model.theme;
        let store = short_store_name(&model.store_name);
        let mut title = vec![Span::raw(" Streams ")];
        if !self.filtering && self.filter.is_empty() {
            title.push(Span::styled(
                format!("{} ", eventscope::printable(&store)),
                t.fg(t.muted),
            ));
        } else {
            let cursor = if self.filtering { "▏" } else { "" };
            title.push(Span::styled(
                format!("/{}{cursor} ", eventscope::printable(&self.filter)),
                t.fg(t.warnings),
            ));
        }
        if self.sort != SortBy::Id {
            title.push(Span::styled(
                format!("↓{} ", self.sort.label()),
                t.fg(t.muted),
            ));
        }
        let block = super::pane_block(model, focused, Line::from(title));
        let inner = block.inner(area);
        frame.render_widget(block, area);
        let height = inner.height as usize;
        self.page.set(height);
        if !model.catalog.loaded {
            frame.render_widget(Paragraph::new("loading streams…"), inner);
            return;
        }
        let offset = (self.selected + 1).saturating_sub(height);
        self.offset.set(offset);
        let width = inner.width as usize;
        let catalog = &model.catalog;
        let tree = self.filter.is_empty();
        let lines: Vec<Line> = self
            .rows
            .iter()
            .enumerate()
            .skip(offset)
            .take(height)
            .map(|(i, row)| {
                let (label, count, time, style) = match row {
                    ListRow::All => (
                        "$all".to_string(),
                        catalog.last_position,
                        None,
                        t.bold(t.title),
                    ),
                    ListRow::Types => ("event types".to_string(), 0, None, t.bold(t.title)),
                    // The consumers, with how many are behind.
                    ListRow::Consumers => {
                        let behind = catalog.consumers.iter().filter(|c| c.is_behind()).count();
                        let stuck = catalog.consumers.iter().any(|c| c.is_stuck());
                        let style = match (stuck, behind) {
                            (true, _) => t.bold(t.errors),
                            (false, 0) => t.bold(t.title),
                            _ => t.bold(t.warnings),
                        };
                        (
                            format!("consumers ({} behind)", behind),
                            catalog.consumers.len() as i64,
                            None,
                            style,
                        )
                    }
                    ListRow::Category {
                        name,
                        streams,
                        folded,
                    } => (
                        format!(
                            "{} {}",
                            if *folded { "▸" } else { "▾" },
                            eventscope::printable(name)
                        ),
                        *streams as i64,
                        None,
                        t.bold(t.category),
                    ),
                    ListRow::Stream(s) => {
                        let info = &catalog.streams[*s];
                        // Under its category's row, the category's prefix says nothing.
                        let shown = match info.stream_id.strip_prefix(info.category.as_str()) {
                            Some(rest) if tree && rest.len() > 1 && rest.starts_with('-') => {
                                &rest[1..]
                            }
                            _ => info.stream_id.as_str(),
                        };
                        let id = eventscope::printable(shown);
                        let time = catalog
                            .activity
                            .get(&info.stream_id)
                            .and_then(|a| a.last_time.as_deref())
                            .map(|tm| eventscope::time::display(tm, model.local_time));
                        // A stream with rows whose version is no integer is marked; the
                        // rest of the store stays browsable.
                        if info.bad_versions > 0 {
                            (format!("⚠ {id}"), info.events, time, t.fg(t.errors))
                        } else {
                            (
                                format!("  {id}"),
                                info.events,
                                time,
                                ratatui::style::Style::new(),
                            )
                        }
                    }
                };
                // A count a streams table recorded rather than one counted.
                let count = match row {
                    ListRow::Stream(s) if catalog.streams[*s].events_estimated => {
                        format!("≈{count}")
                    }
                    ListRow::Types => String::new(),
                    _ => count.to_string(),
                };
                // The time goes first when room is short: the minutes, then nothing.
                let time = time.map(|tm| {
                    let short: String = tm.chars().skip(5).take(11).collect();
                    let room = width.saturating_sub(
                        eventscope::columns(&label).min(24) + count.chars().count() + 2,
                    );
                    if room >= 16 {
                        tm.chars().take(16).collect::<String>()
                    } else if room >= 11 {
                        short
                    } else {
                        String::new()
                    }
                });
                let tail = match &time {
                    Some(tm) if !tm.is_empty() => format!("{count} {tm}"),
                    _ => count,
                };
                let room = width.saturating_sub(eventscope::columns(&tail) + 1);
                let label = match row {
                    ListRow::Stream(_) => eventscope::fit_middle(&label, room),
                    _ => eventscope::fit(&label, room),
                };
                let pad =
                    width.saturating_sub(eventscope::columns(&label) + eventscope::columns(&tail));
                let text = format!("{label}{}{tail}", " ".repeat(pad));
                let style = if i == self.selected {
                    style.add_modifier(Modifier::REVERSED)
                } else {
                    style
                };
                Line::styled(text, style)
            })
            .collect();
        if lines.is_empty() {
            frame.render_widget(Paragraph::new("no matching streams"), inner);
        } else {
            frame.render_widget(Paragraph::new(lines), inner);
        }
    }
}

/// A file's name, or a URL's host and database (`127.0.0.1:5432/bank`), for a narrow title.
fn short_store_name(name: &str) -> String {
    if let Some((_, rest)) = name.split_once("://") {
        let rest = rest.split('?').next().unwrap_or(rest);
        return rest
            .rsplit_once('@')
            .map_or(rest, |(_, host)| host)
            .to_string();
    }
    std::path::Path::new(name)
        .file_name()
        .map_or(name.to_string(), |n| n.to_string_lossy().into_owned())
}
