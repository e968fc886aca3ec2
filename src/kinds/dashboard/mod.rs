//! `CloudWatch` dashboards, owned by their `{stack}_` name prefix (dashboards cannot be
//! tagged). Bodies are generated deterministically ([`body`]) and compared as JSON.

pub mod body;
pub mod model;

use super::{created, deleted, Cx};
use crate::model::ResourceId;
use crate::plan::{ChangeAction, Op};

fn widgets(body: &serde_json::Value) -> String {
    body["widgets"].as_array().map_or(0, Vec::len).to_string()
}

pub fn plan(cx: &mut Cx<'_, '_>) {
    let stack = cx.stack;
    for (name, declared) in &stack.dashboards {
        let body = &declared.value;
        let text = serde_json::to_string(&body::canonical(body)).unwrap_or_default();
        let id = ResourceId::Dashboard(name.clone());
        let ops = vec![Op::PutDashboard {
            name: name.clone(),
            body: text,
        }];
        let refs = stack.dashboard_refs(name);
        match stack.live.dashboards.get(name) {
            None => {
                let fields = created(vec![("widgets".into(), widgets(body))]);
                cx.change(id, ChangeAction::Create, fields, refs, ops);
            }
            Some(current) if current != body => {
                let change = cx.change(id, ChangeAction::Update, Vec::new(), refs, ops);
                change.body_diff = Some(body::diff(current, body));
            }
            Some(_) => {}
        }
    }
    let prefix = cx.prefix();
    for (name, body) in &stack.live.dashboards {
        if name.starts_with(&prefix) && !stack.desired.dashboards.contains_key(name) {
            let fields = deleted(vec![("widgets".into(), widgets(body))]);
            cx.change(
                ResourceId::Dashboard(name.clone()),
                ChangeAction::Delete,
                fields,
                Vec::new(),
                vec![Op::DeleteDashboards(vec![name.clone()])],
            );
        }
    }
}
