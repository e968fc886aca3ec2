//! Order from references: each change names what its resource refers to
//! ([`Change::depends_on`]); from that alone follow the order a plan is shown in and the
//! waves apply runs it in.
//!
//! - Deletions run first, each before the deletions of what it refers to (a composite
//!   before its children, an alarm before the topic it notifies).
//! - Then creations, updates and replacements, each after the changes of what it
//!   refers to (a topic before its subscriptions and alarms, a policy before the alarm
//!   that drives it, children before their composite).
//!
//! A wave is every change whose references are done; the changes of one wave run
//! concurrently. Within a wave, deletions of metric alarms are batched, 100 names a
//! `DeleteAlarms` call. The display order is a topological order of the same graph:
//! ties are broken by kind (the declaration order of [`ResourceKind`], reversed for
//! deletions), then by the depth of same-kind references (composites of composites),
//! then by stack and name, so that a plan reads the same every time.

use std::collections::{BTreeMap, BTreeSet};

use super::{Change, ChangeAction, Op, Plan};
use crate::model::{ResourceId, ResourceKind, StackName};

/// `DeleteAlarms` takes at most 100 names a call.
pub const DELETE_ALARMS_BATCH: usize = 100;

/// Waves of steps: apply runs the steps of a wave concurrently, and the next wave when
/// the whole wave is done.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Schedule {
    pub waves: Vec<Wave>,
}

#[derive(Clone, Debug, Default, PartialEq)]
pub struct Wave {
    pub steps: Vec<Step>,
}

/// Operations run one after another, for the changes they carry out (several changes
/// for a batched deletion).
#[derive(Clone, Debug, PartialEq)]
pub struct Step {
    /// Indexes into [`Plan::changes`].
    pub changes: Vec<usize>,
    pub region: String,
    pub ops: Vec<Op>,
}

type Key = (StackName, ResourceId);

fn key(change: &Change) -> Key {
    (change.stack.clone(), change.resource.clone())
}

fn is_delete(change: &Change) -> bool {
    change.action == ChangeAction::Delete
}

/// For each change, the changes that must finish before it starts (indexes).
fn prerequisites(changes: &[Change]) -> Vec<BTreeSet<usize>> {
    let index: BTreeMap<Key, Vec<usize>> =
        changes
            .iter()
            .enumerate()
            .fold(BTreeMap::new(), |mut map, (i, change)| {
                map.entry(key(change)).or_insert_with(Vec::new).push(i);
                map
            });
    let mut before = vec![BTreeSet::new(); changes.len()];
    for (i, change) in changes.iter().enumerate() {
        for reference in &change.depends_on {
            let target = (change.stack.clone(), reference.clone());
            for &j in index.get(&target).into_iter().flatten() {
                if j == i {
                    continue;
                }
                if is_delete(&changes[j]) && !is_delete(change) {
                    // A live reference the change releases: what it refers to is
                    // deleted only once the change no longer refers to it.
                    before[j].insert(i);
                    continue;
                }
                if is_delete(&changes[j]) != is_delete(change) {
                    continue;
                }
                if is_delete(change) {
                    // What is referred to goes after what refers to it.
                    before[j].insert(i);
                } else {
                    before[i].insert(j);
                }
            }
        }
    }
    // Every deletion before any other change, except the deletions that wait, directly
    // or through other deletions, for a change that releases what they delete.
    let late = late_deletions(changes, &before);
    let early: Vec<usize> = (0..changes.len())
        .filter(|i| is_delete(&changes[*i]) && !late.contains(i))
        .collect();
    for (i, change) in changes.iter().enumerate() {
        if !is_delete(change) {
            before[i].extend(early.iter().copied());
        }
    }
    before
}

/// The deletions that wait for a non-deletion, directly or through other deletions.
fn late_deletions(changes: &[Change], before: &[BTreeSet<usize>]) -> BTreeSet<usize> {
    // Who waits for whom, the other way round.
    let mut waiting: Vec<Vec<usize>> = vec![Vec::new(); changes.len()];
    for (k, prerequisites) in before.iter().enumerate() {
        for &p in prerequisites {
            waiting[p].push(k);
        }
    }
    let mut late = BTreeSet::new();
    let mut frontier: Vec<usize> = (0..changes.len())
        .filter(|k| is_delete(&changes[*k]) && before[*k].iter().any(|p| !is_delete(&changes[*p])))
        .collect();
    while let Some(k) = frontier.pop() {
        if late.insert(k) {
            frontier.extend(
                waiting[k]
                    .iter()
                    .copied()
                    .filter(|w| is_delete(&changes[*w])),
            );
        }
    }
    late
}

