//! `plan.csv`: how many containers should be ready from each time on.
//!
//! The file is `time_s,replicas` with a header row, one row per control interval, as `plan`
//! and `run` write it. Times are seconds from the start of the plan (numbers ≥ 0, strictly
//! increasing, the first one 0); replicas are whole numbers ≥ 0. Every error names the file,
//! the line and column, the column name, and what was expected. A plan lasts until its end:
//! the scenario's duration when a scenario is given, else `--duration`, else one more interval
//! after the last row (the spacing of the last two rows).

use crate::error::{Error, InputError};
use crate::time::{NANOS_PER_SEC, SimDuration, SimTime};
use std::path::{Path, PathBuf};

/// The header of a plan file.
pub const HEADER: [&str; 2] = ["time_s", "replicas"];

/// One row: from `time` on, `replicas` containers ready.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PlanStep {
    pub time: SimTime,
    pub replicas: u32,
}

/// A validated plan.
#[derive(Clone, Debug, PartialEq)]
pub struct Plan {
    /// The file it came from.
    pub path: PathBuf,
    /// At least one step, the first at time 0, times strictly increasing.
    pub steps: Vec<PlanStep>,
    /// When the plan ends (after the last step's time).
    pub end: SimTime,
}

impl Plan {
    /// Replicas the plan asks for at plan time `t` (the last step at or before `t`; after the
    /// end, the last step's).
    pub fn replicas_at(&self, t: SimTime) -> u32 {
        let i = self.steps.partition_point(|s| s.time <= t);
        self.steps[i.saturating_sub(1)].replicas
    }

    /// The most replicas any step asks for.
    pub fn max_replicas(&self) -> u32 {
        self.steps.iter().map(|s| s.replicas).max().unwrap_or(0)
    }

    /// The steps that start before the end, each with its own end.
    pub fn spans(&self) -> impl Iterator<Item = (PlanStep, SimTime)> + '_ {
        self.steps
            .iter()
            .enumerate()
            .filter(|(_, s)| s.time < self.end)
            .map(|(i, s)| {
                let next = self.steps.get(i + 1).map_or(self.end, |n| n.time);
                (*s, next.min(self.end))
            })
    }
}

/// Reads and validates a plan file. `end` overrides where the plan ends (a scenario's
/// duration, or `--duration`).
pub fn load(path: &Path, end: Option<SimDuration>) -> Result<Plan, Error> {
    let bytes = crate::sniff::read_file(path, crate::sniff::TEXT_CAP).map_err(|e| {
        InputError::new(format!("cannot read the plan file: {e}"))
            .in_file(path)
            .key("--plan")
    })?;
    let text = crate::sniff::text(path, bytes, "a CSV plan")?;
    Ok(parse(path, &text, end)?)
}

