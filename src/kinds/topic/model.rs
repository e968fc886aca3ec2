use std::cmp::Ordering;
use std::fmt;

use crate::model::{Tags, TopicName};

#[derive(Clone, Debug, PartialEq)]
pub struct Topic {
    pub name: TopicName,
    /// `None` and an empty display name are the same to AWS; both normalize to `None`.
    pub display_name: Option<String>,
    pub tags: Tags,
}

/// SNS subscription protocols the contract lists.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Protocol {
    Email,
    EmailJson,
    Http,
    Https,
    Sqs,
    Lambda,
    Sms,
}

impl Protocol {
    pub const ALL: [Protocol; 7] = [
        Protocol::Email,
        Protocol::EmailJson,
        Protocol::Http,
        Protocol::Https,
        Protocol::Sqs,
        Protocol::Lambda,
        Protocol::Sms,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Protocol::Email => "email",
            Protocol::EmailJson => "email-json",
            Protocol::Http => "http",
            Protocol::Https => "https",
            Protocol::Sqs => "sqs",
            Protocol::Lambda => "lambda",
            Protocol::Sms => "sms",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|p| p.as_str() == text)
    }
}

impl fmt::Display for Protocol {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A subscription endpoint. When it was written with `${env:NAME}` it is a secret: it is
/// compared by value but only ever displayed as written, `(sensitive: ${env:NAME})`.
#[derive(Clone)]
pub struct Endpoint {
    value: String,
    /// The YAML text with its `${env:...}` references, for secrets; `None` for literals.
    written: Option<String>,
}

impl Endpoint {
    pub fn literal(value: impl Into<String>) -> Self {
        Self {
            value: value.into(),
            written: None,
        }
    }

    /// An endpoint whose `written` form references the environment and whose value was
    /// read from it.
    pub fn sensitive(written: impl Into<String>, value: impl Into<String>) -> Self {
        Self {
            value: value.into(),
            written: Some(written.into()),
        }
    }

    /// The real value, for AWS requests and comparisons only; never print it.
    pub fn expose(&self) -> &str {
        &self.value
    }

    pub fn is_sensitive(&self) -> bool {
        self.written.is_some()
    }
}

/// Debug output ends up in logs: it must redact exactly like Display.
impl fmt::Debug for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Endpoint({self})")
    }
}

impl PartialEq for Endpoint {
    fn eq(&self, other: &Self) -> bool {
        self.value == other.value
    }
}

impl Eq for Endpoint {}

impl PartialOrd for Endpoint {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Endpoint {
    fn cmp(&self, other: &Self) -> Ordering {
        self.value.cmp(&other.value)
    }
}

impl std::hash::Hash for Endpoint {
    fn hash<H: std::hash::Hasher>(&self, state: &mut H) {
        self.value.hash(state);
    }
}

impl fmt::Display for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.written {
            Some(written) => write!(f, "(sensitive: {written})"),
            None => f.write_str(&self.value),
        }
    }
}

/// A subscription's identity: on which topic, by which protocol, to where.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct SubscriptionId {
    pub topic: TopicName,
    pub protocol: Protocol,
    pub endpoint: Endpoint,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Subscription {
    pub id: SubscriptionId,
}

impl Endpoint {
    /// An endpoint read from AWS that no stack declares (it is about to be deleted). It
    /// may have been a secret that has since left the YAML, so URLs, whose paths and
    /// queries carry webhook tokens, are shown with only scheme and host.
    pub fn observed(protocol: Protocol, value: impl Into<String>) -> Self {
        let value = value.into();
        if !matches!(protocol, Protocol::Http | Protocol::Https) {
            return Self::literal(value);
        }
        let (scheme, rest) = value.split_once("://").unwrap_or(("", value.as_str()));
        let host = rest.split(['/', '?', '#']).next().unwrap_or("");
        let host = host.rsplit('@').next().unwrap_or(host);
        let shown = format!("{scheme}://{host}/...");
        Self::sensitive(shown, value.clone())
    }

    /// A live endpoint of a topic whose declared subscriptions are `declared`, as it may
    /// be shown: a declared one as the YAML writes it (redacted when it comes from
    /// `${env:...}`); an undeclared one as [`Endpoint::observed`], unless the YAML reads an
    /// endpoint of the same protocol from the environment. Then it may be that secret's
    /// previous value (rotated, or the variable set wrong), whatever the protocol, and
    /// only its email domain (or nothing) is shown.
    pub fn on_topic<'a>(
        protocol: Protocol,
        value: &str,
        declared: impl IntoIterator<Item = &'a SubscriptionId>,
    ) -> Self {
        let mut from_env = false;
        for id in declared {
            if id.protocol != protocol {
                continue;
            }
            if id.endpoint.expose() == value {
                return id.endpoint.clone();
            }
            from_env |= id.endpoint.is_sensitive();
        }
        match protocol {
            Protocol::Http | Protocol::Https => Self::observed(protocol, value),
            _ if !from_env => Self::literal(value),
            Protocol::Email | Protocol::EmailJson => {
                let domain = value.rsplit_once('@').map_or("", |(_, domain)| domain);
                Self::sensitive(format!("...@{domain}"), value)
            }
            Protocol::Sqs | Protocol::Lambda | Protocol::Sms => Self::sensitive("...", value),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secret_endpoints_compare_by_value_and_never_display() {
        let secret = Endpoint::sensitive("${env:HOOK}", "https://hooks.example.com/T0/secret");
        let live = Endpoint::literal("https://hooks.example.com/T0/secret");
        assert_eq!(secret, live);
        assert_eq!(secret.to_string(), "(sensitive: ${env:HOOK})");
        assert!(!format!("{secret:?}").contains("secret"));
        assert!(!secret.to_string().contains("secret"));
    }

    #[test]
    fn a_live_endpoint_beside_one_from_the_environment_is_redacted() {
        let id = |protocol, endpoint| SubscriptionId {
            topic: TopicName::new("t".to_string()),
            protocol,
            endpoint,
        };
        let declared = [
            id(
                Protocol::Email,
                Endpoint::sensitive("${env:PAGER}", "pager-new@example.com"),
            ),
            id(Protocol::Sms, Endpoint::literal("+15550100")),
        ];
        let shown = |protocol, value| Endpoint::on_topic(protocol, value, &declared).to_string();
        // Declared: as the YAML writes it.
        assert_eq!(
            shown(Protocol::Email, "pager-new@example.com"),
            "(sensitive: ${env:PAGER})"
        );
        assert_eq!(shown(Protocol::Sms, "+15550100"), "+15550100");
        // Undeclared beside an endpoint from the environment: maybe its old value.
        assert_eq!(
            shown(Protocol::Email, "pager-old@example.com"),
            "(sensitive: ...@example.com)"
        );
        // Undeclared, no protocol from the environment: shown, except URLs' paths.
        assert_eq!(shown(Protocol::Sms, "+15550199"), "+15550199");
        assert_eq!(
            shown(Protocol::Https, "https://h.example.com/T0/secret?x=1"),
            "(sensitive: https://h.example.com/...)"
        );
        assert_eq!(
            shown(Protocol::Lambda, "arn:aws:lambda:us-east-1:1:function:f"),
            "arn:aws:lambda:us-east-1:1:function:f"
        );
    }
}
