//! The relay's own argument types: a loss fraction and durations with units.

use std::net::SocketAddr;
use std::time::Duration;

use clap::Args;

/// What both relays share: the delay, how long to run, and how much to say.
#[derive(Args, Clone, Debug)]
pub struct Shared {
    /// Hold everything this long before passing it on, in each direction: 50ms, 0.2s, 0
    #[arg(long, value_name = "DURATION", default_value = "0", value_parser = parse_delay)]
    pub delay: Duration,

    /// Stop by itself after this long (and print the summary), e.g. 30s; default: until Ctrl-C
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub duration: Option<Duration>,

    /// Print a line for every datagram or chunk forwarded or dropped
    #[arg(long)]
    pub verbose: bool,
}

/// The longest delay or run: an hour is more than any lesson needs.
const LONGEST: f64 = 3600.0;

/// `--loss`: a fraction from 0 (lose nothing) to 1 (lose everything).
pub fn parse_fraction(text: &str) -> Result<f64, String> {
    text.trim()
        .parse::<f64>()
        .ok()
        .filter(|fraction| (0.0..=1.0).contains(fraction))
        .ok_or_else(|| {
            format!(
                "invalid loss {text:?}: use a fraction from 0 to 1, such as 0.25 to lose a quarter"
            )
        })
}

/// `--delay`: `0`, or a number with a unit, `ms` or `s`.
pub fn parse_delay(text: &str) -> Result<Duration, String> {
    if text.trim() == "0" {
        return Ok(Duration::ZERO);
    }
    with_unit(text).ok_or_else(|| {
        format!("invalid delay {text:?}: use 0 or a time with its unit, such as 50ms or 0.5s (at most 3600s)")
    })
}

/// `--duration`: a time with its unit, more than zero.
pub fn parse_duration(text: &str) -> Result<Duration, String> {
    with_unit(text)
        .filter(|duration| !duration.is_zero())
        .ok_or_else(|| {
            format!("invalid duration {text:?}: use a time with its unit, such as 30s or 500ms (at most 3600s)")
        })
}

/// `50ms`, `0.5s`, `2 s`: a bare number is refused, since 50 could mean seconds or milliseconds.
fn with_unit(text: &str) -> Option<Duration> {
    let text = text.trim();
    let (number, seconds_per_unit) = if let Some(number) = text.strip_suffix("ms") {
        (number, 0.001)
    } else {
        (text.strip_suffix('s')?, 1.0)
    };
    let seconds = number.trim().parse::<f64>().ok()? * seconds_per_unit;
    (seconds.is_finite() && (0.0..=LONGEST).contains(&seconds))
        .then(|| Duration::from_secs_f64(seconds))
}

/// Refuses `--to` the relay's own address: each datagram or connection would come back to the
/// relay, which would pass it on to itself again, without end.
pub fn refuse_a_loop(listening: SocketAddr, upstream: &[SocketAddr]) -> anyhow::Result<()> {
    let itself = |to: &&SocketAddr| {
        // Port 0, before binding, is no port yet.
        listening.port() != 0
            && to.port() == listening.port()
            && (to.ip() == listening.ip() || listening.ip().is_unspecified())
    };
    match upstream.iter().find(itself) {
        Some(to) => anyhow::bail!(
            "--to {to} is the relay itself, which listens on {listening}: give the server's address"
        ),
        None => Ok(()),
    }
}

/// `50 ms`, `1.5 s`: how a duration is shown in the relay's lines.
pub fn show(duration: Duration) -> String {
    if duration < Duration::from_secs(1) {
        format!("{} ms", duration.as_secs_f64() * 1000.0)
    } else {
        format!("{} s", duration.as_secs_f64())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fractions() {
        assert_eq!(parse_fraction("0"), Ok(0.0));
        assert_eq!(parse_fraction("0.25"), Ok(0.25));
        assert_eq!(parse_fraction("1"), Ok(1.0));
        for bad in ["1.5", "-0.1", "25%", "NaN", "", "half"] {
            let err = parse_fraction(bad).unwrap_err();
            assert!(err.starts_with(&format!("invalid loss {bad:?}")), "{err}");
        }
    }

    #[test]
    fn delays_need_a_unit() {
        assert_eq!(parse_delay("0"), Ok(Duration::ZERO));
        assert_eq!(parse_delay("50ms"), Ok(Duration::from_millis(50)));
        assert_eq!(parse_delay("0.5s"), Ok(Duration::from_millis(500)));
        assert_eq!(parse_delay("2 s"), Ok(Duration::from_secs(2)));
        assert_eq!(parse_delay("0ms"), Ok(Duration::ZERO));
        for bad in ["50", "-5ms", "5m", "ms", "1e9s", "inf s", ""] {
            let err = parse_delay(bad).unwrap_err();
            assert!(err.starts_with(&format!("invalid delay {bad:?}")), "{err}");
        }
    }

    #[test]
    fn durations_are_more_than_zero() {
        assert_eq!(parse_duration("30s"), Ok(Duration::from_secs(30)));
        assert_eq!(parse_duration("500ms"), Ok(Duration::from_millis(500)));
        for bad in ["0", "0s", "30", "soon"] {
            let err = parse_duration(bad).unwrap_err();
            assert!(
                err.starts_with(&format!("invalid duration {bad:?}")),
                "{err}"
            );
        }
    }

    #[test]
    fn the_relay_is_not_its_own_server() {
        let listening: SocketAddr = "127.0.0.1:7000".parse().unwrap();
        let everywhere: SocketAddr = "0.0.0.0:7000".parse().unwrap();
        let server: SocketAddr = "127.0.0.1:7788".parse().unwrap();
        assert!(refuse_a_loop(listening, &[server]).is_ok());
        let err = refuse_a_loop(listening, &[listening]).unwrap_err();
        assert!(err.to_string().contains("is the relay itself"), "{err}");
        assert!(refuse_a_loop(everywhere, &[listening]).is_err());
        let any_port: SocketAddr = "127.0.0.1:0".parse().unwrap();
        assert!(refuse_a_loop(any_port, &[any_port]).is_ok());
    }

    #[test]
    fn shown_in_the_unit_a_student_typed() {
        assert_eq!(show(Duration::from_millis(50)), "50 ms");
        assert_eq!(show(Duration::ZERO), "0 ms");
        assert_eq!(show(Duration::from_millis(1500)), "1.5 s");
    }
}
