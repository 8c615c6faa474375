//! Progress on stderr while a run reads its lists and sends indicators: drawn only where stderr
//! is a terminal, so that cron mail, journald and log shippers never see it.
//!
//! The log lines go to the same stderr: [`Progress::log_writer`] clears the bars while a line
//! is written and draws them again after, so the two never garble each other.

use std::io::{self, IsTerminal, Write};
use std::time::Duration;

use indicatif::{MultiProgress, ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Where progress is drawn: on stderr, or nowhere. Cheap to clone.
#[derive(Debug, Clone, Default)]
pub struct Progress {
    bars: Option<MultiProgress>,
}

impl Progress {
    /// Progress that is never drawn (tests, the library use of the job).
    pub fn hidden() -> Progress {
        Progress { bars: None }
    }

    /// Progress on stderr where stderr is a terminal; hidden otherwise.
    pub fn on_stderr() -> Progress {
        Progress::on_stderr_if(io::stderr().is_terminal())
    }

    /// Progress on stderr where `terminal` says so.
    pub fn on_stderr_if(terminal: bool) -> Progress {
        let bars = terminal.then(|| MultiProgress::with_draw_target(ProgressDrawTarget::stderr()));
        Progress { bars }
    }

    /// Whether anything is drawn.
    pub fn is_drawn(&self) -> bool {
        self.bars.is_some()
    }

    /// A spinner saying `message` until the returned [`Bar`] is dropped.
    pub fn spinner(&self, message: &str) -> Bar {
        let Some(bars) = &self.bars else {
            return Bar(ProgressBar::hidden());
        };
        let style =
            ProgressStyle::with_template("{spinner} {msg} {elapsed}").expect("a valid template");
        let spinner = bars.add(ProgressBar::new_spinner().with_style(style));
        spinner.set_message(message.to_owned());
        spinner.enable_steady_tick(Duration::from_millis(120));
        Bar(spinner)
    }

    /// A bar of `total` indicators labelled `label`, advanced with [`Bar::advance`], cleared
    /// when dropped.
    pub fn bar(&self, label: &str, total: u64) -> Bar {
        let Some(bars) = &self.bars else {
            return Bar(ProgressBar::hidden());
        };
        let style =
            ProgressStyle::with_template("{prefix} [{bar:30}] {human_pos}/{human_len} ({eta})")
                .expect("a valid template")
                .progress_chars("=> ");
        let bar = ProgressBar::new(total)
            .with_style(style)
            .with_prefix(label.to_owned());
        Bar(bars.add(bar))
    }

    /// A writer for log lines on stderr that keeps the bars clear of them.
    pub fn log_writer(&self) -> LogWriter {
        LogWriter {
            bars: self.bars.clone(),
        }
    }
}

/// One bar or spinner; cleared from the terminal when dropped.
#[derive(Debug)]
pub struct Bar(ProgressBar);

impl Bar {
    /// Counts `done` more indicators as done.
    pub fn advance(&self, done: u64) {
        self.0.inc(done);
    }

    /// Whether the bar is drawn.
    pub fn is_drawn(&self) -> bool {
        !self.0.is_hidden()
    }
}

impl Drop for Bar {
    fn drop(&mut self) {
        self.0.finish_and_clear();
    }
}

/// Stderr for log lines, writing each one with the bars cleared.
#[derive(Debug)]
pub struct LogWriter {
    bars: Option<MultiProgress>,
}

impl Write for LogWriter {
    fn write(&mut self, bytes: &[u8]) -> io::Result<usize> {
        match &self.bars {
            Some(bars) => bars.suspend(|| io::stderr().write_all(bytes))?,
            None => io::stderr().write_all(bytes)?,
        }
        Ok(bytes.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        io::stderr().flush()
    }
}

impl<'a> tracing_subscriber::fmt::MakeWriter<'a> for Progress {
    type Writer = LogWriter;

    fn make_writer(&'a self) -> LogWriter {
        self.log_writer()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nothing_is_drawn_off_a_terminal() {
        let progress = Progress::on_stderr_if(false);
        assert!(!progress.is_drawn());
        let bar = progress.bar("detailed-iprepdata.txt upsert", 10);
        bar.advance(4);
        assert!(!bar.is_drawn());
        assert!(!progress.spinner("reading").is_drawn());
    }

    #[test]
    fn a_terminal_gets_bars() {
        let progress = Progress::on_stderr_if(true);
        assert!(progress.is_drawn());
        let bar = progress.bar("detailed-iprepdata.txt upsert", 10);
        bar.advance(10);
        assert_eq!(bar.0.position(), 10);
    }
}
