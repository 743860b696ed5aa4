//! `autoscale-sim validate`: simulated against analytic mean wait and P(wait).

use autoscale_sim::error::Error;
use autoscale_sim::validate;

/// Arguments of `autoscale-sim validate`.
#[derive(Debug, clap::Args)]
pub struct ValidateArgs {
    /// Replications per case (at least 2).
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u32).range(2..))]
    pub replications: u32,
    /// Worker threads [default: one per core].
    #[arg(long, value_parser = clap::value_parser!(u16).range(1..))]
    pub threads: Option<u16>,
    /// Lifts the limit on replications (see docs/limits.md).
    #[arg(long)]
    pub allow_large: bool,
}

/// The most replications `validate` runs per case without `--allow-large`: each case's runs
/// are kept, and about a thousand of them take a minute.
pub const MAX_REPLICATIONS: u32 = 10_000;

/// Runs every case; exit status 1 if any is off.
pub fn run(args: &ValidateArgs) -> Result<i32, Error> {
    if args.replications > MAX_REPLICATIONS && !args.allow_large {
        return Err(autoscale_sim::error::InputError::new(format!(
            "the number of replications per case is {}, above the limit of {MAX_REPLICATIONS}; if that is intended, run with --allow-large (see docs/limits.md)",
            args.replications
        ))
        .key("--replications")
        .into());
    }
    let mut results = Vec::new();
    for case in validate::cases() {
        results.push(validate::run_case(
            &case,
            args.replications,
            args.threads.map(usize::from),
        )?);
    }
    super::print(&validate::table(&results))?;
    let off = results.iter().filter(|r| !r.passed()).count();
    outln!(
        "{} of {} cases agree with theory (99.9% confidence intervals over {} replications)",
        results.len() - off,
        results.len(),
        args.replications
    );
    Ok(if off == 0 { 0 } else { 1 })
}
