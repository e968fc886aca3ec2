//! Whether an SNS topic's access policy lets `CloudWatch` alarms publish to it: pure,
//! on the `Policy` attribute's JSON as `GetTopicAttributes` returns it.
//!
//! What `CloudWatch` needs (SNS developer guide, "Amazon SNS access control" and the
//! `CloudWatch` user guide, "Using Amazon `CloudWatch` alarms"): `sns:Publish` on the topic
//! for the service principal `cloudwatch.amazonaws.com`. A topic's default policy grants
//! it to principal `*` with the condition `AWS:SourceOwner` = the topic's account, which
//! an alarm of the same account satisfies. The evaluation is lenient where it cannot be
//! certain: an `Allow` with conditions is taken to allow (the conditions are not
//! evaluated), a `Deny` with conditions is taken not to deny (`aws:SecureTransport`, say,
//! which `CloudWatch` meets). It reports only what is certain: an unconditional `Deny`
//! matching `CloudWatch`, or no `Allow` that could match it at all.

use serde_json::Value;

/// The service principal of `CloudWatch` alarm actions.
pub const CLOUDWATCH: &str = "cloudwatch.amazonaws.com";

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// Some `Allow` may grant `sns:Publish` to `CloudWatch`, and no `Deny` certainly refuses.
    Publishes,
    /// An unconditional `Deny` matches; its `Sid`, if it has one.
    Denied(Option<String>),
    /// No `Allow` grants `sns:Publish` to `CloudWatch`, the account or everyone.
    NotAllowed,
    /// The attribute is not a policy document.
    Unreadable(String),
}

/// The verdict for `topic` (its ARN) in `account`.
pub fn cloudwatch_may_publish(policy: &str, topic: &str, account: &str) -> Verdict {
    let document: Value = match serde_json::from_str(policy) {
        Ok(document) => document,
        Err(error) => return Verdict::Unreadable(error.to_string()),
    };
    let statements = match document.get("Statement") {
        Some(Value::Array(list)) => list.iter().collect(),
        Some(one @ Value::Object(_)) => vec![one],
        _ => return Verdict::Unreadable("no `Statement`".into()),
    };
    let mut allowed = false;
    for statement in statements {
        let matches = action_matches(statement)
            && resource_matches(statement, topic)
            && principal_matches(statement, account);
        if !matches {
            continue;
        }
        let conditional = statement
            .get("Condition")
            .is_some_and(|c| c.as_object().is_none_or(|o| !o.is_empty()));
        match statement.get("Effect").and_then(Value::as_str) {
            Some("Deny") if !conditional => {
                let sid = statement.get("Sid").and_then(Value::as_str);
                return Verdict::Denied(sid.map(ToString::to_string));
            }
            Some("Allow") => allowed = true,
            _ => {}
        }
    }
    if allowed {
        Verdict::Publishes
    } else {
        Verdict::NotAllowed
    }
}

/// A string or a list of strings, as policy elements are written.
fn strings(value: &Value) -> Vec<&str> {
    match value {
        Value::String(s) => vec![s.as_str()],
        Value::Array(list) => list.iter().filter_map(Value::as_str).collect(),
        _ => Vec::new(),
    }
}

/// `Element` matches by `matches`, or `NotElement` fails to; neither present matches
/// when `absent` says so.
fn element(statement: &Value, name: &str, absent: bool, matches: impl Fn(&Value) -> bool) -> bool {
    if let Some(value) = statement.get(name) {
        return matches(value);
    }
    if let Some(value) = statement.get(format!("Not{name}")) {
        return !matches(value);
    }
    absent
}

fn action_matches(statement: &Value) -> bool {
    element(statement, "Action", false, |v| {
        strings(v)
            .iter()
            .any(|a| glob(&a.to_ascii_lowercase(), "sns:publish"))
    })
}

fn resource_matches(statement: &Value, topic: &str) -> bool {
    element(statement, "Resource", true, |v| {
        strings(v).iter().any(|r| glob(r, topic))
    })
}

/// `*`, `{"AWS": "*"}`, the account (`123456789012` or its `root` ARN), or the
/// `CloudWatch` service principal.
fn principal_matches(statement: &Value, account: &str) -> bool {
    let root = format!(":iam::{account}:root");
    element(statement, "Principal", false, |v| match v {
        Value::String(s) => s == "*",
        Value::Object(map) => {
            let aws = map.get("AWS").map(strings).unwrap_or_default();
            let service = map.get("Service").map(strings).unwrap_or_default();
            aws.iter()
                .any(|p| *p == "*" || *p == account || p.ends_with(&root))
                || service.iter().any(|s| *s == CLOUDWATCH || *s == "*")
        }
        _ => false,
    })
}

