//! Progress bars on stderr: shown only on a terminal, for work long enough to be worth it, and
//! never with `--quiet`.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;

/// Pair evaluations below which a run takes well under a second and gets no bar.
const MIN_PAIRS: f64 = 5e7;

/// A bar over `len` units of work (`pairs` estimates the cost), hidden when it should not show.
pub fn bar(len: u64, pairs: f64, quiet: bool, what: &str) -> ProgressBar {
    if quiet || pairs < MIN_PAIRS || !std::io::stderr().is_terminal() {
        return ProgressBar::hidden();
    }
    let pb = ProgressBar::with_draw_target(Some(len), ProgressDrawTarget::stderr());
    pb.set_style(
        ProgressStyle::with_template("{msg} [{bar:40}] {pos}/{len} ({eta} left)")
            .expect("valid template")
            .progress_chars("=> "),
    );
    pb.set_message(what.to_string());
    pb
}

/// A spinner with the elapsed time for work that reports no progress (`pairs` estimates the
/// cost; hidden like [`bar`]), cleared from the terminal when dropped — errors included.
pub fn spinner(pairs: f64, quiet: bool, what: String) -> ClearOnDrop {
    let s = bar(1, pairs, quiet, "");
    if !s.is_hidden() {
        if let Ok(style) = ProgressStyle::with_template("{spinner} {msg} ({elapsed})") {
            s.set_style(style);
        }
        s.set_message(what);
        s.enable_steady_tick(std::time::Duration::from_millis(150));
    }
    ClearOnDrop(s)
}

/// A progress bar cleared from the terminal when dropped.
pub struct ClearOnDrop(pub ProgressBar);

impl Drop for ClearOnDrop {
    fn drop(&mut self) {
        self.0.finish_and_clear();
    }
}

/// A line on stderr (a closed stderr is not worth failing the command for).
pub fn note(msg: &str) {
    use std::io::Write as _;
    let _ = writeln!(std::io::stderr(), "{msg}");
}
