//! Client-side pacing at AWS's per-operation quotas, so that a large apply runs at the
//! speed the account allows instead of into throttling errors.

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::Duration;

use tokio::time::Instant;

/// AWS's documented default quotas (requests per second, per account and region) for
/// the calls monplan makes in bulk. Source: the `CloudWatch` service quotas page
/// (`DescribeAlarms` 9, `PutMetricAlarm` 3, `DeleteAlarms` 3, dashboards 10). Calls not
/// listed are not paced (their quotas are far above what a plan or apply needs).
pub const DEFAULT_RATES: &[(&str, f64)] = &[
    ("PutMetricAlarm", 3.0),
    ("PutCompositeAlarm", 3.0),
    ("DescribeAlarms", 9.0),
    ("DeleteAlarms", 3.0),
    ("PutDashboard", 10.0),
    ("GetDashboard", 10.0),
    ("ListDashboards", 10.0),
    ("DeleteDashboards", 10.0),
];

/// Spaces the calls of each paced operation `1 / rate` seconds apart, across all tasks
/// of one run. No bursts: pacing evenly never trips a token bucket that allows them.
#[derive(Debug)]
pub struct Pacer {
    rates: BTreeMap<String, f64>,
    next: Mutex<BTreeMap<String, Instant>>,
}

impl Default for Pacer {
    fn default() -> Self {
        Self::new(&BTreeMap::new())
    }
}

impl Pacer {
    /// The default rates, with `overrides` (from `--max-rate OP=N`) on top.
    pub fn new(overrides: &BTreeMap<String, f64>) -> Self {
        let mut rates: BTreeMap<String, f64> = DEFAULT_RATES
            .iter()
            .map(|(op, rate)| ((*op).to_string(), *rate))
            .collect();
        rates.extend(overrides.iter().map(|(op, rate)| (op.clone(), *rate)));
        Self {
            rates,
            next: Mutex::new(BTreeMap::new()),
        }
    }

    pub fn rate(&self, operation: &str) -> Option<f64> {
        self.rates.get(operation).copied().filter(|r| *r > 0.0)
    }

    /// Waits for `operation`'s next slot.
    pub async fn wait(&self, operation: &str) {
        let Some(rate) = self.rate(operation) else {
            return;
        };
        let slot = {
            let Ok(mut next) = self.next.lock() else {
                return;
            };
            let now = Instant::now();
            let slot = next
                .get(operation)
                .copied()
                .filter(|t| *t > now)
                .unwrap_or(now);
            next.insert(
                operation.to_string(),
                slot + Duration::from_secs_f64(1.0 / rate),
            );
            slot
        };
        tokio::time::sleep_until(slot).await;
    }

    /// Seconds that `count` calls of `operation` take at its rate (0 when unpaced).
    pub fn seconds_for(&self, operation: &str, count: usize) -> f64 {
        #[allow(clippy::cast_precision_loss)] // counts are far below 2^52
        self.rate(operation).map_or(0.0, |rate| count as f64 / rate)
    }
}

/// Parses `--max-rate` values: `PutMetricAlarm=20`.
pub fn parse_rate(text: &str) -> Result<(String, f64), String> {
    let (operation, rate) = text
        .split_once('=')
        .ok_or_else(|| format!("expected OPERATION=RATE, got `{text}`"))?;
    let rate: f64 = rate
        .trim()
        .parse()
        .map_err(|_| format!("`{rate}` is not a number of requests per second"))?;
    if !(rate > 0.0 && rate.is_finite()) {
        return Err(format!("the rate for {operation} must be more than 0"));
    }
    Ok((operation.trim().to_string(), rate))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn calls_are_spaced_at_the_rate() {
        let pacer = Pacer::new(&BTreeMap::from([("PutMetricAlarm".to_string(), 4.0)]));
        let start = Instant::now();
        for _ in 0..5 {
            pacer.wait("PutMetricAlarm").await;
        }
        // The first call goes at once, the next four 250 ms apart.
        assert_eq!(start.elapsed(), Duration::from_secs(1));
        pacer.wait("GetCallerIdentity").await;
        assert_eq!(
            start.elapsed(),
            Duration::from_secs(1),
            "unpaced operations do not wait"
        );
    }

    #[test]
    fn rates_parse() {
        assert_eq!(
            parse_rate("PutMetricAlarm=20"),
            Ok(("PutMetricAlarm".into(), 20.0))
        );
        assert!(parse_rate("PutMetricAlarm").is_err());
        assert!(parse_rate("PutMetricAlarm=0").is_err());
        assert!(parse_rate("PutMetricAlarm=fast").is_err());
        let pacer = Pacer::new(&BTreeMap::new());
        assert!((pacer.seconds_for("PutMetricAlarm", 300) - 100.0).abs() < 1e-9);
        assert!(pacer.seconds_for("Subscribe", 300).abs() < 1e-9);
    }
}
