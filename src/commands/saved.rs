//! Saved plans: `plan --out FILE` writes what was planned and what it was planned from;
//! `apply FILE` applies exactly that, or refuses when the stack files or the live state
//! of a planned resource changed since.
//!
//! A saved plan holds the rendered plan (the JSON document of `--format json`, secrets
//! redacted by construction), the SHA-256 of every stack file, and per change the
//! SHA-256 of its operations' full payloads ([`Change::digest`], which hashes secret
//! values without storing them). Applying re-plans from the same files and compares the
//! new plan with the saved one, change by change: the `before` side of each change is
//! the live state when the plan was made, so any edit behind monplan's back shows up as
//! a difference, and the digests catch what the redacted text cannot show, such as an
//! `${env:...}` value that changed between plan and apply. Nothing secret is ever
//! written.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use serde_json::{json, Value};
use sha2::{Digest, Sha256};

use crate::diag::SourceMap;
use crate::plan::render_json;
use crate::plan::Plan;

/// Marks a file as a saved plan, with its version.
pub const SAVED_PLAN_KEY: &str = "monplan_saved_plan";
/// Version 2 added the per-change payload digests.
const SAVED_PLAN_VERSION: u64 = 2;

pub fn to_document(
    plan: &Plan,
    paths: &[PathBuf],
    sources: &SourceMap,
    estimate: Option<f64>,
) -> Value {
    let files: Vec<Value> = sources
        .files()
        .map(|(path, source)| json!({ "path": path.display().to_string(), "sha256": sha256(source) }))
        .collect();
    json!({
        SAVED_PLAN_KEY: SAVED_PLAN_VERSION,
        "paths": paths.iter().map(|p| p.display().to_string()).collect::<Vec<_>>(),
        "files": files,
        "plan": render_json::to_json(plan, estimate),
        "digests": plan.changes.iter().map(|c| json!({
            "stack": c.stack.as_str(),
            "resource": c.resource.to_string(),
            "sha256": c.digest(),
        })).collect::<Vec<_>>(),
    })
}

/// The saved digests by (stack, resource as shown): several changes may show the same
/// (two copies of one saved query, two webhooks of one host), so each key holds a list.
fn saved_digests(saved: &Value) -> BTreeMap<(String, String), Vec<String>> {
    let mut digests: BTreeMap<(String, String), Vec<String>> = BTreeMap::new();
    for d in saved["digests"].as_array().into_iter().flatten() {
        let key = (
            d["stack"].as_str().unwrap_or_default().to_string(),
            d["resource"].as_str().unwrap_or_default().to_string(),
        );
        digests
            .entry(key)
            .or_default()
            .push(d["sha256"].as_str().unwrap_or_default().to_string());
    }
    digests
}

/// The saved plan in `path`, if that is what the file is.
pub fn read(path: &Path) -> Option<Value> {
    if !path.is_file() {
        return None;
    }
    let text = std::fs::read_to_string(path).ok()?;
    let value: Value = serde_json::from_str(&text).ok()?;
    value.get(SAVED_PLAN_KEY)?;
    Some(value)
}

pub fn sha256(text: &str) -> String {
    Sha256::digest(text.as_bytes())
        .iter()
        .fold(String::new(), |mut hex, b| {
            let _ = write!(hex, "{b:02x}");
            hex
        })
}

