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
