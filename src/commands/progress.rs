//! What an apply shows while it runs. On a terminal (stderr), one progress bar: changes
//! done of total, the change that just finished, the rate, and the time left from the
//! pacer's estimate. Anywhere else (CI logs, pipes), or with `--no-color`/`NO_COLOR`, one
//! plain line per finished change, which reads well in a log; `--quiet` shows neither.

use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressState, ProgressStyle};

use super::Printer;
use crate::model::duration;
use crate::plan::Change;

pub(crate) struct Progress<'a> {
    bar: Option<ProgressBar>,
    printer: &'a Printer,
}

impl<'a> Progress<'a> {
    /// `estimate` is the pacer's estimate of the whole apply, in seconds, if any call is
    /// paced.
    pub fn new(total: usize, estimate: Option<f64>, printer: &'a Printer) -> Self {
        // The bar is drawn with escape sequences: only where colour is allowed and stderr
        // is a terminal (`color_err`), and not under `--quiet`.
        let bar = (printer.color_err && !printer.quiet).then(|| bar(total, estimate));
        Self { bar, printer }
    }

    pub fn finished(&mut self, change: &Change, failed: bool) {
        let verb = if failed {
            "failed"
        } else {
            change.action.past_tense()
        };
        let Some(bar) = &self.bar else {
            self.printer.info(&format!("{}: {verb}\n", change.resource));
            return;
        };
        if failed {
            // Above the bar, so that it stays on screen.
            bar.println(format!("{}: failed", change.resource));
        }
        bar.set_message(format!("{verb} {}", change.resource));
        bar.inc(1);
    }

    pub fn done(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

/// While live state is read: a spinner with the AWS calls made so far, on a terminal
/// only (as the apply bar). Reads have no total known in advance (pages, batches), so
/// the count of calls is the measure of progress. Clear it with
/// [`ProgressBar::finish_and_clear`].
pub(crate) fn reading(printer: &Printer, counter: &crate::aws::CallCounter) -> Option<ProgressBar> {
    // With -v and -vv, the logs written during the read are the progress.
    if !printer.color_err || printer.quiet || printer.verbose > 0 {
        return None;
    }
    let counter = counter.clone();
    let style = ProgressStyle::with_template(
        "{spinner:.green} reading live state: {calls} AWS calls, {elapsed}",
    )
    .unwrap_or_else(|_| ProgressStyle::default_spinner())
    .with_key(
        "calls",
        move |_: &ProgressState, out: &mut dyn std::fmt::Write| {
            let _ = write!(out, "{}", counter.total());
        },
    );
    let spinner =
        ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr()).with_style(style);
    spinner.enable_steady_tick(Duration::from_millis(120));
    Some(spinner)
}

fn bar(total: usize, estimate: Option<f64>) -> ProgressBar {
    let style = ProgressStyle::with_template(
        "{spinner:.green} [{bar:30.cyan/blue}] {pos}/{len} changes, {rate}, about {left} left  {wide_msg}",
    )
    .unwrap_or_else(|_| ProgressStyle::default_bar())
    .progress_chars("#>-")
    .with_key("rate", |state: &ProgressState, out: &mut dyn std::fmt::Write| {
        let _ = write!(out, "{:.1}/s", rate(state.pos(), state.elapsed()));
    })
    .with_key(
        "left",
        move |state: &ProgressState, out: &mut dyn std::fmt::Write| {
            let left = seconds_left(
                estimate,
                state.elapsed().as_secs_f64(),
                state.pos(),
                state.len().unwrap_or(0),
            );
            let _ = out.write_str(&duration::clock(left));
        },
    );
    let bar = ProgressBar::with_draw_target(Some(total as u64), ProgressDrawTarget::stderr())
        .with_style(style);
    // Paced calls can keep the count still for seconds: the clock keeps moving.
    bar.enable_steady_tick(Duration::from_millis(200));
    bar
}

/// Changes finished per second so far.
fn rate(done: u64, elapsed: Duration) -> f64 {
    let seconds = elapsed.as_secs_f64();
    #[allow(clippy::cast_precision_loss)] // counts are far below 2^52
    if seconds > 0.0 {
        done as f64 / seconds
    } else {
        0.0
    }
}

/// Seconds the apply still takes: what is left of the pacer's estimate (paced calls
/// cannot go faster), or what the rate so far says when that is longer (unpaced calls,
/// a slow network, throttling). Nothing once everything is done.
pub(crate) fn seconds_left(estimate: Option<f64>, elapsed: f64, done: u64, total: u64) -> f64 {
    if done >= total {
        return 0.0;
    }
    let paced = estimate.map_or(0.0, |estimate| (estimate - elapsed).max(0.0));
    #[allow(clippy::cast_precision_loss)] // counts are far below 2^52
    let observed = if done > 0 {
        elapsed / done as f64 * (total - done) as f64
    } else {
        0.0
    };
    paced.max(observed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn time_left_follows_the_pacer_then_the_observed_rate() {
        // Before anything finished, the pacer's estimate is all there is.
        assert!((seconds_left(Some(100.0), 0.0, 0, 300) - 100.0).abs() < 1e-9);
        // It counts down as time passes ...
        assert!((seconds_left(Some(100.0), 40.0, 120, 300) - 60.0).abs() < 1e-9);
        // ... unless the changes finish slower than paced: 10 of 300 in 40 s.
        assert!((seconds_left(Some(100.0), 40.0, 10, 300) - 1160.0).abs() < 1e-9);
        // Past the estimate, the observed rate alone.
        assert!((seconds_left(Some(10.0), 20.0, 200, 300) - 10.0).abs() < 1e-9);
        // Without a paced call, only the rate.
        assert!((seconds_left(None, 5.0, 5, 10) - 5.0).abs() < 1e-9);
        assert!(seconds_left(None, 0.0, 0, 10).abs() < 1e-9);
        assert!(seconds_left(Some(100.0), 1.0, 10, 10).abs() < 1e-9, "done");
    }

    #[test]
    fn the_rate_is_changes_per_second() {
        assert!((rate(30, Duration::from_secs(10)) - 3.0).abs() < 1e-9);
        assert!(rate(5, Duration::ZERO).abs() < 1e-9);
    }
}
