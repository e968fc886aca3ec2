//! The drill's AWS side: a temporary SQS queue subscribed to the alarms' topics, each
//! alarm set to ALARM and back, and the notification awaited on the queue. What it
//! creates it removes again, and an alarm it set to ALARM it sets back, whatever happens
//! in between ([`Drill::cleanup`]).

use std::collections::BTreeMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use aws_sdk_cloudwatch::types::StateValue;
use aws_sdk_sqs::types::QueueAttributeName;

use super::{connect, AwsError, CallCounter, Clients, ConnectOptions};
use crate::model::{AlarmName, Arn, Endpoint, Protocol, Scope};

/// What the drill set up, to be removed again.
pub struct Drill {
    clients: Clients,
    pub scope: Scope,
    queue_url: Option<String>,
    queue_arn: String,
    subscriptions: Vec<Arn>,
    /// The topics the queue listens to.
    pub topics: Vec<Arn>,
    /// Alarms set to ALARM and not yet set back (interrupted or failed mid-drill), with
    /// the state they had before.
    fired: Mutex<Vec<(AlarmName, StateValue)>>,
}

/// One alarm's outcome on one topic.
#[derive(Clone, Debug, PartialEq)]
pub struct Delivery {
    pub alarm: AlarmName,
    pub topic: Arn,
    /// Seconds from setting ALARM to the message on the queue; `None`: not within the wait.
    pub seconds: Option<f64>,
    /// The topic's other subscribers (`email:oncall@example.com`, `https://host/...`):
    /// whom the drill paged.
    pub others: Vec<String>,
}

