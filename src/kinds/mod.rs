//! One module per resource kind. A kind owns its canonical model (`model.rs`, the type
//! that desired and live state share), how it shows as fields, how desired and live are
//! compared (destructured exhaustively, so that a new field is a compile error until it
//! is diffed), and the changes and operations that reconcile them. Its AWS calls live in
//! the matching file under `src/aws/`.
//!
//! Adding a kind is one new module here and one line in [`KINDS`] (plus its
//! [`ResourceKind`] variant, operations and AWS file): see `docs/adding-a-kind.md`.

pub mod alarm;
pub mod dashboard;
pub mod ecs_scaling;
pub mod log_metric;
pub mod policy;
pub mod query;
pub mod subscription;
pub mod topic;

use std::collections::{BTreeMap, BTreeSet};

use crate::diag::{codes, Diagnostic};
use crate::model::{Arn, Declared, Owner, ResourceId, StackName, Tags};
use crate::plan::{Change, ChangeAction, FieldDiff, Notice, Op, Plan};
use crate::resolve::ResolvedStack;

/// Every kind's planner, registered once. Each reconciles its kind for one stack; the
/// order does not matter (changes are ordered from their references afterwards).
pub const KINDS: &[fn(&mut Cx<'_, '_>)] = &[
    topic::plan,
    subscription::plan,
    policy::plan,
    ecs_scaling::plan,
    log_metric::plan,
    query::plan,
    alarm::plan,
    dashboard::plan,
];

/// What a kind's planner works with: one resolved stack, and the plan being built.
pub struct Cx<'s, 'p> {
    pub stack: &'s ResolvedStack<'s>,
    pub plan: &'p mut Plan,
}

impl Cx<'_, '_> {
    pub fn name(&self) -> &StackName {
        self.stack.name()
    }

    /// Whether a live resource is tagged as this stack's.
    pub fn owns(&self, owner: &Owner) -> bool {
        *owner == Owner::Stack(self.name().clone())
    }

    /// The prefix that proves ownership of kinds that cannot be tagged: `{stack}_`.
    pub fn prefix(&self) -> String {
        format!("{}_", self.name())
    }

    pub fn change(
        &mut self,
        resource: ResourceId,
        action: ChangeAction,
        fields: Vec<FieldDiff>,
        depends_on: Vec<ResourceId>,
        ops: Vec<Op>,
    ) -> &mut Change {
        let change = Change {
            stack: self.name().clone(),
            region: self.stack.scope.region.clone(),
            resource,
            action,
            fields,
            body_diff: None,
            depends_on,
            ops,
        };
        self.plan.changes.push(change);
        let last = self.plan.changes.len() - 1;
        &mut self.plan.changes[last]
    }

    pub fn notice(&mut self, subject: impl std::fmt::Display, message: String) {
        self.plan.notices.push(Notice {
            stack: self.name().clone(),
            subject: subject.to_string(),
            message,
        });
    }

    /// Whether the declared resource `id` says `adopt: true`.
    pub fn adopts(&self, id: &ResourceId) -> bool {
        self.stack.desired.adopt.contains(id)
    }

    /// What the plan may do with a declared resource that exists under its name: manage
    /// it (ours), adopt it (untagged and declared with `adopt: true`), or nothing (a plan
    /// error: tagged for another stack, or untagged without `adopt`). Never an overwrite.
    pub fn claim<T>(&mut self, id: &ResourceId, owner: &Owner, declared: &Declared<T>) -> Claim {
        let stack = self.name().clone();
        let kind = id.kind();
        let name = match id {
            ResourceId::Topic(name) => name.to_string(),
            ResourceId::Alarm(name) | ResourceId::CompositeAlarm(name) => name.to_string(),
            other => other.to_string(),
        };
        let adopt = self.adopts(id);
        match owner {
            Owner::Stack(s) if *s == stack => {
                if adopt {
                    self.notice(
                        id,
                        "already owned by this stack; `adopt: true` has nothing left to do and can be removed".into(),
                    );
                }
                Claim::Owned
            }
            Owner::Stack(other) => {
                self.plan.errors.push(
                    Diagnostic::error(codes::OWNED_ELSEWHERE, format!("{kind} `{name}` belongs to monplan stack `{other}`"))
                        .at(declared.origin, format!("declared here by stack `{stack}`"))
                        .note(format!("it is tagged monplan:stack={other}; two stacks cannot manage one {kind}, and `adopt` never takes a resource from another stack. Rename one with `name:`")),
                );
                Claim::Refused
            }
            Owner::Foreign if adopt => Claim::Adopt,
            Owner::Foreign => {
                self.plan.errors.push(
                    Diagnostic::error(codes::EXISTS_OUTSIDE, format!("{kind} `{name}` exists outside monplan"))
                        .at(declared.origin, "declared here")
                        .note(format!(
                            "it has no monplan:stack tag, so monplan will not change or delete it. Choose another name with `name:`, or adopt it with `adopt: true` (the plan then tags it monplan:stack={stack}; `monplan import` writes such YAML)"
                        )),
                );
                Claim::Refused
            }
        }
    }

