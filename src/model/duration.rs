//! How durations are written for people. Durations are seconds everywhere in the model;
//! these turn them back into text in the few styles monplan prints:
//!
//! - [`yaml`]: the notation the stacks use (`90s`, `5m`, `1h`, `0.25s`), for plans and
//!   diagnostics notes, so that what monplan prints can be pasted back into a stack;
//! - [`clock`]: a stopwatch reading (`45s`, `1m 05s`, `1h 02m`) for apply progress,
//!   elapsed times and ETAs;
//! - [`approximate`]: prose (`about 3 minutes`) for estimates in the Markdown report.

/// The YAML notation: the largest of `d`, `h`, `m`, `s` that writes the duration as a
/// whole number (`90s`, `5m`, `1h`, `1d`, `0s`); a duration that is not a whole number of
/// seconds is written in seconds with at most three decimals (`0.25s`, `1.5s`).
pub fn yaml(seconds: f64) -> String {
    if let Some(whole) = whole_seconds(seconds) {
        return match whole {
            0 => "0s".to_string(),
            s if s % 86_400 == 0 => format!("{}d", s / 86_400),
            s if s % 3600 == 0 => format!("{}h", s / 3600),
            s if s % 60 == 0 => format!("{}m", s / 60),
            s => format!("{s}s"),
        };
    }
    let rounded = (seconds * 1000.0).round() / 1000.0;
    format!("{rounded}s")
}

/// A stopwatch reading, rounded to whole seconds: `45s` under a minute, `1m 05s` under
/// an hour, `1h 02m` from there. Negative durations read as `0s`.
pub fn clock(seconds: f64) -> String {
    // Whole seconds are the resolution anyone reads.
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let whole = seconds.max(0.0).round() as u64;
    match whole {
        0..=59 => format!("{whole}s"),
        s if s < 3600 => format!("{}m {:02}s", s / 60, s % 60),
        s => format!("{}h {:02}m", s / 3600, (s % 3600) / 60),
    }
}

/// Prose for an estimate: `under a second`, `about 12 seconds` (under 90 seconds),
/// `about 3 minutes`. `None` for what is not a duration (negative, infinite or NaN).
pub fn approximate(seconds: f64) -> Option<String> {
    if !seconds.is_finite() || seconds < 0.0 {
        return None;
    }
    Some(if seconds < 1.0 {
        "under a second".to_string()
    } else if seconds < 90.0 {
        format!("about {seconds:.0} seconds")
    } else {
        format!("about {:.0} minutes", seconds / 60.0)
    })
}

/// `seconds` as a whole number, when it is one (and not negative).
fn whole_seconds(seconds: f64) -> Option<u64> {
    // 2^53: every whole f64 below it converts exactly.
    const EXACT: f64 = 9_007_199_254_740_992.0;
    if seconds.fract() == 0.0 && (0.0..EXACT).contains(&seconds) {
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        Some(seconds as u64)
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yaml_writes_whole_durations_in_the_largest_exact_unit() {
        assert_eq!(yaml(0.0), "0s");
        assert_eq!(yaml(10.0), "10s");
        assert_eq!(yaml(90.0), "90s");
        assert_eq!(yaml(60.0), "1m");
        assert_eq!(yaml(300.0), "5m");
        assert_eq!(yaml(5400.0), "90m");
        assert_eq!(yaml(3600.0), "1h");
        assert_eq!(yaml(7200.0), "2h");
        assert_eq!(yaml(86_400.0), "1d");
        assert_eq!(yaml(90_000.0), "25h");
        assert_eq!(yaml(f64::from(u32::MAX)), "4294967295s");
    }

    #[test]
    fn yaml_writes_fractions_in_seconds_with_three_decimals_at_most() {
        assert_eq!(yaml(0.25), "0.25s");
        assert_eq!(yaml(1.5), "1.5s");
        assert_eq!(yaml(90.5), "90.5s");
        assert_eq!(yaml(0.123_456), "0.123s");
        assert_eq!(yaml(2.0 / 3.0), "0.667s");
    }

    #[test]
    fn clock_reads_like_a_stopwatch() {
        assert_eq!(clock(0.0), "0s");
        assert_eq!(clock(-3.0), "0s");
        assert_eq!(clock(0.4), "0s");
        assert_eq!(clock(45.0), "45s");
        assert_eq!(clock(59.6), "1m 00s");
        assert_eq!(clock(65.0), "1m 05s");
        assert_eq!(clock(600.0), "10m 00s");
        assert_eq!(clock(3599.0), "59m 59s");
        assert_eq!(clock(3600.0), "1h 00m");
        assert_eq!(clock(3720.0), "1h 02m");
        assert_eq!(clock(90_000.0), "25h 00m");
    }

    #[test]
    fn approximate_is_prose() {
        assert_eq!(approximate(0.2).as_deref(), Some("under a second"));
        assert_eq!(approximate(12.4).as_deref(), Some("about 12 seconds"));
        assert_eq!(approximate(89.0).as_deref(), Some("about 89 seconds"));
        assert_eq!(approximate(90.0).as_deref(), Some("about 2 minutes"));
        assert_eq!(approximate(180.0).as_deref(), Some("about 3 minutes"));
        assert_eq!(approximate(-1.0), None);
        assert_eq!(approximate(f64::NAN), None);
        assert_eq!(approximate(f64::INFINITY), None);
    }
}
