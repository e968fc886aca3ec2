//! Durations as text. (Provisional: replaced by the helper's module on merge.)

/// `90s`, `5m`, `1h`, `1d`, `0.25s`: the way the YAML writes durations.
pub fn yaml(seconds: f64) -> String {
    if seconds.fract() == 0.0 && seconds >= 0.0 && seconds < f64::from(u32::MAX) {
        #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
        let s = seconds as u64;
        return match s {
            0 => "0s".into(),
            s if s % 86_400 == 0 => format!("{}d", s / 86_400),
            s if s % 3600 == 0 => format!("{}h", s / 3600),
            s if s % 60 == 0 => format!("{}m", s / 60),
            s => format!("{s}s"),
        };
    }
    format!("{}s", (seconds * 1000.0).round() / 1000.0)
}

/// `45s`, `1m 05s`, `1h 02m`: elapsed and remaining time.
pub fn clock(seconds: f64) -> String {
    #[allow(clippy::cast_possible_truncation, clippy::cast_sign_loss)]
    let whole = seconds.max(0.0).round() as u64;
    match whole {
        0..=59 => format!("{whole}s"),
        s if s < 3600 => format!("{}m {:02}s", s / 60, s % 60),
        s => format!("{}h {:02}m", s / 3600, (s % 3600) / 60),
    }
}
