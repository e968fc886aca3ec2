//! The executor: one planned operation, one AWS call, paced at the operation's quota and
//! retried when AWS throttles or the network fails. No decisions here: the plan already
//! made them, and every value is final by the time an operation arrives.

use std::time::Duration;

use tokio::time::Instant;

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
        // The deadline starts once the call first has its turn: waiting for the pacer
        // is the quota, not a slow endpoint. Later pacer waits and backoffs count.
        let mut first_turn = None;
        let mut last_error = None;
        loop {
            clients.pacer.wait(op.operation()).await;
            let deadline = *first_turn
                .get_or_insert_with(|| self.write_timeout.map(|timeout| Instant::now() + timeout));
            let result = match deadline {
                Some(deadline) => {
                    match tokio::time::timeout_at(deadline, call(clients, op)).await {
                        Ok(result) => result,
                        // Cut short by the deadline: the last attempt's own error says
                        // more (which resource, what the SDK saw) than the cut.
                        Err(_) => Err(last_error
                            .take()
                            .unwrap_or_else(|| timed_out(op, self.write_timeout))),
                    }
                }
                None => call(clients, op).await,
            };
            match result {
                Err(error)
                    if error.is_retryable()
                        && retry_fits(
                            retries,
                            backoff,
                            deadline.map(|d| d.saturating_duration_since(Instant::now())),
                        ) =>
                {
                    tracing::debug!(operation = op.operation(), code = %error.code, retries, "retrying");
                    if error.is_throttling() {
                        clients.pacer.throttled(op.operation());
                    }
                    retries += 1;
                    last_error = Some(error);
                    tokio::time::sleep(backoff).await;
                    backoff = (backoff * 2).min(MAX_BACKOFF);
                }
                result => return Executed { result, retries },
            }
        }
    }
}

/// Whether another attempt is worth making after `retries` retries: the attempts are not
/// spent and, under a deadline `remaining` away, the backoff ends before it. A write
/// that hangs then ends at `--timeout`, as a read does, instead of six attempt timeouts
/// and their backoffs later.
fn retry_fits(retries: u32, backoff: Duration, remaining: Option<Duration>) -> bool {
    retries + 1 < MAX_ATTEMPTS && remaining.is_none_or(|remaining| backoff < remaining)
}

/// The error of a write the deadline cut before any attempt of it failed.
fn timed_out(op: &Op, timeout: Option<Duration>) -> AwsError {
    AwsError::local(
        op.operation(),
        "the request",
        "Timeout",
        format!(
            "no answer within --timeout {} s, retries included",
            timeout.unwrap_or_default().as_secs_f64()
        ),
    )
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_retry_is_made_only_while_attempts_and_the_deadline_allow() {
        let ms = Duration::from_millis;
        // No deadline: the attempt count alone decides.
        assert!(retry_fits(0, ms(250), None));
        assert!(retry_fits(MAX_ATTEMPTS - 2, MAX_BACKOFF, None));
        assert!(!retry_fits(MAX_ATTEMPTS - 1, ms(250), None));
        // A deadline further than the backoff allows a retry; one nearer does not.
        assert!(retry_fits(0, ms(250), Some(ms(251))));
        assert!(!retry_fits(0, ms(250), Some(ms(250))));
        assert!(!retry_fits(1, ms(500), Some(ms(100))));
        assert!(!retry_fits(0, ms(250), Some(Duration::ZERO)));
        // ... but never more attempts than the budget, however far the deadline.
        assert!(!retry_fits(
            MAX_ATTEMPTS - 1,
            ms(250),
            Some(Duration::from_mins(10))
        ));
    }
}