/// The longest chain of prerequisites below each change; a cycle (only possible in live
/// state, validation rejects it in desired state) counts as no prerequisite.
fn levels(before: &[BTreeSet<usize>], same: impl Fn(usize, usize) -> bool) -> Vec<u32> {
    fn visit(
        i: usize,
        before: &[BTreeSet<usize>],
        same: &dyn Fn(usize, usize) -> bool,
        memo: &mut [Option<u32>],
        on_path: &mut BTreeSet<usize>,
    ) -> u32 {
        if let Some(level) = memo[i] {
            return level;
        }
        if !on_path.insert(i) {
            return 0;
        }
        let level = before[i]
            .iter()
            .filter(|j| same(i, **j))
            .map(|&j| visit(j, before, same, memo, on_path) + 1)
            .max()
            .unwrap_or(0);
        on_path.remove(&i);
        memo[i] = Some(level);
        level
    }
    let mut memo = vec![None; before.len()];
    (0..before.len())
        .map(|i| visit(i, before, &same, &mut memo, &mut BTreeSet::new()))
        .collect()
}

/// The kind's place in the display order: declaration order for creations, reversed
/// for deletions.
fn rank(change: &Change) -> usize {
    let kinds = ResourceKind::ALL;
    let position = kinds
        .iter()
        .position(|k| *k == change.resource.kind())
        .unwrap_or(0);
    if is_delete(change) {
        kinds.len() - position
    } else {
        position
    }
}

/// Sorts changes into display order (see the module documentation).
pub fn sort(changes: &mut Vec<Change>) {
    let before = prerequisites(changes);
    let depth = levels(&before, |i, j| {
        changes[i].resource.kind() == changes[j].resource.kind()
            && is_delete(&changes[i]) == is_delete(&changes[j])
    });
    let mut keyed: Vec<(bool, usize, u32, Key, Change)> = changes
        .drain(..)
        .enumerate()
        .map(|(i, change)| {
            // For deletions the prerequisites already point the other way (what refers
            // to a resource goes first), so the same ascending depth puts the deepest
            // composite first.
            (
                !is_delete(&change),
                rank(&change),
                depth[i],
                key(&change),
                change,
            )
        })
        .collect();
    keyed.sort_by(|a, b| (a.0, a.1, a.2, &a.3).cmp(&(b.0, b.1, b.2, &b.3)));
    changes.extend(keyed.into_iter().map(|entry| entry.4));
}

impl Plan {
    /// The waves apply runs this plan in.
    pub fn schedule(&self) -> Schedule {
        let changes = &self.changes;
        let before = prerequisites(changes);
        let level = levels(&before, |_, _| true);
        let mut by_level: BTreeMap<u32, Vec<usize>> = BTreeMap::new();
        for (i, l) in level.iter().enumerate() {
            by_level.entry(*l).or_default().push(i);
        }
        let waves = by_level
            .into_values()
            .map(|members| Wave {
                steps: steps(changes, &members),
            })
            .collect();
        Schedule { waves }
    }
}

