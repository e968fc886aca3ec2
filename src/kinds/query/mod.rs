//! Saved Logs Insights queries (`queries`), owned by their `{stack}/` name prefix (query
//! definitions cannot be tagged). AWS identifies a definition by an id it assigns, so
//! an update names the live id, and a name that two live definitions share keeps the
//! first (by id) and deletes the others.

pub mod model;

use super::{changed, created, deleted, quote, Cx, Fields};
use crate::model::{LiveQuery, QueryDefinition, ResourceId};
use crate::plan::{ChangeAction, Op};

pub fn fields(definition: &QueryDefinition) -> Fields {
    let QueryDefinition {
        name: _,
        log_groups,
        query,
    } = definition;
    vec![
        ("log_groups".into(), format!("[{}]", log_groups.join(", "))),
        ("query".into(), quote(query)),
    ]
}

/// Whether putting `desired` would change `live`.
fn same(desired: &QueryDefinition, live: &QueryDefinition) -> bool {
    let QueryDefinition {
        name,
        log_groups,
        query,
    } = desired;
    *name == live.name && *log_groups == live.log_groups && *query == live.query
}

pub fn plan(cx: &mut Cx<'_, '_>) {
    let stack = cx.stack;
    let live = stack.live;
    for (name, declared) in &stack.desired.queries {
        let definition = &declared.value;
        let id = ResourceId::Query(name.clone());
        let found = live.queries.get(name).and_then(|all| all.first());
        match found {
            None => {
                let put = Op::PutQueryDefinition {
                    definition: definition.clone(),
                    id: None,
                };
                cx.change(
                    id,
                    ChangeAction::Create,
                    created(fields(definition)),
                    Vec::new(),
                    vec![put],
                );
            }
            Some(current) if !same(definition, &current.definition) => {
                let put = Op::PutQueryDefinition {
                    definition: definition.clone(),
                    id: Some(current.id.clone()),
                };
                let diff = changed(&fields(&current.definition), &fields(definition));
                cx.change(id, ChangeAction::Update, diff, Vec::new(), vec![put]);
            }
            Some(_) => {}
        }
    }
    let prefix = format!("{}/", cx.name());
    for (name, all) in &live.queries {
        if !name.starts_with(&prefix) {
            continue;
        }
        // Declared: every copy but the first goes; undeclared: all of them.
        let keep = usize::from(stack.desired.queries.contains_key(name));
        for LiveQuery { id, definition } in all.iter().skip(keep) {
            cx.change(
                ResourceId::Query(name.clone()),
                ChangeAction::Delete,
                deleted(fields(definition)),
                Vec::new(),
                vec![Op::DeleteQueryDefinition {
                    name: name.clone(),
                    id: id.clone(),
                }],
            );
        }
    }
}
