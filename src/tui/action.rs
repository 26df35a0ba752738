//! Everything that can happen to the app: commands (bound to keys by the keymap), typed
//! text, mouse events and the worker's answers. `App::update` is the only place that
//! reacts to them.

use ratatui::crossterm::event::MouseEvent;
use ratatui::layout::Rect;
use serde::{Deserialize, Serialize};

use super::keymap::Key;
use super::worker::Msg;

/// What a key can run: the names keymap files use (`run = "step_forward"`,
/// `run = { tab = 2 }`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Command {
    Quit,
    Help,
    /// Close the overlay or prompt; clear the stream filter.
    Cancel,
    /// Accept what was typed.
    Submit,
    DeleteChar,
    FocusNext,
    FocusPrev,
    Up,
    Down,
    PageUp,
    PageDown,
    HalfPageUp,
    HalfPageDown,
    /// Top and bottom of the focused list.
    Top,
    Bottom,
    /// Open the selected stream or category, fold a JSON line, show an event.
    Open,
    /// Fold or unfold a category of the stream list, or a JSON line.
    Fold,
    /// Choose the category table's columns.
    PickColumns,
    /// Filter streams; in the inspector, search the JSON shown.
    Search,
    SearchNext,
    SearchPrev,
    SortStreams,
    StepBack,
    StepForward,
    JumpBack,
    JumpForward,
    /// ±10% of the stream.
    BackTenth,
    ForwardTenth,
    /// ±1 hour and ±1 day of event time.
    BackHour,
    ForwardHour,
    BackDay,
    ForwardDay,
    /// The playhead to the first or last event.
    First,
    Last,
    GoToVersion,
    GoToTime,
    MarkA,
    MarkB,
    ClearMarks,
    /// Show the inspector's nth tab (from 1).
    Tab(u8),
    ToggleFollow,
    ToggleTimeZone,
    ToggleSnapshots,
    ToggleMouse,
    /// The focused pane on the whole screen, and back.
    ToggleZoom,
    Refresh,
    /// The State tab's gutter: which version last changed each field.
    ToggleBlame,
    /// The playhead to the version that last changed the field under the cursor.
    BlameJump,
    /// Ask for a jq predicate on the state; the playhead goes where it first holds.
    When,
    WhenNext,
    WhenPrev,
    /// Leave the event under the playhead out (what-if), or put it back.
    ToggleSkip,
    ClearSkips,
    /// The correlation of the event under the playhead, as a tree (an overlay).
    Related,
    /// The message log: the last messages, whole.
    Messages,
    /// The Events pane lists only the search's matches, or every event again (less's `&`).
    OnlyMatches,
    /// Back to where the view was before the last jump (the jumplist, as vim's Ctrl-o).
    Back,
    /// Forward again along the jumplist, after Back.
    Forward,
    /// Where every consumer the store records stands (an overlay).
    Consumers,
    /// Every event type with its payload shapes over time (an overlay).
    Types,
    /// The open stream up to the playhead as a test fixture (export-test's), to a file.
    ExportTest,
    /// Compare the open stream's states with a second reducer (a file prompt).
    CompareWith,
    /// Plot the numeric field under the State tab's cursor across the stream's versions.
    Plot,
    /// Pin the field under the State tab's cursor (or unpin it): its changes are marked.
    Pin,
    /// Copy what the inspector shows, as JSON, to the clipboard (OSC 52).
    Copy,
    /// Write what the inspector shows, as JSON, to a file.
    Export,
}

impl Command {
    /// The name a keymap file uses, as help shows it.
    pub fn name(&self) -> String {
        match self {
            Command::Tab(n) => format!("tab {n}"),
            other => serde_json::to_value(other)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default(),
        }
    }
}

#[derive(Debug)]
pub enum Action {
    /// A key, turned into a command or text by the keymap layer in force.
    Key(Key),
    /// A mouse event on a screen of this size.
    Mouse(MouseEvent, Rect),
    Worker(Msg),
    /// Once a second: look for new events and reducer edits.
    Tick,
    /// The terminal was resized: draw again.
    Redraw,
}