/// One step per change, except deletions of metric alarms, which are batched per
/// region. (A `DeleteAlarms` call may hold at most one composite alarm, so those stay
/// single.)
fn steps(changes: &[Change], members: &[usize]) -> Vec<Step> {
    let mut steps = Vec::new();
    let mut batches: Vec<Step> = Vec::new();
    for &i in members {
        let change = &changes[i];
        let single_delete = match change.ops.as_slice() {
            [Op::DeleteAlarms(names)] => {
                is_delete(change)
                    && change.resource.kind() == ResourceKind::Alarm
                    && names.len() == 1
            }
            _ => false,
        };
        if !single_delete {
            steps.push(Step {
                changes: vec![i],
                region: change.region.clone(),
                ops: change.ops.clone(),
            });
            continue;
        }
        let names = match change.ops.as_slice() {
            [Op::DeleteAlarms(names)] => names.clone(),
            _ => Vec::new(),
        };
        let open = batches
            .iter_mut()
            .find(|b| b.region == change.region && b.changes.len() < DELETE_ALARMS_BATCH);
        match open {
            Some(batch) => {
                batch.changes.push(i);
                if let Some(Op::DeleteAlarms(all)) = batch.ops.first_mut() {
                    all.extend(names);
                }
            }
            None => batches.push(Step {
                changes: vec![i],
                region: change.region.clone(),
                ops: vec![Op::DeleteAlarms(names)],
            }),
        }
    }
    steps.extend(batches);
    steps
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{AlarmName, TopicName};

    fn change(resource: ResourceId, action: ChangeAction, depends_on: Vec<ResourceId>) -> Change {
        let ops = match &resource {
            ResourceId::Alarm(name) if action == ChangeAction::Delete => {
                vec![Op::DeleteAlarms(vec![name.clone()])]
            }
            _ => Vec::new(),
        };
        Change {
            stack: StackName::new("s"),
            region: "us-east-1".into(),
            resource,
            action,
            fields: Vec::new(),
            body_diff: None,
            depends_on,
            ops,
        }
    }

    fn alarm(name: &str) -> ResourceId {
        ResourceId::Alarm(AlarmName::new(name))
    }

    fn composite(name: &str) -> ResourceId {
        ResourceId::CompositeAlarm(AlarmName::new(name))
    }

    fn topic(name: &str) -> ResourceId {
        ResourceId::Topic(TopicName::new(name))
    }

    #[test]
    fn alarm_deletions_are_batched_by_one_hundred() {
        let plan = Plan {
            changes: (0..250)
                .map(|i| change(alarm(&format!("a{i}")), ChangeAction::Delete, vec![]))
                .collect(),
            ..Plan::default()
        };
        let schedule = plan.schedule();
        assert_eq!(schedule.waves.len(), 1);
        let sizes: Vec<usize> = schedule.waves[0]
            .steps
            .iter()
            .map(|s| s.changes.len())
            .collect();
        assert_eq!(sizes, [100, 100, 50]);
        assert!(
            matches!(&schedule.waves[0].steps[2].ops[..], [Op::DeleteAlarms(names)] if names.len() == 50)
        );
    }

    #[test]
    fn references_order_the_waves_and_deletions_run_in_reverse() {
        let mut changes = vec![
            change(
                composite("top"),
                ChangeAction::Create,
                vec![composite("mid")],
            ),
            change(composite("mid"), ChangeAction::Create, vec![alarm("a")]),
            change(alarm("a"), ChangeAction::Create, vec![topic("t")]),
            change(topic("t"), ChangeAction::Create, vec![]),
            change(topic("old"), ChangeAction::Delete, vec![]),
            change(alarm("old"), ChangeAction::Delete, vec![topic("old")]),
            change(
                composite("a-child"),
                ChangeAction::Delete,
                vec![alarm("old")],
            ),
            change(
                composite("z-parent"),
                ChangeAction::Delete,
                vec![composite("a-child")],
            ),
        ];
        sort(&mut changes);
        let shown: Vec<String> = changes.iter().map(|c| c.resource.to_string()).collect();
        assert_eq!(
            shown,
            [
                "composite alarm \"z-parent\"",
                "composite alarm \"a-child\"",
                "alarm \"old\"",
                "topic \"old\"",
                "topic \"t\"",
                "alarm \"a\"",
                "composite alarm \"mid\"",
                "composite alarm \"top\""
            ]
        );
        let plan = Plan {
            changes,
            ..Plan::default()
        };
        let waves: Vec<Vec<String>> = plan
            .schedule()
            .waves
            .iter()
            .map(|w| {
                w.steps
                    .iter()
                    .flat_map(|s| &s.changes)
                    .map(|i| plan.changes[*i].resource.to_string())
                    .collect()
            })
            .collect();
        assert_eq!(
            waves,
            [
                vec!["composite alarm \"z-parent\""],
                vec!["composite alarm \"a-child\""],
                vec!["alarm \"old\""],
                vec!["topic \"old\""],
                vec!["topic \"t\""],
                vec!["alarm \"a\""],
                vec!["composite alarm \"mid\""],
                vec!["composite alarm \"top\""],
            ]
        );
    }

    #[test]
    fn an_alarm_a_composite_stops_naming_is_deleted_after_the_composite_is_updated() {
        // AWS refuses to delete an alarm a composite still names: the update that drops
        // it goes first, and what the deleted alarm notified goes after it.
        let plan = Plan {
            changes: vec![
                change(alarm("a"), ChangeAction::Delete, vec![topic("t")]),
                change(topic("t"), ChangeAction::Delete, vec![]),
                change(
                    composite("c"),
                    ChangeAction::Update,
                    vec![alarm("b"), alarm("a")],
                ),
                change(alarm("new"), ChangeAction::Create, vec![]),
            ],
            ..Plan::default()
        };
        let waves: Vec<Vec<String>> = plan
            .schedule()
            .waves
            .iter()
            .map(|w| {
                let mut names: Vec<String> = w
                    .steps
                    .iter()
                    .flat_map(|s| &s.changes)
                    .map(|i| plan.changes[*i].resource.to_string())
                    .collect();
                names.sort();
                names
            })
            .collect();
        assert_eq!(
            waves,
            [
                vec!["alarm \"new\"", "composite alarm \"c\""],
                vec!["alarm \"a\""],
                vec!["topic \"t\""],
            ]
        );
    }

    #[test]
    fn the_display_order_is_a_topological_order() {
        // Every kind's declaration order must agree with what kinds refer to: a change
        // is never shown before a change it waits for.
        let mut changes = vec![
            change(
                ResourceId::Dashboard("s_d".into()),
                ChangeAction::Create,
                vec![alarm("a")],
            ),
            change(alarm("a"), ChangeAction::Create, vec![topic("t")]),
            change(topic("t"), ChangeAction::Create, vec![]),
        ];
        sort(&mut changes);
        let before = prerequisites(&changes);
        for (i, waits_for) in before.iter().enumerate() {
            assert!(waits_for.iter().all(|j| *j < i), "{changes:?}");
        }
    }
}
