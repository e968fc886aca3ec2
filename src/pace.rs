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

/// A token bucket per paced operation, shared by all tasks of one run: a short burst,
/// then `rate` calls a second. AWS enforces its API quotas with token buckets of this
/// kind (a burst of about one second's worth, then the rate). Our burst is one call
/// smaller than that, which leaves the server's bucket a token of slack, so that a few
/// milliseconds of network jitter never turn our own traffic into throttling.
///
/// When AWS throttles anyway (another client of the same account spends the same quota),
/// [`Pacer::throttled`] lowers that operation's rate for the rest of the run.
#[derive(Debug)]
pub struct Pacer {
    rates: Mutex<BTreeMap<String, f64>>,
    buckets: Mutex<BTreeMap<String, Bucket>>,
}

#[derive(Debug, Clone, Copy)]
struct Bucket {
    /// May go below zero: callers reserve tokens and sleep until they are theirs.
    tokens: f64,
    at: Instant,
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
            rates: Mutex::new(rates),
            buckets: Mutex::new(BTreeMap::new()),
        }
    }

    pub fn rate(&self, operation: &str) -> Option<f64> {
        self.rates
            .lock()
            .ok()?
            .get(operation)
            .copied()
            .filter(|r| *r > 0.0)
    }

    /// The burst: one second's worth of calls less one, at least one.
    fn capacity(rate: f64) -> f64 {
        (rate - 1.0).max(1.0)
    }

    /// AWS throttled `operation`: its quota is smaller than assumed, or shared. Slow it
    /// down by 30% (to no less than one call in five seconds) and start from an empty
    /// bucket.
    pub fn throttled(&self, operation: &str) {
        let Some(rate) = self.rate(operation) else {
            return;
        };
        let slower = (rate * 0.7).max(0.2);
        if let Ok(mut rates) = self.rates.lock() {
            rates.insert(operation.to_string(), slower);
        }
        if let Ok(mut buckets) = self.buckets.lock() {
            buckets.insert(
                operation.to_string(),
                Bucket {
                    tokens: 0.0,
                    at: Instant::now(),
                },
            );
        }
        tracing::debug!(operation, rate = slower, "throttled: slowing down");
    }

    /// Waits until `operation` may be called.
    pub async fn wait(&self, operation: &str) {
        let Some(rate) = self.rate(operation) else {
            return;
        };
        let delay = {
            let Ok(mut buckets) = self.buckets.lock() else {
                return;
            };
            let now = Instant::now();
            let capacity = Self::capacity(rate);
            let bucket = buckets.entry(operation.to_string()).or_insert(Bucket {
                tokens: capacity,
                at: now,
            });
            let refilled =
                (bucket.tokens + now.duration_since(bucket.at).as_secs_f64() * rate).min(capacity);
            bucket.tokens = refilled - 1.0;
            bucket.at = now;
            if bucket.tokens >= 0.0 {
                Duration::ZERO
            } else {
                Duration::from_secs_f64(-bucket.tokens / rate)
            }
        };
        if !delay.is_zero() {
            tokio::time::sleep(delay).await;
        }
    }

    /// Seconds that `count` calls of `operation` take at its rate, after the burst
    /// (0 when unpaced).
    pub fn seconds_for(&self, operation: &str, count: usize) -> f64 {
        #[allow(clippy::cast_precision_loss)] // counts are far below 2^52
        self.rate(operation).map_or(0.0, |rate| {
            (count as f64 - Self::capacity(rate)).max(0.0) / rate
        })
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
    async fn calls_burst_one_second_then_keep_to_the_rate() {
        let pacer = Pacer::new(&BTreeMap::from([("PutMetricAlarm".to_string(), 4.0)]));
        let start = Instant::now();
        for _ in 0..3 {
            pacer.wait("PutMetricAlarm").await;
        }
        assert_eq!(
            start.elapsed(),
            Duration::ZERO,
            "a burst of one second's worth less one"
        );
        for _ in 0..4 {
            pacer.wait("PutMetricAlarm").await;
        }
        // Then 250 ms apart.
        assert_eq!(start.elapsed(), Duration::from_secs(1));
        pacer.wait("GetCallerIdentity").await;
        assert_eq!(
            start.elapsed(),
            Duration::from_secs(1),
            "unpaced operations do not wait"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn throttling_slows_the_operation_down() {
        let pacer = Pacer::new(&BTreeMap::from([("PutMetricAlarm".to_string(), 10.0)]));
        pacer.throttled("PutMetricAlarm");
        assert_eq!(pacer.rate("PutMetricAlarm"), Some(7.0));
        let start = Instant::now();
        pacer.wait("PutMetricAlarm").await;
        // The bucket starts empty: one seventh of a second, to the timer's millisecond.
        let waited = start.elapsed().as_secs_f64();
        assert!((waited - 1.0 / 7.0).abs() < 0.002, "{waited}");
        for _ in 0..20 {
            pacer.throttled("PutMetricAlarm");
        }
        assert_eq!(
            pacer.rate("PutMetricAlarm"),
            Some(0.2),
            "never slower than one call in five seconds"
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
        assert!((pacer.seconds_for("PutMetricAlarm", 300) - 298.0 / 3.0).abs() < 1e-9);
        assert!(pacer.seconds_for("Subscribe", 300).abs() < 1e-9);
    }
}