/// The stack files the plan was made from, as recorded.
fn recorded_files(saved: &Value) -> Vec<(String, String)> {
    saved["files"]
        .as_array()
        .map(|files| {
            files
                .iter()
                .map(|f| {
                    (
                        f["path"].as_str().unwrap_or_default().to_string(),
                        f["sha256"].as_str().unwrap_or_default().to_string(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

/// The paths the plan was made from (files or directories), as given to `plan`.
pub fn paths(saved: &Value) -> Vec<PathBuf> {
    saved["paths"]
        .as_array()
        .map(|p| {
            p.iter()
                .filter_map(Value::as_str)
                .map(PathBuf::from)
                .collect()
        })
        .unwrap_or_default()
}

/// Checked before anything is loaded: the version, and every recorded stack file
/// unchanged on disk.
pub fn files_changed(saved: &Value) -> Vec<String> {
    if saved[SAVED_PLAN_KEY].as_u64() != Some(SAVED_PLAN_VERSION) {
        return vec![format!(
            "the file is a saved plan of another version ({}); make it again with this monplan",
            saved[SAVED_PLAN_KEY]
        )];
    }
    let mut problems = Vec::new();
    for (path, hash) in recorded_files(saved) {
        match std::fs::read_to_string(&path) {
            Err(_) => problems.push(format!("stack file {path} is gone")),
            Ok(text) if sha256(&text) != hash => {
                problems.push(format!("stack file {path} changed since the plan was made"));
            }
            Ok(_) => {}
        }
    }
    problems
}

/// Checked after re-planning: no stack file appeared, and every change is exactly the
/// saved one (its `before` side is the live state when the plan was made).
pub fn plan_changed(saved: &Value, now: &Plan, sources: &SourceMap) -> Vec<String> {
    let mut problems = Vec::new();
    let recorded = recorded_files(saved);
    for (path, _) in sources.files() {
        let path = path.display().to_string();
        if !recorded.iter().any(|(p, _)| *p == path) {
            problems.push(format!("stack file {path} is new since the plan was made"));
        }
    }
    let key = |change: &Value| format!("{} {}", change["stack"], change["resource"]);
    let empty = Vec::new();
    let then = saved["plan"]["changes"].as_array().unwrap_or(&empty);
    let now_doc = render_json::to_json(now, None);
    let now_changes = now_doc["changes"].as_array().unwrap_or(&empty);
    let name = |change: &Value| change["resource"].as_str().unwrap_or_default().to_string();
    for change in then {
        match now_changes.iter().find(|c| key(c) == key(change)) {
            None => problems.push(format!(
                "{}: no longer needs the planned change (it was changed since)",
                name(change)
            )),
            Some(current) if current != change => problems.push(format!(
                "{}: its live state changed since the plan was made",
                name(change)
            )),
            Some(_) => {}
        }
    }
    let mut digests = saved_digests(saved);
    for change in &now.changes {
        let key = (change.stack.to_string(), change.resource.to_string());
        // Each saved digest matches one current change at most.
        let differs = digests.get_mut(&key).is_some_and(|list| {
            match list.iter().position(|d| *d == change.digest()) {
                Some(found) => {
                    list.remove(found);
                    false
                }
                None => true,
            }
        });
        if differs {
            problems.push(format!(
                "{}: its operations differ from the saved ones although the plan reads the same (an `${{env:...}}` value changed?)",
                change.resource
            ));
        }
    }
    for change in now_changes {
        if !then.iter().any(|c| key(c) == key(change)) {
            problems.push(format!(
                "{}: now needs a change that is not in the saved plan",
                name(change)
            ));
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Endpoint, Protocol, ResourceId, StackName, SubscriptionId, TopicName};
    use crate::plan::{Change, ChangeAction, Op};

    fn plan_with_hook(value: &str) -> Plan {
        let endpoint = Endpoint::sensitive("${env:HOOK}", value);
        let id = SubscriptionId {
            topic: TopicName::new("shop-oncall"),
            protocol: Protocol::Https,
            endpoint: endpoint.clone(),
        };
        Plan {
            changes: vec![Change {
                stack: StackName::new("shop"),
                region: "us-east-1".into(),
                resource: ResourceId::Subscription(id),
                action: ChangeAction::Create,
                fields: Vec::new(),
                body_diff: None,
                depends_on: Vec::new(),
                ops: vec![Op::Subscribe {
                    topic: crate::model::Arn::new("arn:aws:sns:us-east-1:1:shop-oncall"),
                    protocol: Protocol::Https,
                    endpoint,
                }],
            }],
            ..Plan::default()
        }
    }

    #[test]
    fn a_changed_secret_makes_a_saved_plan_stale_and_is_never_saved() {
        let sources = SourceMap::default();
        let saved = to_document(
            &plan_with_hook("https://h.example/old-secret"),
            &[],
            &sources,
            None,
        );
        let text = saved.to_string();
        assert!(!text.contains("old-secret"), "{text}");
        assert!(plan_changed(
            &saved,
            &plan_with_hook("https://h.example/old-secret"),
            &sources
        )
        .is_empty());
        let problems = plan_changed(
            &saved,
            &plan_with_hook("https://h.example/new-secret"),
            &sources,
        );
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(problems[0].contains("operations differ"), "{problems:?}");
        assert!(!problems[0].contains("secret"), "{problems:?}");
    }
}
