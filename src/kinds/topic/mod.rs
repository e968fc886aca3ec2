//! SNS topics: created, updated (display name, tags) and deleted by their ownership tag.

pub mod model;
pub mod policy;

use super::{
    adopt_tag_ops, changed, created, deleted, quote, tag_fields, tag_ops, Claim, Cx, Fields,
};
use crate::model::{Arn, ResourceId, Topic};
use crate::plan::{ChangeAction, FieldDiff, Op};

pub fn fields(topic: &Topic) -> Fields {
    let Topic {
        name: _,
        display_name,
        tags,
    } = topic;
    let mut fields = Vec::new();
    if let Some(display_name) = display_name {
        fields.push(("display_name".into(), quote(display_name)));
    }
    fields.extend(tag_fields(tags));
    fields
}

pub fn plan(cx: &mut Cx<'_, '_>) {
    let desired = cx.stack.desired;
    let live = cx.stack.live;
    for (name, declared) in &desired.topics {
        let id = ResourceId::Topic(name.clone());
        let Some(live_topic) = live.topics.get(name) else {
            let topic = &declared.value;
            cx.change(
                id,
                ChangeAction::Create,
                created(fields(topic)),
                Vec::new(),
                vec![Op::CreateTopic(topic.clone())],
            );
            continue;
        };
        let claim = cx.claim(&id, &live_topic.owner, declared);
        match (claim, &live_topic.topic) {
            (Claim::Owned, Some(current)) => {
                update(cx, &declared.value, current, &live_topic.arn);
            }
            (Claim::Adopt, Some(current)) => {
                adopt(cx, &declared.value, current, &live_topic.arn);
            }
            // Not read: the reader reads the topics the stacks own or adopt.
            (Claim::Owned | Claim::Adopt, None) | (Claim::Refused, _) => {}
        }
    }
    for (name, live_topic) in &live.topics {
        if cx.owns(&live_topic.owner) && !desired.topics.contains_key(name) {
            let mut fields = live_topic
                .topic
                .as_ref()
                .map(fields)
                .map(deleted)
                .unwrap_or_default();
            fields.push(FieldDiff {
                name: "subscriptions".into(),
                before: Some(format!(
                    "{} (deleted with the topic)",
                    live_topic.subscriptions.len()
                )),
                after: None,
            });
            cx.change(
                ResourceId::Topic(name.clone()),
                ChangeAction::Delete,
                fields,
                Vec::new(),
                vec![Op::DeleteTopic(live_topic.arn.clone())],
            );
        }
    }
}

/// Takes over an untagged topic: the ownership tag (and declared tags) set, the display
/// name updated if it differs, nothing removed.
fn adopt(cx: &mut Cx<'_, '_>, desired: &Topic, live: &Topic, arn: &Arn) {
    let Topic {
        name,
        display_name,
        tags,
    } = desired;
    let mut ops = Vec::new();
    let updates = *display_name != live.display_name;
    if updates {
        ops.push(Op::SetTopicAttributes {
            topic: arn.clone(),
            display_name: display_name.clone(),
        });
    }
    let (tagging, kept) = adopt_tag_ops(arn, tags, &live.tags);
    ops.extend(tagging);
    // Shown with the live tags it keeps, so that only what is set appears.
    let mut after = desired.clone();
    after.tags = live.tags.clone();
    after.tags.extend(tags.clone());
    let id = ResourceId::Topic(name.clone());
    cx.change(
        id.clone(),
        ChangeAction::Adopt,
        changed(&fields(live), &fields(&after)),
        Vec::new(),
        ops,
    );
    cx.adopt_notice(&id, updates, &kept);
}

fn update(cx: &mut Cx<'_, '_>, desired: &Topic, live: &Topic, arn: &Arn) {
    let Topic {
        name,
        display_name,
        tags,
    } = desired;
    let mut ops = Vec::new();
    if *display_name != live.display_name {
        ops.push(Op::SetTopicAttributes {
            topic: arn.clone(),
            display_name: display_name.clone(),
        });
    }
    ops.extend(tag_ops(arn, tags, &live.tags));
    if !ops.is_empty() {
        cx.change(
            ResourceId::Topic(name.clone()),
            ChangeAction::Update,
            changed(&fields(live), &fields(desired)),
            Vec::new(),
            ops,
        );
    }
}
