//! The Resource Groups Tagging API: one query finds everything the stacks own by tag,
//! and tags of existing resources are set and removed through each service's API.

use std::collections::BTreeSet;

use super::alarm::cloudwatch_tag;
use super::topic::sns_tag;
use super::{AwsError, Clients};
use crate::model::{Arn, StackName, Tags, OWNER_TAG};

/// The tagging API accepts at most 20 values per tag filter.
const TAG_VALUES_PER_FILTER: usize = 20;

/// Every alarm and topic tagged as owned by one of `stacks`, with all its tags.
pub(super) async fn owned_resources(
    clients: &Clients,
    stacks: &BTreeSet<StackName>,
) -> Result<Vec<(Arn, Tags)>, AwsError> {
    let names: Vec<String> = stacks.iter().map(ToString::to_string).collect();
    let mut found = Vec::new();
    for values in names.chunks(TAG_VALUES_PER_FILTER) {
        let filter = aws_sdk_resourcegroupstagging::types::TagFilter::builder()
            .key(OWNER_TAG)
            .set_values(Some(values.to_vec()))
            .build();
        found.extend(
            alarms_and_topics(clients, filter, format!("resources tagged {OWNER_TAG}")).await?,
        );
    }
    Ok(found)
}

/// Every alarm and topic tagged `key = value`, with all its tags.
pub(super) async fn tagged(
    clients: &Clients,
    key: &str,
    value: &str,
) -> Result<Vec<(Arn, Tags)>, AwsError> {
    let filter = aws_sdk_resourcegroupstagging::types::TagFilter::builder()
        .key(key)
        .values(value)
        .build();
    alarms_and_topics(clients, filter, format!("resources tagged {key}={value}")).await
}

/// The alarms and topics one tag filter matches, every page, with all their tags.
async fn alarms_and_topics(
    clients: &Clients,
    filter: aws_sdk_resourcegroupstagging::types::TagFilter,
    resource: String,
) -> Result<Vec<(Arn, Tags)>, AwsError> {
    let mut found = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let page = clients
            .tagging
            .get_resources()
            .tag_filters(filter.clone())
            .resource_type_filters("cloudwatch:alarm")
            .resource_type_filters("sns")
            .resources_per_page(100)
            .set_pagination_token(token.clone())
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("GetResources", resource.clone(), e))?;
        for mapping in page.resource_tag_mapping_list() {
            let Some(arn) = mapping.resource_arn() else {
                continue;
            };
            let tags: Tags = mapping
                .tags()
                .iter()
                .map(|t| (t.key().to_string(), t.value().to_string()))
                .collect();
            found.push((Arn::new(arn), tags));
        }
        token = super::next_page(page.pagination_token());
        if token.is_none() {
            break;
        }
    }
    Ok(found)
}

pub(super) async fn tag(clients: &Clients, arn: &Arn, tags: &Tags) -> Result<(), AwsError> {
    if arn.service() == Some("sns") {
        let mut request = clients.sns.tag_resource().resource_arn(arn.as_str());
        for (key, value) in tags {
            request = request.tags(sns_tag(key, value)?);
        }
        request
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("TagResource", arn.to_string(), e))?;
    } else {
        let mut request = clients.cloudwatch.tag_resource().resource_arn(arn.as_str());
        for (key, value) in tags {
            request = request.tags(cloudwatch_tag(key, value));
        }
        request
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("TagResource", arn.to_string(), e))?;
    }
    Ok(())
}

pub(super) async fn untag(clients: &Clients, arn: &Arn, keys: &[String]) -> Result<(), AwsError> {
    if arn.service() == Some("sns") {
        clients
            .sns
            .untag_resource()
            .resource_arn(arn.as_str())
            .set_tag_keys(Some(keys.to_vec()))
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("UntagResource", arn.to_string(), e))?;
    } else {
        clients
            .cloudwatch
            .untag_resource()
            .resource_arn(arn.as_str())
            .set_tag_keys(Some(keys.to_vec()))
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("UntagResource", arn.to_string(), e))?;
    }
    Ok(())
}
