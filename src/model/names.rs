//! Typed names, so that a topic name is never passed where an alarm name is expected.

use std::fmt;

macro_rules! name_type {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(String);

        impl $name {
            pub fn new(value: impl Into<String>) -> Self {
                Self(value.into())
            }

            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

name_type!(
    /// A stack's name: `[a-z0-9]+(-[a-z0-9]+)*`, the value of the ownership tag.
    StackName
);
name_type!(
    /// An SNS topic's AWS name (not its key).
    TopicName
);
name_type!(
    /// A `CloudWatch` alarm's AWS name (not its key).
    AlarmName
);
name_type!(
    /// An Amazon Resource Name, as AWS returns it.
    Arn
);

impl Arn {
    /// The resource part after `arn:partition:service:region:account:`.
    pub fn resource(&self) -> Option<&str> {
        self.0.splitn(6, ':').nth(5)
    }

    pub fn service(&self) -> Option<&str> {
        self.0.split(':').nth(2)
    }

    /// The alarm name of a `CloudWatch` alarm ARN (`...:alarm:NAME`; names may hold `:`).
    pub fn alarm_name(&self) -> Option<AlarmName> {
        let resource = self.resource()?;
        let name = resource.strip_prefix("alarm:")?;
        (self.service() == Some("cloudwatch")).then(|| AlarmName::new(name))
    }

    /// The topic name of an SNS topic ARN (subscription ARNs have one more `:` part).
    pub fn topic_name(&self) -> Option<TopicName> {
        let resource = self.resource()?;
        (self.service() == Some("sns") && !resource.contains(':')).then(|| TopicName::new(resource))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arn_parts() {
        let alarm = Arn::new("arn:aws:cloudwatch:us-east-1:123456789012:alarm:a:b");
        assert_eq!(alarm.alarm_name(), Some(AlarmName::new("a:b")));
        assert_eq!(alarm.topic_name(), None);
        let topic = Arn::new("arn:aws:sns:us-east-1:123456789012:t");
        assert_eq!(topic.topic_name(), Some(TopicName::new("t")));
        let sub = Arn::new("arn:aws:sns:us-east-1:123456789012:t:0b3c");
        assert_eq!(sub.topic_name(), None);
    }
}
