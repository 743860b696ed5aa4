//! The `autoscale-sim` command line: parses arguments, calls the library, maps errors to exit
//! codes (0 success, 1 failure, 2 bad input).

mod commands;
use autoscale_sim::error::{EXIT_BAD_INPUT, EXIT_FAILURE};
use clap::{Parser, Subcommand};

#[derive(Debug, Parser)]
#[command(
    name = "autoscale-sim",
    version,
    about = "Discrete-event simulator for elastic scaling policies of containerized services"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Simulate every policy of a scenario and write summary.csv, policies.csv, timeline.csv.
    Run(commands::run::RunArgs),
    /// Join the result folders of a sweep's shards (run --shard I/N) into one.
    Merge(commands::merge::MergeArgs),
    /// Write one policy's replica plan (plan.csv) from a simulation of the scenario.
    Plan(commands::plan::PlanArgs),
    /// Draw the plots and reports of a results folder again from its CSVs.
    Report(commands::report::ReportArgs),
    /// Check the simulator against queueing theory (Erlang C, Pollaczek-Khinchine).
    Validate(commands::validate::ValidateArgs),
    /// Work with recorded traces: inspect, convert, generate.
    Trace(commands::trace::TraceArgs),
    /// Serve HTTP requests like one modelled container (the workload of live mode).
    #[cfg(feature = "live")]
    Serve(commands::serve::ServeArgs),
    /// Apply a plan to real containers on Docker, or build their image (`live image`).
    #[cfg(feature = "live")]
    Live(commands::live::LiveArgs),
}

fn main() {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() { EXIT_BAD_INPUT } else { 0 };
            let _ = e.print();
            std::process::exit(code);
        }
    };
    // The commands that write files remove their temporary outputs on SIGINT/SIGTERM; live
    // mode and `serve` handle those signals themselves.
    #[cfg(feature = "live")]
    let handles_signals = matches!(cli.command, Command::Serve(_) | Command::Live(_));
    #[cfg(not(feature = "live"))]
    let handles_signals = false;
    if !handles_signals {
        autoscale_sim::output::cleanup::install_signal_handler();
    }
    let result = match &cli.command {
        Command::Run(args) => commands::run::run(args),
        Command::Trace(args) => commands::trace::run(args),
        Command::Validate(args) => commands::validate::run(args),
        Command::Report(args) => commands::report::run(args),
        Command::Plan(args) => commands::plan::run(args),
        Command::Merge(args) => commands::merge::run(args),
        #[cfg(feature = "live")]
        Command::Serve(args) => commands::serve::run(args),
        #[cfg(feature = "live")]
        Command::Live(args) => commands::live::run(args),
    };
    match result {
        Ok(code) => std::process::exit(code),
        Err(e) => {
            // Tamed once more: an error of any kind reaches the terminal without a control
            // character or a long quoted stretch of input.
            eprintln!("Error: {}", autoscale_sim::error::tame(&e.to_string()));
            std::process::exit(if e.exit_code() == EXIT_BAD_INPUT {
                EXIT_BAD_INPUT
            } else {
                EXIT_FAILURE
            });
        }
    }
}
