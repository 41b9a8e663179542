//! What a run measured: each worker's tally, and the whole run's counts, mean and 99th
//! percentile, printed as the contract's summary line, which starts with the mode measured.

use std::fmt;
use std::time::Duration;

use anyhow::bail;
use clap::ValueEnum;

/// How the requests travel.
#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Mode {
    /// One connection per worker, kept open for all its requests
    Long,
    /// A new connection for every request
    Short,
}

impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Mode::Long => "long",
            Mode::Short => "short",
        })
    }
}

/// What one worker thread saw.
#[derive(Debug, Default)]
pub struct Tally {
    pub latencies: Vec<Duration>,
    pub connections: u64,
    errors: u64,
    first_error: Option<String>,
}

impl Tally {
    /// `requests` requests failed, for this reason.
    pub fn failed(&mut self, requests: u64, error: anyhow::Error) {
        self.errors += requests;
        self.first_error.get_or_insert_with(|| format!("{error:#}"));
    }

    /// A worker whose every request failed, for one reason (it could not even start).
    pub fn all_failed(requests: u64, error: anyhow::Error) -> Tally {
        let mut tally = Tally::default();
        tally.failed(requests, error);
        tally
    }
}

/// One run's results: the counts, and how long each successful request took.
#[derive(Debug)]
pub struct Measurement {
    pub mode: Mode,
    pub requests: u64,
    pub connections: u64,
    pub errors: u64,
    pub elapsed: Duration,
    /// Sorted, shortest first.
    latencies: Vec<Duration>,
    first_error: Option<String>,
}

impl Measurement {
    pub fn new(mode: Mode, requests: u64, tallies: Vec<Tally>, elapsed: Duration) -> Self {
        let mut measurement = Measurement {
            mode,
            requests,
            connections: 0,
            errors: 0,
            elapsed,
            latencies: Vec::with_capacity(usize::try_from(requests).unwrap_or(0)),
            first_error: None,
        };
        for tally in tallies {
            measurement.connections += tally.connections;
            measurement.errors += tally.errors;
            measurement.latencies.extend(tally.latencies);
            if measurement.first_error.is_none() {
                measurement.first_error = tally.first_error;
            }
        }
        measurement.latencies.sort_unstable();
        measurement
    }

    /// The mean time of a successful request, in microseconds.
    pub fn mean_us(&self) -> u128 {
        let total: Duration = self.latencies.iter().sum();
        let count = u32::try_from(self.latencies.len().max(1)).unwrap_or(u32::MAX);
        (total / count).as_micros()
    }

    /// 99 % of the successful requests took at most this long, in microseconds.
    pub fn p99_us(&self) -> u128 {
        let rank = (self.latencies.len() * 99).div_ceil(100);
        self.latencies
            .get(rank.saturating_sub(1))
            .map_or(0, Duration::as_micros)
    }

    /// Successful requests per second of the whole run.
    pub fn per_second(&self) -> f64 {
        (self.requests - self.errors) as f64 / self.elapsed.as_secs_f64().max(1e-9)
    }

    /// The contract's summary line: `mode=short requests=1000 connections=1000 errors=0 …`.
    pub fn summary(&self) -> String {
        format!(
            "mode={} requests={} connections={} errors={} elapsed_ms={} mean_us={} p99_us={}",
            self.mode,
            self.requests,
            self.connections,
            self.errors,
            self.elapsed.as_millis(),
            self.mean_us(),
            self.p99_us()
        )
    }

    /// An error naming the first failure, if any request failed.
    pub fn check(&self) -> anyhow::Result<()> {
        if self.errors > 0 {
            bail!(
                "{} of {} requests failed; the first: {}",
                self.errors,
                self.requests,
                self.first_error
                    .as_deref()
                    .unwrap_or("(no reason recorded)")
            );
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use anyhow::anyhow;

    #[test]
    fn percentiles_and_the_summary_line() {
        let tally = Tally {
            latencies: (1..=100).rev().map(Duration::from_micros).collect(),
            connections: 100,
            ..Tally::default()
        };
        let measurement = Measurement::new(Mode::Short, 100, vec![tally], Duration::from_millis(7));
        assert_eq!(measurement.p99_us(), 99);
        assert_eq!(measurement.mean_us(), 50);
        assert_eq!(
            measurement.summary(),
            "mode=short requests=100 connections=100 errors=0 elapsed_ms=7 mean_us=50 p99_us=99"
        );
        assert!(measurement.check().is_ok());
    }

    #[test]
    fn failures_are_counted_and_the_first_reason_kept() {
        let mut first = Tally::default();
        first.failed(3, anyhow!("refused"));
        first.failed(1, anyhow!("later"));
        let measurement = Measurement::new(
            Mode::Long,
            10,
            vec![first, Tally::default()],
            Duration::from_millis(1),
        );
        assert_eq!(measurement.errors, 4);
        assert_eq!(measurement.p99_us(), 0);
        let error = measurement.check().unwrap_err().to_string();
        assert_eq!(error, "4 of 10 requests failed; the first: refused");
    }
}
