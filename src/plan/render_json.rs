//! The plan as JSON, for machines: a versioned document, described field by field in
//! `docs/plan-format.md` and by the JSON Schema `docs/plan-schema.json`.
//!
//! Within one [`FORMAT_VERSION`] fields are only ever added, never renamed, removed or
//! given another meaning; anything else bumps the version.
//!
//! Secrets: every string in a [`Plan`] is redacted by construction (a sensitive endpoint
//! displays as `(sensitive: ${env:NAME})`), and the operations' payloads ([`super::Op`]),
//! which hold real values, are never serialized: only their AWS operation names are.

use serde_json::{json, Value};

use super::{Change, ChangeAction, FieldDiff, Notice, Plan};
use crate::diag::{Diagnostic, Severity};

/// The version of the document [`to_json`] produces, its `format_version` field.
pub const FORMAT_VERSION: u32 = 1;

/// The `action` of a change in the document: `create`, `update`, `replace`, `delete` or `adopt`.
pub fn action_name(action: ChangeAction) -> &'static str {
    match action {
        ChangeAction::Create => "create",
        ChangeAction::Update => "update",
        ChangeAction::Replace => "replace",
        ChangeAction::Delete => "delete",
        ChangeAction::Adopt => "adopt",
    }
}

/// The plan as a version-1 document. `estimate_seconds` is how long apply is expected to
/// take, if known; it becomes `estimated_apply_seconds` (`null` when unknown or not a
/// finite number).
pub fn to_json(plan: &Plan, estimate_seconds: Option<f64>) -> Value {
    let summary = plan.summary();
    let errors: Vec<Value> = plan
        .errors
        .iter()
        .filter(|d| d.severity == Severity::Error)
        .map(diagnostic)
        .collect();
    // Plan errors are errors today; should a warning ever be recorded there, it belongs
    // with the warnings rather than making the document claim an error.
    let warnings: Vec<Value> = plan
        .errors
        .iter()
        .filter(|d| d.severity == Severity::Warning)
        .map(|d| Value::String(format!("{}: {}", d.code, d.message)))
        .collect();
    let estimate = estimate_seconds
        .filter(|s| s.is_finite())
        .map_or(Value::Null, Value::from);
    json!({
        "format_version": FORMAT_VERSION,
        "summary": {
            "add": summary.add,
            "change": summary.change,
            "destroy": summary.destroy,
            "adopt": summary.adopt,
        },
        "changes": plan.changes.iter().map(|c| change(c, &plan.cost)).collect::<Vec<_>>(),
        "notices": plan.notices.iter().map(notice).collect::<Vec<_>>(),
        "warnings": warnings,
        "errors": errors,
        "estimated_apply_seconds": estimate,
        "cost": {
            "currency": "USD",
            "monthly_now": cents(plan.cost.now),
            "monthly_after": cents(plan.cost.after()),
            "notes": std::iter::once(super::cost::FREE_TIER.to_string())
                .chain(plan.cost.notes.iter().cloned())
                .chain(plan.cost.uncovered_note())
                .collect::<Vec<_>>(),
            "not_covered": plan.cost.uncovered.iter().map(ToString::to_string).collect::<Vec<_>>(),
        },
    })
}

/// Dollars to the cent, as a bill shows them.
fn cents(amount: f64) -> f64 {
    (amount * 100.0).round() / 100.0
}

fn change(change: &Change, cost: &super::cost::PlanCost) -> Value {
    let mut value = json!({
        "stack": change.stack.as_str(),
        "region": change.region,
        "kind": change.resource.kind().to_string(),
        "resource": change.resource.to_string(),
        "action": action_name(change.action),
        "fields": change.fields.iter().map(field).collect::<Vec<_>>(),
        "body_diff": change.body_diff,
        // Names only: the payloads hold real values, secrets included.
        "operations": change.ops.iter().map(super::Op::operation).collect::<Vec<_>>(),
    });
    if let Some(delta) = cost.delta(change.stack.as_str(), &change.resource.to_string()) {
        value["monthly_delta"] = json!(cents(delta));
    }
    value
}

fn field(field: &FieldDiff) -> Value {
    json!({
        "name": field.name,
        "before": field.before,
        "after": field.after,
    })
}

fn notice(notice: &Notice) -> Value {
    json!({
        "stack": notice.stack.as_str(),
        "subject": notice.subject,
        "message": notice.message,
    })
}

fn diagnostic(diagnostic: &Diagnostic) -> Value {
    json!({
        "code": diagnostic.code,
        "message": diagnostic.message,
    })
}
