//! SNS subscriptions: a topic's subscriptions are reconciled to exactly the declared
//! set. Their model lives with the topic's (`topic::model`): a subscription is named by
//! its topic, protocol and endpoint.

use super::{created, deleted, Cx};
use crate::model::{Arn, Endpoint, LiveTopic, Owner, ResourceId, SubscriptionId, TopicName};
use crate::plan::{ChangeAction, Op};

pub fn plan(cx: &mut Cx<'_, '_>) {
    let desired = cx.stack.desired;
    let live = cx.stack.live;
    for name in desired.topics.keys() {
        let declared: Vec<&SubscriptionId> = desired
            .subscriptions
            .keys()
            .filter(|id| id.topic == *name)
            .collect();
        match live.topics.get(name) {
            // A new topic: all of them are new.
            None => {
                let arn = cx.stack.scope.topic_arn(name);
                for id in declared {
                    subscribe(cx, id, &arn);
                }
            }
            // Reconciled only on topics we own (the topic's planner reports the others).
            Some(live_topic) if cx.owns(&live_topic.owner) => {
                reconcile(cx, name, &declared, live_topic, true);
            }
            // An untagged topic being adopted: missing subscriptions are added, none is
            // removed (adoption deletes nothing).
            Some(live_topic)
                if live_topic.owner == Owner::Foreign
                    && cx.adopts(&ResourceId::Topic(name.clone())) =>
            {
                reconcile(cx, name, &declared, live_topic, false);
            }
            Some(_) => {}
        }
    }
}

fn subscribe(cx: &mut Cx<'_, '_>, id: &SubscriptionId, topic: &Arn) {
    let SubscriptionId {
        topic: topic_name,
        protocol,
        endpoint,
    } = id;
    let fields = created(vec![
        ("protocol".into(), protocol.to_string()),
        ("endpoint".into(), endpoint.to_string()),
    ]);
    let op = Op::Subscribe {
        topic: topic.clone(),
        protocol: *protocol,
        endpoint: endpoint.clone(),
    };
    cx.change(
        ResourceId::Subscription(id.clone()),
        ChangeAction::Create,
        fields,
        vec![ResourceId::Topic(topic_name.clone())],
        vec![op],
    );
}

/// Reconciles an owned topic's subscriptions to exactly the declared set; with
/// `deletes` false (adoption), the undeclared ones are kept and said so.
fn reconcile(
    cx: &mut Cx<'_, '_>,
    topic: &TopicName,
    declared: &[&SubscriptionId],
    live: &LiveTopic,
    deletes: bool,
) {
    for id in declared {
        let found = live
            .subscriptions
            .iter()
            .find(|s| s.protocol == id.protocol && s.endpoint == id.endpoint.expose());
        match found {
            None => subscribe(cx, id, &live.arn),
            Some(s) if s.arn.is_none() => cx.notice(
                ResourceId::Subscription((*id).clone()),
                "pending confirmation: AWS sent a confirmation request; it is not re-created"
                    .into(),
            ),
            Some(_) => {}
        }
    }
    for s in &live.subscriptions {
        let wanted = declared
            .iter()
            .any(|id| id.protocol == s.protocol && id.endpoint.expose() == s.endpoint);
        if wanted {
            continue;
        }
        let id = SubscriptionId {
            topic: topic.clone(),
            protocol: s.protocol,
            endpoint: Endpoint::on_topic(s.protocol, &s.endpoint, declared.iter().copied()),
        };
        if !deletes {
            cx.notice(
                ResourceId::Subscription(id),
                "kept: the YAML does not list it and adoption removes nothing; once the topic is owned the next plan removes it unless the YAML lists it".into(),
            );
            continue;
        }
        match &s.arn {
            Some(arn) => {
                let fields = deleted(vec![
                    ("protocol".into(), s.protocol.to_string()),
                    ("endpoint".into(), id.endpoint.to_string()),
                ]);
                cx.change(
                    ResourceId::Subscription(id),
                    ChangeAction::Delete,
                    fields,
                    vec![ResourceId::Topic(topic.clone())],
                    vec![Op::Unsubscribe(arn.clone())],
                );
            }
            None => cx.notice(
                ResourceId::Subscription(id),
                "pending confirmation and no longer declared: AWS cannot delete it until it is confirmed; unconfirmed subscriptions expire after 3 days".into(),
            ),
        }
    }
}
