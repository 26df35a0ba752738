//! Everything that can happen to the app: key-bound commands, text input, mouse seeks and
//! the worker's answers. `App::update` is the only place that reacts to them.

use super::worker::Msg;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Command {
    Quit,
    FocusNext,
    FocusPrev,
    Up,
    Down,
    PageUp,
    PageDown,
    /// Open the selected stream; in the State pane, fold or unfold the line.
    Open,
    StepBack,
    StepForward,
    JumpBack,
    JumpForward,
    First,
    Last,
    GoToVersion,
    GoToTime,
    MarkA,
    MarkB,
    ClearMarks,
    TabState,
    TabEvent,
    TabDiff,
    ToggleFollow,
    ToggleTimeZone,
    ToggleSnapshots,
    Refresh,
    Filter,
    Help,
    Cancel,
}

#[derive(Debug)]
pub enum Action {
    Command(Command),
    /// A character typed into the filter or a prompt.
    Input(char),
    Backspace,
    Submit,
    /// Move the playhead to this fraction (0.0–1.0) of the timeline: a click or drag.
    SeekFraction(f64),
    Worker(Msg),
}
