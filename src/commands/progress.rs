//! The progress bar of `run`: the experiment's [`Progress`] reports drawn on standard error,
//! when it is a terminal and the runs take over a second.

use autoscale_sim::experiment::Progress;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long the runs go before a bar appears (short experiments draw nothing).
const DELAY: Duration = Duration::from_secs(1);

/// Turns progress reports into a bar of simulated time; silent when standard error is not a
/// terminal.
pub struct Bar {
    terminal: bool,
    state: Mutex<State>,
}

/// When the runs started (the first [`Progress::Simulating`]), and the bar once drawn.
#[derive(Default)]
struct State {
    since: Option<Instant>,
    bar: Option<ProgressBar>,
}

impl Bar {
    pub fn new() -> Self {
        Bar {
            terminal: std::io::stderr().is_terminal(),
            state: Mutex::new(State::default()),
        }
    }

    /// Shows one report.
    pub fn update(&self, progress: Progress) {
        if !self.terminal {
            return;
        }
        let mut state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        match progress {
            Progress::Calibrating { tables } => eprintln!(
                "measuring {tables} calibration table(s) of the planners' model on the simulator (cached for later runs)"
            ),
            Progress::Simulating {
                simulated_s,
                total_s,
                runs,
            } => {
                let since = *state.since.get_or_insert_with(Instant::now);
                if state.bar.is_none() && since.elapsed() >= DELAY {
                    state.bar = Some(new_bar(total_s, runs));
                }
                if let Some(b) = state.bar.as_ref() {
                    b.set_position(simulated_s);
                }
            }
            Progress::Finished => {
                if let Some(b) = state.bar.take() {
                    b.finish_and_clear();
                }
            }
        }
    }
}

fn new_bar(total_s: u64, runs: usize) -> ProgressBar {
    let bar = ProgressBar::with_draw_target(Some(total_s), ProgressDrawTarget::stderr());
    bar.set_style(
        ProgressStyle::with_template(
            "{bar:40} {pos}/{len} simulated s ({percent}%), {msg}, {elapsed} elapsed, about {eta} left",
        )
        .expect("a valid template"),
    );
    bar.set_message(format!("{runs} runs"));
    bar
}
