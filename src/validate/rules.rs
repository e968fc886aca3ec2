//! Single-value rules: names, regions, tags, endpoints, statistics, units.

use crate::diag::{codes, Diagnostic, Diagnostics, Sp};
use crate::model::{AlarmName, Protocol, StackName, TopicName, OWNER_TAG};

fn invalid(
    d: &mut Diagnostics,
    at: &Sp<impl AsRef<str>>,
    message: String,
    label: &str,
    note: &str,
) {
    d.push(
        Diagnostic::error(codes::INVALID_VALUE, message)
            .at(at.span, label)
            .note(note),
    );
}

/// `[a-z0-9]+(-[a-z0-9]+)*`; also the shape of resource keys with `_` allowed.
fn is_dashed_lowercase(text: &str, separators: &[char]) -> bool {
    !text.is_empty()
        && !text.starts_with(separators)
        && !text.ends_with(separators)
        && text
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || separators.contains(&c))
        && !text
            .as_bytes()
            .windows(2)
            .any(|w| separators.contains(&(w[0] as char)) && separators.contains(&(w[1] as char)))
}

pub fn stack_name(name: &Sp<String>, d: &mut Diagnostics) -> Option<StackName> {
    let text = &name.value;
    if !is_dashed_lowercase(text, &['-']) || text.len() > 32 {
        invalid(
            d,
            name,
            format!("`{text}` is not a valid stack name"),
            "invalid stack name",
            "a stack name is lowercase letters and digits in words joined by `-`, at most 32 characters (e.g. `transcription`)",
        );
        return None;
    }
    Some(StackName::new(text.clone()))
}

pub fn resource_key(key: &Sp<String>, kind: &str, d: &mut Diagnostics) -> bool {
    if is_dashed_lowercase(&key.value, &['-', '_']) {
        return true;
    }
    invalid(
        d,
        key,
        format!("`{}` is not a valid {kind} key", key.value),
        "invalid key",
        "keys are lowercase letters and digits in words joined by `-` or `_` (e.g. `job-failures`)",
    );
    false
}

pub fn region(region: &Sp<String>, d: &mut Diagnostics) -> Option<Sp<String>> {
    // e.g. us-east-1, eu-central-2, ap-southeast-3, us-gov-west-1, cn-north-1
    let parts: Vec<&str> = region.value.split('-').collect();
    let ok = parts.len() >= 3
        && parts[..parts.len() - 1]
            .iter()
            .all(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_lowercase()))
        && parts[parts.len() - 1].chars().all(|c| c.is_ascii_digit())
        && !parts[parts.len() - 1].is_empty();
    if !ok {
        invalid(
            d,
            region,
            format!("`{}` is not an AWS region", region.value),
            "invalid region",
            "write a region code such as `us-east-1`",
        );
        return None;
    }
    Some(region.clone())
}

pub fn account(
    account: &Sp<String>,
    d: &mut Diagnostics,
) -> Option<crate::model::Declared<String>> {
    if account.value.len() != 12 || !account.value.chars().all(|c| c.is_ascii_digit()) {
        invalid(
            d,
            account,
            format!("`{}` is not an AWS account id", account.value),
            "expected 12 digits",
            "write the account id in quotes, e.g. account: \"123456789012\"",
        );
        return None;
    }
    Some(crate::model::Declared {
        value: account.value.clone(),
        key: "account".into(),
        origin: account.span,
    })
}

pub fn tag(key: &Sp<String>, value: &Sp<String>, d: &mut Diagnostics) -> bool {
    let mut ok = true;
    if key.value == OWNER_TAG {
        invalid(
            d,
            key,
            format!("`{OWNER_TAG}` is set by monplan"),
            "reserved tag",
            "monplan uses this tag to know what it owns; remove it from `tags:`",
        );
        ok = false;
    } else if key.value.starts_with("aws:") {
        invalid(
            d,
            key,
            "tag keys starting with `aws:` are reserved by AWS".into(),
            "reserved prefix",
            "choose another key",
        );
        ok = false;
    } else if key.value.is_empty() || key.value.chars().count() > 128 {
        invalid(
            d,
            key,
            "a tag key has 1 to 128 characters".into(),
            "invalid tag key",
            "shorten the key",
        );
        ok = false;
    }
    if value.value.chars().count() > 256 {
        invalid(
            d,
            value,
            "a tag value has at most 256 characters".into(),
            "too long",
            "shorten the value",
        );
        ok = false;
    }
    ok
}