/// IAM's wildcard match: `*` any run, `?` one character.
fn glob(pattern: &str, text: &str) -> bool {
    let (p, t): (Vec<char>, Vec<char>) = (pattern.chars().collect(), text.chars().collect());
    let (mut i, mut j) = (0, 0);
    let mut star: Option<(usize, usize)> = None;
    while j < t.len() {
        if i < p.len() && (p[i] == '?' || p[i] == t[j]) {
            i += 1;
            j += 1;
        } else if i < p.len() && p[i] == '*' {
            star = Some((i, j));
            i += 1;
        } else if let Some((si, sj)) = star {
            i = si + 1;
            j = sj + 1;
            star = Some((si, sj + 1));
        } else {
            return false;
        }
    }
    p[i..].iter().all(|c| *c == '*')
}

#[cfg(test)]
mod tests {
    use super::*;

    const TOPIC: &str = "arn:aws:sns:us-east-1:123456789012:pager";
    const ACCOUNT: &str = "123456789012";

    fn verdict(policy: &str) -> Verdict {
        cloudwatch_may_publish(policy, TOPIC, ACCOUNT)
    }

    /// The policy SNS gives a new topic (abridged: the same shape, fewer actions).
    const DEFAULT: &str = r#"{"Version":"2008-10-17","Id":"__default_policy_ID","Statement":[{"Sid":"__default_statement_ID","Effect":"Allow","Principal":{"AWS":"*"},"Action":["SNS:GetTopicAttributes","SNS:Subscribe","SNS:Publish"],"Resource":"arn:aws:sns:us-east-1:123456789012:pager","Condition":{"StringEquals":{"AWS:SourceOwner":"123456789012"}}}]}"#;

    #[test]
    fn the_default_policy_lets_cloudwatch_publish() {
        assert_eq!(verdict(DEFAULT), Verdict::Publishes);
    }

    #[test]
    fn an_unconditional_deny_of_cloudwatch_wins() {
        let deny = r#"{"Statement":[{"Effect":"Allow","Principal":"*","Action":"sns:*","Resource":"*"},
            {"Sid":"NoAlarms","Effect":"Deny","Principal":{"Service":["cloudwatch.amazonaws.com"]},"Action":"SNS:Publish","Resource":"arn:aws:sns:us-east-1:123456789012:*"}]}"#;
        assert_eq!(verdict(deny), Verdict::Denied(Some("NoAlarms".into())));
        // A deny of someone else, or under a condition, is not certain to hit CloudWatch.
        let other = deny.replace("cloudwatch.amazonaws.com", "events.amazonaws.com");
        assert_eq!(verdict(&other), Verdict::Publishes);
        let conditional = deny.replace(
            r#""Resource":"arn:aws:sns:us-east-1:123456789012:*"}"#,
            r#""Resource":"*","Condition":{"Bool":{"aws:SecureTransport":"false"}}}"#,
        );
        assert_eq!(verdict(&conditional), Verdict::Publishes);
    }

    #[test]
    fn without_an_allow_for_cloudwatch_nothing_publishes() {
        let s3_only = r#"{"Statement":{"Effect":"Allow","Principal":{"Service":"s3.amazonaws.com"},"Action":"sns:Publish","Resource":"*"}}"#;
        assert_eq!(verdict(s3_only), Verdict::NotAllowed);
        let subscribe_only = DEFAULT.replace(r#","SNS:Publish""#, "");
        assert_eq!(verdict(&subscribe_only), Verdict::NotAllowed);
        let other_topic = DEFAULT.replace(":pager\"", ":other\"");
        assert_eq!(verdict(&other_topic), Verdict::NotAllowed);
        let cloudwatch = r#"{"Statement":[{"Effect":"Allow","Principal":{"Service":"cloudwatch.amazonaws.com"},"Action":"sns:Pub*","Resource":"arn:aws:sns:us-east-1:123456789012:pager"}]}"#;
        assert_eq!(verdict(cloudwatch), Verdict::Publishes);
        let account = r#"{"Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::123456789012:root"},"NotAction":"sns:DeleteTopic"}]}"#;
        assert_eq!(verdict(account), Verdict::Publishes);
    }

    #[test]
    fn what_is_no_policy_says_so() {
        assert!(matches!(verdict("not json"), Verdict::Unreadable(_)));
        assert!(matches!(verdict("{}"), Verdict::Unreadable(_)));
        assert!(glob("a*c?e", "abbbcde"));
        assert!(!glob("a*c", "abd"));
    }
}
