//! A progress bar on stderr for long replays (events done, rate, time left), drawn only
//! when stderr is a terminal: nothing is written when it is piped or redirected.

use std::io::IsTerminal;

use eventscope::replay::SeekProgress;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// An observer for `Replayer::with_progress`. The bar appears once a seek has folded
/// `PROGRESS_EVERY` events (short replays never show one) and is cleared when it ends.
pub fn replay_bar() -> impl FnMut(SeekProgress) {
    let shown = shown();
    let mut bar: Option<ProgressBar> = None;
    move |p| match p {
        SeekProgress::Reached {
            stream,
            version,
            target,
        } if shown => {
            let b = bar.get_or_insert_with(|| {
                let b = ProgressBar::with_draw_target(
                    Some(target.max(0) as u64),
                    ProgressDrawTarget::stderr(),
                );
                let style = style("replaying {msg} {wide_bar} {pos}/{len} · {rate} · {eta} left");
                b.set_style(style);
                b.set_message(eventscope::printable(stream).into_owned());
                b.reset_eta();
                b
            });
            b.set_position(version.max(0) as u64);
        }
        SeekProgress::Done => {
            if let Some(b) = bar.take() {
                b.finish_and_clear();
            }
        }
        _ => {}
    }
}

/// Whether bars are drawn: only on a terminal.
pub fn shown() -> bool {
    std::io::stderr().is_terminal()
}

/// A bar for a pass over `total` events (a spinner with the count where the total is not
/// known), drawn only when stderr is a terminal; `None` otherwise.
pub fn count_bar(label: &str, total: Option<u64>) -> Option<ProgressBar> {
    if !shown() {
        return None;
    }
    let (bar, template) = match total {
        Some(n) => (
            ProgressBar::with_draw_target(Some(n), ProgressDrawTarget::stderr()),
            "{msg} {wide_bar} {pos}/{len} · {rate} · {eta} left",
        ),
        None => (
            ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr()),
            "{spinner} {msg} {pos} · {rate}",
        ),
    };
    bar.set_style(style(template));
    bar.set_message(label.to_string());
    Some(bar)
}

/// A bar's style from `template`, whose `{rate}` is whole events per second.
fn style(template: &str) -> ProgressStyle {
    ProgressStyle::with_template(template)
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .with_key(
            "rate",
            |s: &indicatif::ProgressState, w: &mut dyn std::fmt::Write| {
                let _ = write!(w, "{:.0} events/s", s.per_sec());
            },
        )
}
