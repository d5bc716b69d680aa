//! Progress on a terminal while the generator runs: a bar on stderr when stderr is a
//! terminal, nothing at all otherwise (so logs and CI output stay quiet).

use std::io::IsTerminal;

use indicatif::{ProgressBar, ProgressStyle};

/// A progress bar that draws only on a terminal.
pub struct Progress(ProgressBar);

impl Progress {
    pub fn new(total: u64, what: &'static str) -> Self {
        let bar = if std::io::stderr().is_terminal() {
            ProgressBar::new(total)
        } else {
            ProgressBar::hidden()
        };
        if let Ok(style) =
            ProgressStyle::with_template("{msg:>12} [{bar:40}] {pos}/{len} ({elapsed})")
        {
            bar.set_style(style.progress_chars("=> "));
        }
        bar.set_message(what);
        Self(bar)
    }

    pub fn advance(&self, by: u64) {
        self.0.inc(by);
    }

    pub fn finish(&self) {
        self.0.finish_and_clear();
    }
}