pub fn topic_name(name: &Sp<String>, d: &mut Diagnostics) -> Option<TopicName> {
    let text = &name.value;
    let ok = !text.is_empty()
        && text.len() <= 256
        && text
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_');
    if !ok {
        invalid(
            d,
            name,
            format!("`{text}` is not a valid SNS topic name"),
            "invalid topic name",
            "SNS topic names are 1 to 256 ASCII letters, digits, `-` and `_`",
        );
        return None;
    }
    Some(TopicName::new(text.clone()))
}

pub fn alarm_name(name: &Sp<String>, d: &mut Diagnostics) -> Option<AlarmName> {
    let text = &name.value;
    let ok = !text.trim().is_empty()
        && text.chars().count() <= 255
        && !text.chars().any(char::is_control);
    if !ok {
        invalid(
            d,
            name,
            format!("`{text}` is not a valid alarm name"),
            "invalid alarm name",
            "alarm names are 1 to 255 characters without control characters",
        );
        return None;
    }
    Some(AlarmName::new(text.clone()))
}

pub fn is_env_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Checks a literal endpoint's shape for its protocol, so that obvious mistakes fail
/// before apply rather than half-way through it.
pub fn endpoint(protocol: Protocol, endpoint: &Sp<String>, d: &mut Diagnostics) {
    let text = endpoint.value.as_str();
    let (ok, expected) = match protocol {
        Protocol::Email | Protocol::EmailJson => (
            text.split_once('@')
                .is_some_and(|(u, h)| !u.is_empty() && h.contains('.')),
            "an email address",
        ),
        Protocol::Http => (
            text.starts_with("http://") && text.len() > 7,
            "a URL starting with http://",
        ),
        Protocol::Https => (
            text.starts_with("https://") && text.len() > 8,
            "a URL starting with https://",
        ),
        Protocol::Sqs => (
            is_arn_of(text, "sqs"),
            "an SQS queue ARN (arn:aws:sqs:REGION:ACCOUNT:NAME)",
        ),
        Protocol::Lambda => (
            is_arn_of(text, "lambda"),
            "a Lambda function ARN (arn:aws:lambda:...)",
        ),
        Protocol::Sms => {
            let digits = text.strip_prefix('+').unwrap_or(text);
            (
                (2..=15).contains(&digits.len())
                    && digits.chars().all(|c| c.is_ascii_digit())
                    && !digits.starts_with('0'),
                "a phone number in E.164 form, e.g. +15555550100",
            )
        }
    };
    if !ok {
        invalid(
            d,
            endpoint,
            format!("`{text}` is not a valid {protocol} endpoint"),
            &format!("expected {expected}"),
            "fix the endpoint, or read it from the environment with ${env:NAME}",
        );
    }
}

/// `arn:PARTITION:SERVICE:REGION:ACCOUNT:RESOURCE`, with the given service.
pub fn is_arn_of(text: &str, service: &str) -> bool {
    let parts: Vec<&str> = text.splitn(6, ':').collect();
    parts.len() == 6
        && parts[0] == "arn"
        && !parts[1].is_empty()
        && parts[2] == service
        && !parts[5].is_empty()
}

pub fn is_arn(text: &str) -> bool {
    let parts: Vec<&str> = text.splitn(6, ':').collect();
    parts.len() == 6
        && parts[0] == "arn"
        && !parts[1].is_empty()
        && !parts[2].is_empty()
        && !parts[5].is_empty()
}

