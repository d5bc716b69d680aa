//! Progress of long operator commands (`tandem migrate`, `tandem jobs run-once`, `tandem demo`):
//! a bar on stderr for a person at a terminal, nothing drawn into logs or pipes, where
//! callers write plain log lines instead (see [`Progress::step`]).

use std::borrow::Cow;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// A bar of `len` steps (`0` when the total is unknown: a spinner counting steps),
/// drawn only when stderr is a terminal; elsewhere hidden, so that logs stay plain.
pub fn bar(len: u64, message: impl Into<Cow<'static, str>>) -> Progress {
    let terminal = std::io::IsTerminal::is_terminal(&std::io::stderr());
    let target = if terminal {
        ProgressDrawTarget::stderr()
    } else {
        ProgressDrawTarget::hidden()
    };
    let bar = if len == 0 {
        let bar = ProgressBar::with_draw_target(None, target);
        bar.set_style(
            ProgressStyle::with_template("{spinner} {msg} {human_pos} [{elapsed}]")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        bar
    } else {
        let bar = ProgressBar::with_draw_target(Some(len), target);
        bar.set_style(
            ProgressStyle::with_template("{msg} [{bar:30}] {pos}/{len} [{elapsed}]")
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
        );
        bar
    };
    bar.set_message(message);
    Progress { bar }
}

/// A progress bar, or plain log lines when nobody watches a terminal.
pub struct Progress {
    bar: ProgressBar,
}

impl Progress {
    /// Whether the bar is drawn (stderr is a terminal).
    pub fn is_drawn(&self) -> bool {
        !self.bar.is_hidden()
    }

    /// One step done: the bar moves by `delta` and shows `detail`; without a terminal,
    /// `detail` becomes an info log line instead.
    pub fn step(&self, delta: u64, detail: &str) {
        if self.is_drawn() {
            self.bar.inc(delta);
            self.bar.set_message(detail.to_owned());
        } else {
            tracing::info!("{detail}");
        }
    }

    /// Moves the bar by `delta` without a log line: for many small steps whose total
    /// the caller reports once (the benchmark data generator).
    pub fn advance(&self, delta: u64) {
        self.bar.inc(delta);
    }

    /// The work is over: the bar is cleared (the caller logs or prints the summary).
    pub fn finish(self) {
        self.bar.finish_and_clear();
    }
}
