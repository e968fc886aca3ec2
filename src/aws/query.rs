//! Logs Insights query definitions named with a stack's prefix `{stack}/`: listed,
//! put (created, or updated by their id) and deleted. Neither moto nor `LocalStack`
//! implements these calls; they are tested against recorded responses.

use std::collections::{BTreeMap, BTreeSet};

use super::{AwsError, Clients};
use crate::model::{LiveQuery, QueryDefinition, StackName};

/// `DescribeQueryDefinitions` returns at most 1,000 a page.
const PAGE: i32 = 1000;

/// The stacks' query definitions by name. When no stack declares queries, a failure to
/// list (no permission, or an endpoint without the API) is a warning: leftovers of a
/// removed `queries:` block would then not be deleted.
pub(super) async fn owned_queries(
    clients: &Clients,
    stacks: &BTreeSet<StackName>,
    required: bool,
) -> Result<(BTreeMap<String, Vec<LiveQuery>>, Vec<String>), AwsError> {
    match queries(clients, stacks).await {
        Ok(found) => Ok((found, Vec::new())),
        Err(error) if !required => Ok((
            BTreeMap::new(),
            vec![format!("cannot list saved queries ({error}); queries of a removed `queries` entry would not be deleted (skip the kind with --exclude queries)")],
        )),
        Err(error) => Err(error.suggest_exclude("queries")),
    }
}

async fn queries(
    clients: &Clients,
    stacks: &BTreeSet<StackName>,
) -> Result<BTreeMap<String, Vec<LiveQuery>>, AwsError> {
    let mut found: BTreeMap<String, Vec<LiveQuery>> = BTreeMap::new();
    for stack in stacks {
        let prefix = format!("{stack}/");
        let mut token: Option<String> = None;
        loop {
            let page = clients
                .logs
                .describe_query_definitions()
                .query_definition_name_prefix(&prefix)
                .max_results(PAGE)
                .set_next_token(token.clone())
                .send()
                .await
                .map_err(|e| {
                    AwsError::from_sdk(
                        "DescribeQueryDefinitions",
                        format!("saved queries {prefix}*"),
                        e,
                    )
                })?;
            for definition in page.query_definitions() {
                let (Some(id), Some(name)) = (definition.query_definition_id(), definition.name())
                else {
                    continue;
                };
                // The prefix filter is the API's; checked again in case it is ignored.
                if !name.starts_with(&prefix) {
                    continue;
                }
                let mut log_groups: Vec<String> = definition.log_group_names().to_vec();
                log_groups.sort();
                log_groups.dedup();
                found.entry(name.to_string()).or_default().push(LiveQuery {
                    id: id.to_string(),
                    definition: QueryDefinition {
                        name: name.to_string(),
                        log_groups,
                        query: definition.query_string().unwrap_or_default().to_string(),
                    },
                });
            }
            token = super::next_page(page.next_token());
            if token.is_none() {
                break;
            }
        }
    }
    for copies in found.values_mut() {
        copies.sort_by(|a, b| a.id.cmp(&b.id));
    }
    Ok(found)
}

pub(super) async fn put_query_definition(
    clients: &Clients,
    definition: &QueryDefinition,
    id: Option<&str>,
) -> Result<(), AwsError> {
    let QueryDefinition {
        name,
        log_groups,
        query,
    } = definition;
    clients
        .logs
        .put_query_definition()
        .name(name)
        .set_query_definition_id(id.map(ToString::to_string))
        .set_log_group_names(Some(log_groups.clone()))
        .query_string(query)
        .send()
        .await
        .map_err(|e| {
            AwsError::from_sdk("PutQueryDefinition", format!("query {name}"), e)
                .suggest_exclude("queries")
        })?;
    Ok(())
}

pub(super) async fn delete_query_definition(
    clients: &Clients,
    name: &str,
    id: &str,
) -> Result<(), AwsError> {
    clients
        .logs
        .delete_query_definition()
        .query_definition_id(id)
        .send()
        .await
        .map_err(|e| {
            AwsError::from_sdk("DeleteQueryDefinition", format!("query {name} ({id})"), e)
        })?;
    Ok(())
}
