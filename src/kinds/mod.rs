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

    /// A declared name that exists but is not ours: a plan error, never an overwrite.
    pub fn check_owner<T>(
        &mut self,
        kind: &str,
        name: &str,
        owner: &Owner,
        declared: &Declared<T>,
    ) -> bool {
        let stack = self.name().clone();
        match owner {
            Owner::Stack(s) if *s == stack => true,
            Owner::Stack(other) => {
                self.plan.errors.push(
                    Diagnostic::error(codes::OWNED_ELSEWHERE, format!("{kind} `{name}` belongs to monplan stack `{other}`"))
                        .at(declared.origin, format!("declared here by stack `{stack}`"))
                        .note(format!("it is tagged monplan:stack={other}; two stacks cannot manage one {kind}. Rename one with `name:`")),
                );
                false
            }
            Owner::Foreign => {
                self.plan.errors.push(
                    Diagnostic::error(codes::EXISTS_OUTSIDE, format!("{kind} `{name}` exists outside monplan"))
                        .at(declared.origin, "declared here")
                        .note(format!(
                            "it has no monplan:stack tag, so monplan will not change or delete it. Choose another name with `name:`, or adopt it by tagging it monplan:stack={stack}"
                        )),
                );
                false
            }
        }
    }
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