/// Validates plan `text`, attributing errors to `path`.
pub fn parse(path: &Path, text: &str, end: Option<SimDuration>) -> Result<Plan, InputError> {
    let err = |line: usize, col: usize, key: &str, msg: String| {
        InputError::new(msg).in_file(path).at(line, col).key(key)
    };
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .trim(csv::Trim::All)
        .from_reader(text.as_bytes());
    let mut steps: Vec<PlanStep> = Vec::new();
    let mut header_seen = false;
    let mut record = csv::StringRecord::new();
    loop {
        let more = reader.read_record(&mut record).map_err(|e| {
            let line = e.position().map_or(0, |p| p.line() as usize);
            InputError::new(format!("cannot read the CSV: {e}"))
                .in_file(path)
                .at_line(line.max(1))
        })?;
        if !more {
            break;
        }
        let line = record.position().map_or(0, |p| p.line() as usize);
        if record.iter().all(str::is_empty) {
            continue;
        }
        // 1-based character column of field `i` (fields of a plan are never quoted).
        let col = |i: usize| -> usize {
            1 + record
                .iter()
                .take(i)
                .map(|f| f.chars().count() + 1)
                .sum::<usize>()
        };
        if !header_seen && steps.is_empty() {
            header_seen = true;
            if record.iter().collect::<Vec<_>>() == HEADER {
                continue;
            }
            if record.get(0).is_some_and(|f| f.parse::<f64>().is_err()) {
                return Err(err(
                    line,
                    1,
                    "time_s",
                    format!(
                        "expected the header `time_s,replicas`, found {}",
                        crate::error::quoted(&record.iter().collect::<Vec<_>>().join(","))
                    ),
                ));
            }
        }
        if record.len() != 2 {
            return Err(err(
                line,
                1,
                "time_s",
                format!(
                    "expected 2 columns (time_s,replicas), found {}",
                    record.len()
                ),
            ));
        }
        let t_text = &record[0];
        let secs: f64 = t_text.parse().map_err(|_| {
            err(
                line,
                col(0),
                "time_s",
                format!(
                    "expected a time in seconds, found {}",
                    crate::error::quoted(t_text)
                ),
            )
        })?;
        if !secs.is_finite() || secs < 0.0 || secs * NANOS_PER_SEC as f64 >= u64::MAX as f64 {
            return Err(err(
                line,
                col(0),
                "time_s",
                format!(
                    "expected a time of at least 0 seconds, found {}",
                    crate::error::quoted(t_text)
                ),
            ));
        }
        let time = SimTime::from_secs_f64(secs);
        let r_text = &record[1];
        let replicas: u32 = r_text.parse().map_err(|_| {
            err(
                line,
                col(1),
                "replicas",
                format!(
                    "expected a whole number of containers (0 or more), found {}",
                    crate::error::quoted(r_text)
                ),
            )
        })?;
        match steps.last() {
            None if time != SimTime::ZERO => {
                return Err(err(
                    line,
                    col(0),
                    "time_s",
                    format!("expected the first row at time 0, found {secs} s"),
                ));
            }
            Some(prev) if time <= prev.time => {
                return Err(err(
                    line,
                    col(0),
                    "time_s",
                    format!(
                        "expected times in increasing order; {secs} s is not after the row before ({} s)",
                        prev.time.as_secs_f64()
                    ),
                ));
            }
            _ => {}
        }
        steps.push(PlanStep { time, replicas });
    }
    let Some(last) = steps.last().copied() else {
        return Err(InputError::new(
            "expected at least one row `time_s,replicas` after the header",
        )
        .in_file(path));
    };
    let end = match end {
        Some(d) => {
            if d.is_zero() {
                return Err(
                    InputError::new("expected a plan duration greater than 0").key("--duration")
                );
            }
            SimTime::ZERO + d
        }
        None if steps.len() >= 2 => {
            let prev = steps[steps.len() - 2].time;
            last.time + (last.time - prev)
        }
        None => {
            return Err(InputError::new(
                "a plan of one row has no end: give --duration (or --scenario, whose duration it takes)",
            )
            .in_file(path));
        }
    };
    Ok(Plan {
        path: path.to_path_buf(),
        steps,
        end,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(text: &str) -> Result<Plan, InputError> {
        parse(Path::new("plan.csv"), text, None)
    }

    #[test]
    fn reads_a_plan_and_its_end() {
        let plan = p("time_s,replicas\n0,2\n60,4\n120,1\n").unwrap();
        assert_eq!(plan.steps.len(), 3);
        assert_eq!(plan.end, SimTime::from_secs_f64(180.0));
        assert_eq!(plan.replicas_at(SimTime::ZERO), 2);
        assert_eq!(plan.replicas_at(SimTime::from_secs_f64(59.999)), 2);
        assert_eq!(plan.replicas_at(SimTime::from_secs_f64(60.0)), 4);
        assert_eq!(plan.replicas_at(SimTime::from_secs_f64(500.0)), 1);
        assert_eq!(plan.max_replicas(), 4);
        let spans: Vec<_> = plan
            .spans()
            .map(|(s, e)| (s.replicas, e.as_secs_f64()))
            .collect();
        assert_eq!(spans, vec![(2, 60.0), (4, 120.0), (1, 180.0)]);
        // Without a header, with spaces and a blank line; the end given.
        let plan = parse(
            Path::new("p.csv"),
            "0, 3\n\n 1.5 ,0\n",
            Some(SimDuration::from_secs(10)),
        )
        .unwrap();
        assert_eq!(
            plan.steps,
            vec![
                PlanStep {
                    time: SimTime::ZERO,
                    replicas: 3
                },
                PlanStep {
                    time: SimTime::from_secs_f64(1.5),
                    replicas: 0
                }
            ]
        );
        assert_eq!(plan.end, SimTime::from_secs_f64(10.0));
        // A plan cut short by its end drops the steps after it.
        let plan = parse(
            Path::new("p.csv"),
            "0,1\n5,2\n10,3\n",
            Some(SimDuration::from_secs(7)),
        )
        .unwrap();
        assert_eq!(plan.spans().count(), 2);
    }

    #[test]
    fn errors_name_line_column_and_key() {
        let cases: [(&str, &str); 9] = [
            (
                "time,count\n0,1\n",
                "plan.csv:1:1: `time_s`: expected the header `time_s,replicas`",
            ),
            (
                "time_s,replicas\n0,1\n5,x\n",
                "plan.csv:3:3: `replicas`: expected a whole number of containers (0 or more), found \"x\"",
            ),
            (
                "time_s,replicas\n0,1\n5,2.5\n",
                "plan.csv:3:3: `replicas`: expected a whole number",
            ),
            ("time_s,replicas\n0,1\n5,-1\n", "plan.csv:3:3: `replicas`"),
            (
                "time_s,replicas\n0,1\nabc,1\n",
                "plan.csv:3:1: `time_s`: expected a time in seconds, found \"abc\"",
            ),
            (
                "time_s,replicas\n0,1\n-5,1\n",
                "plan.csv:3:1: `time_s`: expected a time of at least 0 seconds",
            ),
            (
                "time_s,replicas\n0,1\n10,1\n10,2\n",
                "plan.csv:4:1: `time_s`: expected times in increasing order",
            ),
            (
                "time_s,replicas\n5,1\n10,2\n",
                "plan.csv:2:1: `time_s`: expected the first row at time 0",
            ),
            (
                "time_s,replicas\n0,1,7\n",
                "plan.csv:2:1: `time_s`: expected 2 columns",
            ),
        ];
        for (text, msg) in cases {
            let e = p(text).unwrap_err().to_string();
            assert!(e.starts_with(msg), "{text:?}: {e}");
        }
        assert!(
            p("time_s,replicas\n")
                .unwrap_err()
                .to_string()
                .contains("at least one row")
        );
        assert!(p("0,1\n").unwrap_err().to_string().contains("--duration"));
        assert!(
            p("time_s,replicas\n0,inf\n")
                .unwrap_err()
                .to_string()
                .contains("`replicas`")
        );
        assert!(
            p("time_s,replicas\nNaN,1\n")
                .unwrap_err()
                .to_string()
                .contains("`time_s`")
        );
    }
}
