//! SQS: which of the watched queues exist, and their redrive policies when needed.

use std::collections::{BTreeMap, BTreeSet};

use aws_sdk_sqs::types::QueueAttributeName;
use futures_util::{stream, StreamExt, TryStreamExt};

use super::{AwsError, Clients, CONCURRENCY};
use crate::model::{LiveQueue, QueueDelivery, Redrive};

/// `ListQueues` returns at most 1,000 URLs a page.
const QUEUES_PER_PAGE: i32 = 1000;

/// Which of `names` exist (one `ListQueues` pass, 1,000 a page), with each one's
/// visibility timeout and redrive policy (one `GetQueueAttributes` each, several at
/// once): what happens to a job whose worker dies is shown in every plan. The
/// dead-letter queue of the redrive policy is kept on the queue for those in `redrive`
/// (the recipes and dashboards that take it from there).
pub(super) async fn queues(
    clients: &Clients,
    names: &BTreeSet<String>,
    redrive: &BTreeSet<String>,
) -> Result<(BTreeMap<String, LiveQueue>, BTreeMap<String, QueueDelivery>), AwsError> {
    if names.is_empty() {
        return Ok((BTreeMap::new(), BTreeMap::new()));
    }
    let mut found = BTreeMap::new();
    let mut token: Option<String> = None;
    loop {
        let page = clients
            .sqs
            .list_queues()
            .max_results(QUEUES_PER_PAGE)
            .set_next_token(token.clone())
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("ListQueues", "queues", e))?;
        for url in page.queue_urls() {
            let name = url.rsplit('/').next().unwrap_or_default();
            if names.contains(name) {
                found.insert(
                    name.to_string(),
                    LiveQueue {
                        url: url.clone(),
                        dead_letter_queue: None,
                    },
                );
            }
        }
        token = super::next_page(page.next_token());
        if token.is_none() {
            break;
        }
    }
    let wanted: Vec<(String, String)> = found
        .iter()
        .map(|(name, queue)| (name.clone(), queue.url.clone()))
        .collect();
    let deliveries: Vec<(String, QueueDelivery)> = stream::iter(wanted)
        .map(|(name, url)| async move {
            let output = clients
                .sqs
                .get_queue_attributes()
                .queue_url(&url)
                .attribute_names(QueueAttributeName::VisibilityTimeout)
                .attribute_names(QueueAttributeName::RedrivePolicy)
                .send()
                .await
                .map_err(|e| {
                    AwsError::from_sdk("GetQueueAttributes", format!("queue {name}"), e)
                })?;
            let attribute = |which: &QueueAttributeName| {
                output.attributes().and_then(|a| a.get(which)).cloned()
            };
            let delivery = QueueDelivery {
                // SQS always reports it; 30 s is its default should a server not.
                visibility_timeout: attribute(&QueueAttributeName::VisibilityTimeout)
                    .and_then(|v| v.parse().ok())
                    .unwrap_or(30),
                redrive: attribute(&QueueAttributeName::RedrivePolicy)
                    .as_deref()
                    .and_then(redrive_policy),
            };
            Ok::<_, AwsError>((name, delivery))
        })
        .buffered(CONCURRENCY)
        .try_collect()
        .await?;
    for (name, delivery) in &deliveries {
        if let (Some(queue), true) = (found.get_mut(name), redrive.contains(name)) {
            queue.dead_letter_queue = delivery
                .redrive
                .as_ref()
                .map(|r| r.dead_letter_queue.clone());
        }
    }
    Ok((found, deliveries.into_iter().collect()))
}

/// A redrive policy's DLQ and `maxReceiveCount`. `maxReceiveCount` is a number or a
/// string: AWS's own examples set `"5"`, and AWS and emulators read it back either way.
pub(super) fn redrive_policy(policy: &str) -> Option<Redrive> {
    let value: serde_json::Value = serde_json::from_str(policy).ok()?;
    let count = value.get("maxReceiveCount").and_then(|c| match c {
        serde_json::Value::Number(n) => n.as_u64().and_then(|n| u32::try_from(n).ok()),
        serde_json::Value::String(s) => s.trim().parse().ok(),
        _ => None,
    });
    Some(Redrive {
        dead_letter_queue: dead_letter_queue(policy)?,
        max_receive_count: count,
    })
}

/// The queue name at the end of a redrive policy's `deadLetterTargetArn`. Parsed as
/// JSON: AWS (and emulators) re-serialize the policy with their own spacing.
pub(super) fn dead_letter_queue(policy: &str) -> Option<String> {
    let value: serde_json::Value = serde_json::from_str(policy).ok()?;
    let arn = value.get("deadLetterTargetArn")?.as_str()?;
    arn.rsplit(':').next().map(ToString::to_string)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redrive_policies_are_read_as_json() {
        let policy = r#"{"deadLetterTargetArn": "arn:aws:sqs:us-east-1:123456789012:jobs-dlq", "maxReceiveCount": 5}"#;
        assert_eq!(dead_letter_queue(policy).as_deref(), Some("jobs-dlq"));
        assert_eq!(dead_letter_queue("{}"), None);
        assert_eq!(dead_letter_queue("not json"), None);
    }

    #[test]
    fn the_receive_count_is_a_number_or_a_string() {
        let arn = "arn:aws:sqs:us-east-1:123456789012:jobs-dlq";
        for policy in [
            format!(r#"{{"deadLetterTargetArn": "{arn}", "maxReceiveCount": 5}}"#),
            format!(r#"{{"deadLetterTargetArn": "{arn}", "maxReceiveCount": "5"}}"#),
        ] {
            let redrive = redrive_policy(&policy).unwrap();
            assert_eq!(redrive.dead_letter_queue, "jobs-dlq");
            assert_eq!(redrive.max_receive_count, Some(5), "{policy}");
        }
        let odd = format!(r#"{{"deadLetterTargetArn": "{arn}", "maxReceiveCount": "many"}}"#);
        assert_eq!(redrive_policy(&odd).unwrap().max_receive_count, None);
    }
}