impl Drill {
    /// Connects and creates the queue (named `monplan-drill-{stack}-{suffix}`), allowed to
    /// receive from `topics`, and subscribes it to each.
    /// `topics` names the topics once the account is known.
    pub async fn start(
        options: &ConnectOptions,
        region: Option<&str>,
        name: &str,
        topics: impl FnOnce(&Scope) -> Vec<Arn>,
    ) -> Result<Drill, AwsError> {
        let clients = connect(options, region, &CallCounter::default()).await?;
        let scope = clients.scope().await?;
        let topics = topics(&scope);
        let queue_arn = format!(
            "arn:{}:sqs:{}:{}:{name}",
            scope.partition, scope.region, scope.account
        );
        let mut drill = Drill {
            clients,
            scope,
            queue_url: None,
            queue_arn,
            subscriptions: Vec::new(),
            topics: Vec::new(),
            fired: Mutex::new(Vec::new()),
        };
        // SNS may deliver to the queue only from these topics.
        let sources: Vec<String> = topics.iter().map(ToString::to_string).collect();
        drill.topics.clone_from(&topics);
        let policy = serde_json::json!({
            "Version": "2012-10-17",
            "Statement": [{
                "Effect": "Allow",
                "Principal": {"Service": "sns.amazonaws.com"},
                "Action": "sqs:SendMessage",
                "Resource": drill.queue_arn,
                "Condition": {"ArnEquals": {"aws:SourceArn": sources}},
            }],
        });
        let created = drill
            .clients
            .sqs
            .create_queue()
            .queue_name(name)
            .attributes(QueueAttributeName::Policy, policy.to_string())
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("CreateQueue", format!("queue {name}"), e))?;
        drill.queue_url = created.queue_url().map(ToString::to_string);
        for topic in &topics {
            let subscribed = drill
                .clients
                .sns
                .subscribe()
                .topic_arn(topic.as_str())
                .protocol("sqs")
                .endpoint(&drill.queue_arn)
                .return_subscription_arn(true)
                .send()
                .await;
            match subscribed {
                Ok(output) => {
                    if let Some(arn) = output.subscription_arn() {
                        drill.subscriptions.push(Arn::new(arn));
                    }
                }
                Err(e) => {
                    let error = AwsError::from_sdk("Subscribe", format!("{topic} sqs:{name}"), e);
                    // Whatever was made so far goes again.
                    let _ = drill.cleanup().await;
                    return Err(error);
                }
            }
        }
        Ok(drill)
    }

    /// Sets `alarm` to ALARM, waits up to `wait` for its notification from each of
    /// `topics`, and sets it back to the state it had.
    pub async fn fire(
        &self,
        alarm: &AlarmName,
        topics: &[Arn],
        wait: Duration,
        progress: &dyn Fn(&str),
    ) -> Result<Vec<Delivery>, AwsError> {
        let cloudwatch = &self.clients.cloudwatch;
        let before = cloudwatch
            .describe_alarms()
            .alarm_names(alarm.as_str())
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("DescribeAlarms", format!("alarm {alarm}"), e))?;
        let previous = before
            .metric_alarms()
            .first()
            .and_then(|a| a.state_value().cloned())
            .or_else(|| {
                before
                    .composite_alarms()
                    .first()
                    .and_then(|a| a.state_value().cloned())
            })
            .unwrap_or(StateValue::Ok);
        let started = Instant::now();
        cloudwatch
            .set_alarm_state()
            .alarm_name(alarm.as_str())
            .state_value(StateValue::Alarm)
            .state_reason("monplan drill")
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("SetAlarmState", format!("alarm {alarm}"), e))?;
        self.fired_alarms().push((alarm.clone(), previous.clone()));
        let mut arrived: BTreeMap<String, f64> = BTreeMap::new();
        let mut last_shown = 0;
        while arrived.len() < topics.len() && started.elapsed() < wait {
            let waited = started.elapsed().as_secs();
            if waited >= last_shown + 5 {
                last_shown = waited;
                progress(&format!(
                    "alarm \"{alarm}\": waiting for the notification ({waited}s of {}s)",
                    wait.as_secs()
                ));
            }
            for topic in self.receive(alarm).await? {
                arrived
                    .entry(topic)
                    .or_insert_with(|| started.elapsed().as_secs_f64());
            }
        }
        self.set_back(alarm, previous).await?;
        self.fired_alarms().retain(|(fired, _)| fired != alarm);
        let mut deliveries = Vec::new();
        for topic in topics {
            deliveries.push(Delivery {
                alarm: alarm.clone(),
                topic: topic.clone(),
                seconds: arrived.get(topic.as_str()).copied(),
                others: self.others(topic).await?,
            });
        }
        Ok(deliveries)
    }

    fn fired_alarms(&self) -> std::sync::MutexGuard<'_, Vec<(AlarmName, StateValue)>> {
        self.fired
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    async fn set_back(&self, alarm: &AlarmName, previous: StateValue) -> Result<(), AwsError> {
        self.clients
            .cloudwatch
            .set_alarm_state()
            .alarm_name(alarm.as_str())
            .state_value(previous)
            .state_reason("monplan drill: back to the state before the drill")
            .send()
            .await
            .map(|_| ())
            .map_err(|e| AwsError::from_sdk("SetAlarmState", format!("alarm {alarm}"), e))
    }

    /// The topics from which a notification about `alarm` arrived on the queue.
    async fn receive(&self, alarm: &AlarmName) -> Result<Vec<String>, AwsError> {
        let Some(url) = &self.queue_url else {
            return Ok(Vec::new());
        };
        let received = self
            .clients
            .sqs
            .receive_message()
            .queue_url(url)
            .max_number_of_messages(10)
            .wait_time_seconds(1)
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("ReceiveMessage", format!("queue {url}"), e))?;
        let mut topics = Vec::new();
        for message in received.messages() {
            let body: serde_json::Value =
                serde_json::from_str(message.body().unwrap_or("{}")).unwrap_or_default();
            let inner = body["Message"].as_str().unwrap_or_default();
            let about: serde_json::Value = serde_json::from_str(inner).unwrap_or_default();
            let matches = about["AlarmName"].as_str() == Some(alarm.as_str())
                || (about.is_null() && inner.contains(alarm.as_str()));
            if matches {
                if let Some(topic) = body["TopicArn"].as_str() {
                    topics.push(topic.to_string());
                }
            }
            if let Some(handle) = message.receipt_handle() {
                let _ = self
                    .clients
                    .sqs
                    .delete_message()
                    .queue_url(url)
                    .receipt_handle(handle)
                    .send()
                    .await;
            }
        }
        Ok(topics)
    }

    /// The topic's subscribers but the drill's queue, as plans show them.
    async fn others(&self, topic: &Arn) -> Result<Vec<String>, AwsError> {
        let listed = self
            .clients
            .sns
            .list_subscriptions_by_topic()
            .topic_arn(topic.as_str())
            .send()
            .await
            .map_err(|e| AwsError::from_sdk("ListSubscriptionsByTopic", topic.to_string(), e))?;
        Ok(listed
            .subscriptions()
            .iter()
            .filter(|s| s.endpoint() != Some(self.queue_arn.as_str()))
            .filter_map(|s| {
                let protocol = Protocol::parse(s.protocol()?)?;
                let endpoint = Endpoint::observed(protocol, s.endpoint().unwrap_or_default());
                Some(format!("{protocol}:{endpoint}"))
            })
            .collect())
    }

    /// Sets back an alarm left in ALARM (the drill was interrupted or failed while it
    /// waited), then removes the subscriptions and the queue; every step is tried, the
    /// first failure is returned.
    pub async fn cleanup(self) -> Result<(), AwsError> {
        let mut first = None;
        let fired = std::mem::take(&mut *self.fired_alarms());
        for (alarm, previous) in fired {
            if let Err(e) = self.set_back(&alarm, previous).await {
                first.get_or_insert(e);
            }
        }
        for subscription in &self.subscriptions {
            if let Err(e) = self
                .clients
                .sns
                .unsubscribe()
                .subscription_arn(subscription.as_str())
                .send()
                .await
            {
                first.get_or_insert(AwsError::from_sdk(
                    "Unsubscribe",
                    subscription.to_string(),
                    e,
                ));
            }
        }
        if let Some(url) = &self.queue_url {
            if let Err(e) = self.clients.sqs.delete_queue().queue_url(url).send().await {
                first.get_or_insert(AwsError::from_sdk("DeleteQueue", format!("queue {url}"), e));
            }
        }
        first.map_or(Ok(()), Err)
    }
}

/// Keeps the drill's waits in whole seconds, as its progress shows them.
pub fn drill_wait(seconds: u64) -> Duration {
    Duration::from_secs(seconds.max(1))
}