    /// Says what adopting `id` does: `updates` when the live resource also differs from
    /// the YAML; `kept` names what the YAML does not list and adoption leaves in place.
    pub fn adopt_notice(&mut self, id: &ResourceId, updates: bool, kept: &[String]) {
        let stack = self.name().clone();
        let mut message = format!(
            "adopting only adds the ownership tag monplan:stack={stack} (and the tags the YAML declares); nothing is created again or deleted"
        );
        if updates {
            message.push_str(", and the fields shown are updated to match the YAML");
        }
        if !kept.is_empty() {
            use std::fmt::Write as _;
            let _ = write!(
                message,
                ". Kept although the YAML does not list them: {}; once the resource is owned the next plan removes them unless the YAML lists them",
                kept.join(", ")
            );
        }
        self.notice(id, message);
    }
}

/// What a plan may do with a declared resource that exists ([`Cx::claim`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Claim {
    /// Tagged as this stack's: create, update, replace as declared.
    Owned,
    /// Untagged and declared with `adopt: true`: tag it (and update what differs), never
    /// delete or replace it.
    Adopt,
    /// Reported as a plan error; nothing is planned for it.
    Refused,
}

/// A resource as named, rendered fields: what a plan shows. Names follow the YAML
/// (`threshold`, `metric.period`, `notify`), values its notation (`5m`, `above 5`), so
/// that a plan reads like the stack that caused it. Shown, never compared: kinds compare
/// their models.
pub type Fields = Vec<(String, String)>;

pub fn quote(text: &str) -> String {
    format!("{text:?}")
}

pub fn tag_fields(tags: &Tags) -> Fields {
    tags.iter()
        .filter(|(k, _)| !k.starts_with("aws:"))
        .map(|(k, v)| (format!("tags.{k}"), quote(v)))
        .collect()
}

pub fn created(fields: Fields) -> Vec<FieldDiff> {
    fields
        .into_iter()
        .map(|(name, v)| FieldDiff {
            name,
            before: None,
            after: Some(v),
        })
        .collect()
}

pub fn deleted(fields: Fields) -> Vec<FieldDiff> {
    fields
        .into_iter()
        .map(|(name, v)| FieldDiff {
            name,
            before: Some(v),
            after: None,
        })
        .collect()
}

/// The fields whose rendered value differs, in the order the desired side lists them:
/// how a change that the models' comparison found is shown.
pub fn changed(before: &Fields, after: &Fields) -> Vec<FieldDiff> {
    let before_map: BTreeMap<&String, &String> = before.iter().map(|(k, v)| (k, v)).collect();
    let after_map: BTreeMap<&String, &String> = after.iter().map(|(k, v)| (k, v)).collect();
    let mut names: Vec<&String> = after.iter().map(|(k, _)| k).collect();
    let seen: BTreeSet<&String> = names.iter().copied().collect();
    names.extend(before.iter().map(|(k, _)| k).filter(|k| !seen.contains(k)));
    names
        .into_iter()
        .filter(|k| before_map.get(k) != after_map.get(k))
        .map(|k| FieldDiff {
            name: k.clone(),
            before: before_map.get(k).map(|v| (*v).clone()),
            after: after_map.get(k).map(|v| (*v).clone()),
        })
        .collect()
}

/// Tags AWS itself sets (`aws:` prefix) cannot be removed and are not ours.
fn managed_tag(key: &str) -> bool {
    !key.starts_with("aws:")
}

/// The tagging call of an adoption: `desired` tags set, nothing removed (adoption never
/// deletes), and the live tags the YAML does not list, which it keeps.
pub fn adopt_tag_ops(arn: &Arn, desired: &Tags, live: &Tags) -> (Vec<Op>, Vec<String>) {
    let mut ops = tag_ops(arn, desired, live);
    ops.retain(|op| !matches!(op, Op::UntagResource { .. }));
    let kept = live
        .keys()
        .filter(|k| !desired.contains_key(*k) && managed_tag(k))
        .map(|k| format!("tag {k}"))
        .collect();
    (ops, kept)
}

/// The tagging calls that turn `live` tags into `desired` ones.
pub fn tag_ops(arn: &Arn, desired: &Tags, live: &Tags) -> Vec<Op> {
    let mut ops = Vec::new();
    let set: Tags = desired
        .iter()
        .filter(|(k, v)| live.get(*k) != Some(*v))
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    if !set.is_empty() {
        ops.push(Op::TagResource {
            arn: arn.clone(),
            tags: set,
        });
    }
    let remove: Vec<String> = live
        .keys()
        .filter(|k| !desired.contains_key(*k) && managed_tag(k))
        .cloned()
        .collect();
    if !remove.is_empty() {
        ops.push(Op::UntagResource {
            arn: arn.clone(),
            keys: remove,
        });
    }
    ops
}
