//! SQS: which of the watched queues exist, and their redrive policies when needed.

use std::collections::{BTreeMap, BTreeSet};

use aws_sdk_sqs::types::QueueAttributeName;
use futures_util::{stream, StreamExt, TryStreamExt};

use super::{AwsError, Clients, CONCURRENCY};
use crate::model::LiveQueue;

/// `ListQueues` returns at most 1,000 URLs a page.
const QUEUES_PER_PAGE: i32 = 1000;

/// Which of `names` exist (one `ListQueues` pass, 1,000 a page), and for those in
/// `redrive` the dead-letter queue named by their redrive policy.
pub(super) async fn queues(
    clients: &Clients,
    names: &BTreeSet<String>,
    redrive: &BTreeSet<String>,
) -> Result<BTreeMap<String, LiveQueue>, AwsError> {
    if names.is_empty() {
        return Ok(BTreeMap::new());
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
        .filter(|(name, _)| redrive.contains(*name))
        .map(|(name, queue)| (name.clone(), queue.url.clone()))
        .collect();
    let dlqs: Vec<(String, Option<String>)> = stream::iter(wanted)
        .map(|(name, url)| async move {
            let output = clients
                .sqs
                .get_queue_attributes()
                .queue_url(&url)
                .attribute_names(QueueAttributeName::RedrivePolicy)
                .send()
                .await
                .map_err(|e| {
                    AwsError::from_sdk("GetQueueAttributes", format!("queue {name}"), e)
                })?;
            let policy = output
                .attributes()
                .and_then(|a| a.get(&QueueAttributeName::RedrivePolicy))
                .cloned();
            Ok::<_, AwsError>((name, policy.as_deref().and_then(dead_letter_queue)))
        })
        .buffered(CONCURRENCY)
        .try_collect()
        .await?;
    for (name, dlq) in dlqs {
        if let Some(queue) = found.get_mut(&name) {
            queue.dead_letter_queue = dlq;
        }
    }
    Ok(found)
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
}
