//! The planner proper. Pure: resolved stacks in, plan out.

use super::{order, Plan, StackInput};
use crate::kinds::{Cx, KINDS};
use crate::resolve::{resolve, Resolution};

/// Resolves and diffs: the whole pure half of a plan, from read state to [`Plan`].
pub fn plan(stacks: &[StackInput<'_>]) -> Plan {
    diff(resolve(stacks))
}

/// Every kind of every resolved stack against what is live, then ordered.
pub fn diff(resolution: Resolution<'_>) -> Plan {
    let Resolution {
        stacks,
        errors,
        notices,
    } = resolution;
    let mut plan = Plan {
        errors,
        ..Plan::default()
    };
    let mut notices = notices;
    for stack in &stacks {
        // Resolve's notices about this stack come first, as the stack reads.
        let (mine, rest): (Vec<_>, Vec<_>) =
            notices.into_iter().partition(|n| n.stack == *stack.name());
        notices = rest;
        plan.notices.extend(mine);
        let mut cx = Cx {
            stack,
            plan: &mut plan,
        };
        for kind in KINDS {
            kind(&mut cx);
        }
    }
    plan.notices.extend(notices);
    crate::resolve::drop_ignored(&mut plan.errors, stacks.iter().map(|s| s.desired));
    for stack in &stacks {
        super::cost::of_stack(stack, &plan.changes, &mut plan.cost);
    }
    order::sort(&mut plan.changes);
    plan.errors.sort();
    plan
}
