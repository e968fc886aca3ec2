//! `CloudWatch` dashboards named with a stack's prefix: listed, read, put and deleted.

use std::collections::{BTreeMap, BTreeSet};

use futures_util::{stream, StreamExt, TryStreamExt};

use super::{AwsError, Clients, CONCURRENCY};
use crate::model::StackName;

/// Every dashboard named with a loaded stack's prefix, with its body parsed.
pub(super) async fn dashboards(
    clients: &Clients,
    stacks: &BTreeSet<StackName>,
) -> Result<BTreeMap<String, serde_json::Value>, AwsError> {
    let prefixes: Vec<String> = stacks.iter().map(|s| format!("{s}_")).collect();
    by_prefixes(clients, &prefixes).await
}

/// Every dashboard whose name starts with one of `prefixes`, with its body parsed.
pub(super) async fn by_prefixes(
    clients: &Clients,
    prefixes: &[String],
) -> Result<BTreeMap<String, serde_json::Value>, AwsError> {
    let mut names = BTreeSet::new();
    for prefix in prefixes {
        let mut token: Option<String> = None;
        loop {
            clients.pacer.wait("ListDashboards").await;
            let page = clients
                .cloudwatch
                .list_dashboards()
                .dashboard_name_prefix(prefix.as_str())
                .set_next_token(token.clone())
                .send()
                .await
                .map_err(|e| {
                    AwsError::from_sdk("ListDashboards", format!("dashboards {prefix}*"), e)
                })?;
            names.extend(
                page.dashboard_entries()
                    .iter()
                    .filter_map(|e| e.dashboard_name())
                    // The prefix filter is the API's; checked again in case it is ignored.
                    .filter(|n| n.starts_with(prefix.as_str()))
                    .map(ToString::to_string),
            );
            token = page.next_token().map(ToString::to_string);
            if token.is_none() {
                break;
            }
        }
    }
    stream::iter(names)
        .map(|name| async move {
            clients.pacer.wait("GetDashboard").await;
            let output = clients
                .cloudwatch
                .get_dashboard()
                .dashboard_name(&name)
                .send()
                .await
                .map_err(|e| AwsError::from_sdk("GetDashboard", format!("dashboard {name}"), e))?;
            // A body that is not JSON compares unequal to ours and gets replaced.
            let body = serde_json::from_str(output.dashboard_body().unwrap_or("{}"))
                .unwrap_or(serde_json::Value::Null);
            Ok::<_, AwsError>((name, body))
        })
        .buffered(CONCURRENCY)
        .try_collect()
        .await
}

pub(super) async fn put_dashboard(
    clients: &Clients,
    name: &str,
    body: &str,
) -> Result<(), AwsError> {
    clients
        .cloudwatch
        .put_dashboard()
        .dashboard_name(name)
        .dashboard_body(body)
        .send()
        .await
        .map_err(|e| AwsError::from_sdk("PutDashboard", format!("dashboard {name}"), e))?;
    Ok(())
}

/// Deletes the dashboards. AWS deletes none of a batch that names one that no longer
/// exists (`ResourceNotFound`), so such a batch is deleted one by one, where the caller
/// counts a gone one as deleted.
pub(super) async fn delete_dashboards(clients: &Clients, names: &[String]) -> Result<(), AwsError> {
    match delete_dashboards_call(clients, names).await {
        Err(error) if error.is_not_found() && names.len() > 1 => {
            for name in names {
                match delete_dashboards_call(clients, std::slice::from_ref(name)).await {
                    Err(error) if error.is_not_found() => {}
                    result => result?,
                }
            }
            Ok(())
        }
        result => result,
    }
}

async fn delete_dashboards_call(clients: &Clients, names: &[String]) -> Result<(), AwsError> {
    clients
        .cloudwatch
        .delete_dashboards()
        .set_dashboard_names(Some(names.to_vec()))
        .send()
        .await
        .map_err(|e| {
            AwsError::from_sdk(
                "DeleteDashboards",
                format!("dashboard {}", names.join(", ")),
                e,
            )
        })?;
    Ok(())
}