/// Statistics `CloudWatch` accepts: the five standard ones, or an extended statistic
/// (`p99`, `p99.9`, `tm90`, `wm95`, `tc90`, `ts90`, `IQM`, or a range such as `TM(10%:90%)`).
pub fn is_statistic(stat: &str) -> bool {
    if crate::model::Metric::STANDARD_STATS.contains(&stat) || stat == "IQM" {
        return true;
    }
    for prefix in ["p", "tm", "wm", "tc", "ts"] {
        if let Some(number) = stat.strip_prefix(prefix) {
            return number
                .parse::<f64>()
                .is_ok_and(|n| n > 0.0 && n <= 100.0 && !number.starts_with('+'));
        }
    }
    for prefix in ["TM(", "WM(", "TC(", "TS(", "PR("] {
        if let Some(inner) = stat.strip_prefix(prefix).and_then(|s| s.strip_suffix(')')) {
            return inner.contains(':');
        }
    }
    false
}

/// The units `CloudWatch` accepts (`PutMetricAlarm` `Unit`).
/// A `CloudWatch` unit, or a located error with the closest one.
pub fn unit(unit: &Sp<String>, d: &mut Diagnostics) -> bool {
    if UNITS.contains(&unit.value.as_str()) {
        return true;
    }
    d.push(
        Diagnostic::error(
            codes::INVALID_VALUE,
            format!("`{}` is not a CloudWatch unit", unit.value),
        )
        .at(unit.span, "unknown unit")
        .suggest(&unit.value, UNITS.iter().copied()),
    );
    false
}

pub const UNITS: &[&str] = &[
    "Seconds",
    "Microseconds",
    "Milliseconds",
    "Bytes",
    "Kilobytes",
    "Megabytes",
    "Gigabytes",
    "Terabytes",
    "Bits",
    "Kilobits",
    "Megabits",
    "Gigabits",
    "Terabits",
    "Percent",
    "Count",
    "Bytes/Second",
    "Kilobytes/Second",
    "Megabytes/Second",
    "Gigabytes/Second",
    "Terabytes/Second",
    "Bits/Second",
    "Kilobits/Second",
    "Megabits/Second",
    "Gigabits/Second",
    "Terabits/Second",
    "Count/Second",
    "None",
];

/// `CloudWatch` accepts periods of 10 s, 30 s or a multiple of 60 s.
pub fn is_valid_period(seconds: u64) -> bool {
    seconds == 10 || seconds == 30 || (seconds >= 60 && seconds.is_multiple_of(60))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_keys() {
        assert!(is_dashed_lowercase("transcription", &['-']));
        assert!(is_dashed_lowercase("a1-b2", &['-']));
        assert!(!is_dashed_lowercase("a--b", &['-']));
        assert!(!is_dashed_lowercase("-a", &['-']));
        assert!(!is_dashed_lowercase("A", &['-']));
        assert!(!is_dashed_lowercase("a_b", &['-']));
        assert!(is_dashed_lowercase("job_failures", &['-', '_']));
        assert!(!is_dashed_lowercase("a_-b", &['-', '_']));
    }

    #[test]
    fn statistics() {
        for ok in [
            "Sum",
            "Average",
            "p99",
            "p99.9",
            "tm90",
            "IQM",
            "TM(10%:90%)",
            "PR(:300)",
        ] {
            assert!(is_statistic(ok), "{ok}");
        }
        for bad in ["sum", "p", "p101", "x99", "TM(10%)", "avg"] {
            assert!(!is_statistic(bad), "{bad}");
        }
    }

    #[test]
    fn periods() {
        assert!(
            is_valid_period(10)
                && is_valid_period(30)
                && is_valid_period(60)
                && is_valid_period(300)
        );
        assert!(!is_valid_period(20) && !is_valid_period(90) && !is_valid_period(45));
    }

    #[test]
    fn arns() {
        assert!(is_arn_of("arn:aws:sqs:us-east-1:123456789012:q", "sqs"));
        assert!(!is_arn_of("arn:aws:sns:us-east-1:123456789012:q", "sqs"));
        assert!(is_arn("arn:aws:sns:us-east-1:123456789012:t"));
        assert!(!is_arn("oncall"));
    }
}
