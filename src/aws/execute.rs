//! The executor: one planned operation, one AWS call, paced at the operation's quota and
//! retried when AWS throttles or the network fails. No decisions here: the plan already
//! made them, and every value is final by the time an operation arrives.

use std::time::Duration;

use super::{
    alarm, dashboard, ecs_scaling, log_metric, policy, query, tagging, topic, AwsError, Clients,
    Connections,
};
use crate::apply::{Executed, Executor};
use crate::plan::{Op, Output};

/// Attempts per call when AWS throttles or the network fails.
const MAX_ATTEMPTS: u32 = 6;
/// First retry delay; doubles each time, capped at [`MAX_BACKOFF`].
const FIRST_BACKOFF: Duration = Duration::from_millis(250);
const MAX_BACKOFF: Duration = Duration::from_secs(8);

impl Executor for Connections {
    async fn execute(&self, region: &str, op: &Op) -> Executed {
        let Some(clients) = self.clients(region) else {
            return Executed {
                result: Err(AwsError::local(
                    op.operation(),
                    format!("region {region}"),
                    "NoClient",
                    format!("no AWS clients for region {region}"),
                )),
                retries: 0,
            };
        };
        let mut backoff = FIRST_BACKOFF;
        let mut retries = 0;
        loop {
            clients.pacer.wait(op.operation()).await;
            match call(clients, op).await {
                Err(error) if error.is_retryable() && retries + 1 < MAX_ATTEMPTS => {
                    tracing::debug!(operation = op.operation(), code = %error.code, retries, "retrying");
                    if error.is_throttling() {
                        clients.pacer.throttled(op.operation());
                    }
                    retries += 1;
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(MAX_BACKOFF);
                }
                result => return Executed { result, retries },
            }
        }
    }
}

/// The one SDK call of `op`. Deleting what is already gone is done, as in Terraform:
/// another apply of the same stack (two CI jobs racing), or a first attempt whose answer
/// was lost, deleted it before us; failing there would stop an apply that has nothing
/// left to do.
async fn call(clients: &Clients, op: &Op) -> Result<Option<Output>, AwsError> {
    match call_once(clients, op).await {
        Err(error) if deletes(op) && error.is_gone() => {
            tracing::debug!(operation = op.operation(), resource = %error.resource, code = %error.code, "already deleted");
            Ok(None)
        }
        result => result,
    }
}

/// Whether `op` deletes something (and nothing else).
fn deletes(op: &Op) -> bool {
    matches!(
        op,
        Op::DeleteTopic(_)
            | Op::Unsubscribe(_)
            | Op::DeleteAlarms(_)
            | Op::DeletePolicy(_)
            | Op::DeleteScalingPolicy(_)
            | Op::DeregisterScalableTarget(_)
            | Op::DeleteMetricFilter(_)
            | Op::DeleteQueryDefinition { .. }
            | Op::DeleteDashboards(_)
    )
}

async fn call_once(clients: &Clients, op: &Op) -> Result<Option<Output>, AwsError> {
    match op {
        Op::CreateTopic(topic) => topic::create_topic(clients, topic).await?,
        Op::SetTopicAttributes {
            topic,
            display_name,
        } => topic::set_display_name(clients, topic, display_name.as_deref()).await?,
        Op::DeleteTopic(topic) => topic::delete_topic(clients, topic).await?,
        Op::Subscribe {
            topic,
            protocol,
            endpoint,
        } => topic::subscribe(clients, topic, *protocol, endpoint).await?,
        Op::Unsubscribe(subscription) => topic::unsubscribe(clients, subscription).await?,
        Op::PutMetricAlarm { alarm, with_tags } => {
            alarm::put_alarm(clients, alarm, *with_tags).await?;
        }
        Op::PutCompositeAlarm { alarm, with_tags } => {
            alarm::put_composite(clients, alarm, *with_tags).await?;
        }
        Op::DeleteAlarms(names) => alarm::delete_alarms(clients, names).await?,
        Op::PutScalingPolicy(put) => {
            let arn = policy::put_policy(clients, put).await?;
            return Ok(arn.map(|arn| Output::PolicyArn(put.policy.clone(), arn)));
        }
        Op::DescribePolicies(reference) => {
            let arn = policy::policy_arn(clients, reference).await?;
            return Ok(Some(Output::PolicyArn(reference.clone(), arn)));
        }
        Op::DeletePolicy(reference) => policy::delete_policy(clients, reference).await?,
        Op::RegisterScalableTarget { target, with_tags } => {
            ecs_scaling::register_target(clients, target, *with_tags).await?;
        }
        Op::PutServiceScalingPolicy(put) => {
            let arn = ecs_scaling::put_policy(clients, put).await?;
            return Ok(Some(Output::ServicePolicyArn(put.policy.clone(), arn)));
        }
        Op::DeleteScalingPolicy(reference) => {
            ecs_scaling::delete_policy(clients, reference).await?;
        }
        Op::DeregisterScalableTarget(service) => {
            ecs_scaling::deregister_target(clients, service).await?;
        }
        Op::PutMetricFilter(filter) => log_metric::put_metric_filter(clients, filter).await?,
        Op::DeleteMetricFilter(reference) => {
            log_metric::delete_metric_filter(clients, reference).await?;
        }
        Op::PutQueryDefinition { definition, id } => {
            query::put_query_definition(clients, definition, id.as_deref()).await?;
        }
        Op::DeleteQueryDefinition { name, id } => {
            query::delete_query_definition(clients, name, id).await?;
        }
        Op::PutDashboard { name, body } => dashboard::put_dashboard(clients, name, body).await?,
        Op::DeleteDashboards(names) => dashboard::delete_dashboards(clients, names).await?,
        Op::TagResource { arn, tags } => tagging::tag(clients, arn, tags).await?,
        Op::UntagResource { arn, keys } => tagging::untag(clients, arn, keys).await?,
    }
    Ok(None)
}
