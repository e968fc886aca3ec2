//! SNS topics and their subscriptions: read only for the topics a plan is about, and
//! written with the topic and subscription calls.

use std::collections::{BTreeMap, BTreeSet};

use super::read::owner_of;
use super::{AwsError, Clients};
use futures_util::{stream, StreamExt};

use crate::model::{
    Arn, Endpoint, ForeignTopic, LiveSubscription, LiveTopic, Owner, Protocol, Scope, StackName,
    Tags, Topic, TopicName,
};

/// One topic: `known` when the tag query found it (with its tags), otherwise probed by
/// ARN. Attributes and subscriptions are read only for topics a loaded stack owns, or,
/// with `adopt`, that carry no ownership tag (a stack is about to adopt them).
pub(super) async fn read_topic(
    clients: &Clients,
    scope: &Scope,
    name: &TopicName,
    known: Option<(Arn, Tags)>,
    stacks: &BTreeSet<StackName>,
    adopt: bool,
) -> Result<Option<LiveTopic>, AwsError> {
    let (arn, tags, attributes) = if let Some((arn, tags)) = known {
        (arn, tags, None)
    } else {
        let arn = scope.topic_arn(name);
        let attributes = match topic_attributes(clients, &arn).await {
            Ok(attributes) => attributes,
            Err(error) if error.is_not_found() => return Ok(None),
            Err(error) => return Err(error),
        };
        let tags = sns_tags(clients, &arn).await?;
        (arn, tags, Some(attributes))
    };
    let owner = owner_of(&tags);
    let ours = matches!(&owner, Owner::Stack(s) if stacks.contains(s));
    let adopted = adopt && owner == Owner::Foreign;
    if !(ours || adopted) {
        return Ok(Some(LiveTopic {
            arn,
            owner,
            topic: None,
            subscriptions: Vec::new(),
        }));
    }
    let attributes = match attributes {
        Some(attributes) => attributes,
        None => topic_attributes(clients, &arn).await?,
    };
    let subscriptions = subscriptions(clients, &arn).await?;
    let topic = Topic {
        name: name.clone(),
        display_name: attributes
            .get("DisplayName")
            .filter(|d| !d.is_empty())
            .cloned(),
        tags,
    };
    Ok(Some(LiveTopic {
        arn,
        owner,
        topic: Some(topic),
        subscriptions,
    }))
}

/// The access policy of each topic alarm actions name by ARN that monplan did not
/// create, one `GetTopicAttributes` each. Never fails: a failed read is recorded as
/// such, so the plan warns that the check could not be made rather than passing it.
pub(super) async fn foreign_policies(
    clients: &Clients,
    arns: Vec<Arn>,
) -> BTreeMap<Arn, ForeignTopic> {
    stream::iter(arns)
        .map(|arn| async move {
            let topic = match topic_attributes(clients, &arn).await {
                Ok(attributes) => {
                    // AWS always sets one; a topic without is one nothing may publish to.
                    ForeignTopic::Policy(attributes.get("Policy").cloned().unwrap_or_default())
                }
                Err(error) if error.is_not_found() => ForeignTopic::Missing,
                Err(error) => ForeignTopic::Unread(error.to_string()),
            };
            (arn, topic)
        })
        .buffered(super::CONCURRENCY)
        .collect()
        .await
}

pub(super) async fn topic_attributes(
    clients: &Clients,
    arn: &Arn,
) -> Result<BTreeMap<String, String>, AwsError> {
    let output = clients
        .sns
        .get_topic_attributes()
        .topic_arn(arn.as_str())
        .send()
        .await
        .map_err(|e| AwsError::from_sdk("GetTopicAttributes", arn.to_string(), e))?;
    Ok(output
        .attributes()
        .map(|a| a.iter().map(|(k, v)| (k.clone(), v.clone())).collect())
        .unwrap_or_default())
}

pub(super) async fn sns_tags(clients: &Clients, arn: &Arn) -> Result<Tags, AwsError> {
    let output = clients
        .sns
        .list_tags_for_resource()
        .resource_arn(arn.as_str())
        .send()
        .await
        .map_err(|e| AwsError::from_sdk("ListTagsForResource", arn.to_string(), e))?;
    Ok(output
        .tags()
        .iter()
        .map(|t| (t.key().to_string(), t.value().to_string()))
        .collect())
}

