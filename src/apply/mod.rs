//! Executes a plan's operations in the plan's order and reports what happened.
//!
//! Apply makes no decision of its own. On the first failure it starts no new change,
//! and the report says what was applied, what failed and what never started; running
//! apply again converges because the next plan starts from what AWS now holds.

use crate::aws::{self, AwsError, World};
use crate::model::ResourceId;
use crate::plan::{Change, ChangeAction, Plan};

/// The outcome of an apply.
#[derive(Debug, Default)]
pub struct Report {
    pub applied: Vec<(ResourceId, ChangeAction)>,
    pub failed: Option<(ResourceId, AwsError)>,
    pub not_started: Vec<ResourceId>,
}

impl Report {
    pub fn succeeded(&self) -> bool {
        self.failed.is_none()
    }
}

/// Runs every change; `progress` hears about each one as it finishes.
pub async fn apply(
    plan: &Plan,
    world: &World,
    mut progress: impl FnMut(&Change, Option<&AwsError>),
) -> Report {
    let mut report = Report::default();
    let mut changes = plan.changes.iter();
    for change in changes.by_ref() {
        match apply_change(change, world).await {
            Ok(()) => {
                progress(change, None);
                report
                    .applied
                    .push((change.resource.clone(), change.action));
            }
            Err(error) => {
                progress(change, Some(&error));
                report.failed = Some((change.resource.clone(), error));
                break;
            }
        }
    }
    report.not_started = changes.map(|c| c.resource.clone()).collect();
    report
}

async fn apply_change(change: &Change, world: &World) -> Result<(), AwsError> {
    let Some(clients) = world.clients(&change.region) else {
        return Err(AwsError::local(
            "apply",
            change.resource.to_string(),
            "NoClient",
            format!("no AWS clients for region {}", change.region),
        ));
    };
    for op in &change.ops {
        aws::execute(clients, op).await?;
    }
    Ok(())
}