pub(super) async fn subscriptions(
    clients: &Clients,
    topic: &Arn,
) -> Result<Vec<LiveSubscription>, AwsError> {
    let mut found = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let page = clients
            .sns
            .list_subscriptions_by_topic()
            .topic_arn(topic.as_str())
            .set_next_token(token.clone())
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("ListSubscriptionsByTopic", topic.to_string(), e))?;
        for s in page.subscriptions() {
            // Protocols the contract does not list (application, firehose) are left alone.
            let Some(protocol) = s.protocol().and_then(Protocol::parse) else {
                tracing::debug!(topic = %topic, protocol = ?s.protocol(), "ignoring subscription of an unmanaged protocol");
                continue;
            };
            let arn = match s.subscription_arn() {
                Some("PendingConfirmation") | None => None,
                Some("Deleted") => continue,
                Some(arn) => Some(Arn::new(arn)),
            };
            found.push(LiveSubscription {
                protocol,
                endpoint: s.endpoint().unwrap_or_default().to_string(),
                arn,
            });
        }
        token = page.next_token().map(ToString::to_string);
        if token.is_none() {
            break;
        }
    }
    Ok(found)
}

pub(super) fn sns_tag(key: &str, value: &str) -> Result<aws_sdk_sns::types::Tag, AwsError> {
    aws_sdk_sns::types::Tag::builder()
        .key(key)
        .value(value)
        .build()
        .map_err(|e| AwsError::local("TagResource", key.to_string(), "InvalidTag", e.to_string()))
}

pub(super) async fn create_topic(clients: &Clients, topic: &Topic) -> Result<(), AwsError> {
    let Topic {
        name,
        display_name,
        tags,
    } = topic;
    let mut request = clients.sns.create_topic().name(name.as_str());
    if let Some(display_name) = display_name {
        request = request.attributes("DisplayName", display_name);
    }
    for (key, value) in tags {
        request = request.tags(sns_tag(key, value)?);
    }
    request
        .send()
        .await
        .map_err(|e| AwsError::from_sdk("CreateTopic", format!("topic {name}"), e))?;
    Ok(())
}

pub(super) async fn set_display_name(
    clients: &Clients,
    topic: &Arn,
    display_name: Option<&str>,
) -> Result<(), AwsError> {
    clients
        .sns
        .set_topic_attributes()
        .topic_arn(topic.as_str())
        .attribute_name("DisplayName")
        .attribute_value(display_name.unwrap_or_default())
        .send()
        .await
        .map_err(|e| AwsError::from_sdk("SetTopicAttributes", topic.to_string(), e))?;
    Ok(())
}

pub(super) async fn delete_topic(clients: &Clients, topic: &Arn) -> Result<(), AwsError> {
    clients
        .sns
        .delete_topic()
        .topic_arn(topic.as_str())
        .send()
        .await
        .map_err(|e| AwsError::from_sdk("DeleteTopic", topic.to_string(), e))?;
    Ok(())
}

pub(super) async fn subscribe(
    clients: &Clients,
    topic: &Arn,
    protocol: Protocol,
    endpoint: &Endpoint,
) -> Result<(), AwsError> {
    clients
        .sns
        .subscribe()
        .topic_arn(topic.as_str())
        .protocol(protocol.as_str())
        .endpoint(endpoint.expose())
        .return_subscription_arn(true)
        .send()
        .await
        .map_err(|e| {
            let mut error =
                AwsError::from_sdk("Subscribe", format!("{topic} {protocol}:{endpoint}"), e);
            // AWS quotes rejected endpoints in its message; a secret must not leak that way.
            if endpoint.is_sensitive() {
                error.message = error
                    .message
                    .replace(endpoint.expose(), &endpoint.to_string());
            }
            error
        })?;
    Ok(())
}

pub(super) async fn unsubscribe(clients: &Clients, subscription: &Arn) -> Result<(), AwsError> {
    clients
        .sns
        .unsubscribe()
        .subscription_arn(subscription.as_str())
        .send()
        .await
        .map_err(|e| AwsError::from_sdk("Unsubscribe", subscription.to_string(), e))?;
    Ok(())
}
