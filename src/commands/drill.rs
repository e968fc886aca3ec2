use std::fmt::Write as _;
use std::io::IsTerminal;

use super::{connect_options, desired_state, runtime, ExitStatus, Printer};
use crate::aws::{drill_wait, Delivery, Drill};
use crate::cli::{DrillArgs, GlobalArgs, PathsArgs};
use crate::diag::SourceMap;
use crate::model::{Action, AlarmName, Arn, DesiredStack, TopicName};

/// `monplan drill STACK [ALARM...]`: load, pick the alarms, confirm, drill, report,
/// clean up.
pub fn drill(args: &DrillArgs, global: &GlobalArgs) -> ExitStatus {
    run(args, global).unwrap_or_else(|status| status)
}

/// An alarm to drill and the topics it notifies (by name, until the account is known).
struct Target {
    alarm: AlarmName,
    topics: Vec<TopicName>,
    arns: Vec<Arn>,
}

fn run(args: &DrillArgs, global: &GlobalArgs) -> Result<ExitStatus, ExitStatus> {
    let printer = Printer::new(global);
    let mut sources = SourceMap::default();
    let paths = PathsArgs {
        paths: args.paths.clone(),
    };
    let stacks = desired_state(&paths, &mut sources, &printer)?;
    let Some(stack) = stacks.iter().find(|s| s.name.as_str() == args.stack) else {
        printer.error(&format!(
            "error: no stack `{}` under the given paths\n",
            args.stack
        ));
        return Err(ExitStatus::Failure);
    };
    let targets = targets(stack, &args.alarms, &printer)?;
    if args.dry_run {
        let mut text = format!(
            "monplan drill {} would, in one temporary SQS queue:\n",
            stack.name
        );
        for target in &targets {
            let topics: Vec<String> = target.topics.iter().map(ToString::to_string).collect();
            let _ = writeln!(
                text,
                "  - set alarm \"{}\" to ALARM, wait up to {}s for its notification from {}, and set it back",
                target.alarm,
                args.wait,
                topics.join(", ")
            );
        }
        text.push_str("then delete the queue and its subscriptions. Nothing was done.\n");
        printer.out(&text);
        return Ok(ExitStatus::Success);
    }
    confirm(args, &printer)?;
    let runtime = runtime(&printer)?;
    let options = connect_options(global);
    let name = format!("monplan-drill-{}-{}", stack.name, std::process::id());
    let report = runtime.block_on(async {
        // Topic ARNs need the account, which the drill learns when it connects.
        let all_topics = |scope: &crate::model::Scope| {
            let mut unique: Vec<Arn> = Vec::new();
            for topic in targets.iter().flat_map(|t| &t.topics) {
                let arn = scope.topic_arn(topic);
                if !unique.contains(&arn) {
                    unique.push(arn);
                }
            }
            unique
        };
        let drill = Drill::start(&options, stack.region.as_deref(), &name, all_topics).await?;
        let mut targets = targets;
        for target in &mut targets {
            target.arns = target.topics.iter().map(|t| drill.scope.topic_arn(t)).collect();
        }
        printer.info(&format!("drill: queue {name} subscribed to {} topic(s)\n", drill.topics.len()));
        let progress = |line: &str| printer.info(&format!("{line}\n"));
        // Ctrl-C ends the waiting, never the cleanup.
        let outcome = tokio::select! {
            outcome = fire_all(&drill, &targets, args.wait, &progress) => outcome,
            _ = tokio::signal::ctrl_c() => Err(crate::aws::AwsError::local("drill", format!("stack {}", stack.name), "Interrupted", "interrupted (Ctrl-C)")),
        };
        let cleaned = drill.cleanup().await;
        if cleaned.is_ok() {
            printer.info(&format!(
                "drill: removed queue {name} and its subscriptions; every alarm is in its state from before the drill\n"
            ));
        } else {
            printer.error(&format!(
                "drill: cleanup incomplete: check for the queue {name}, its subscriptions and alarms left in ALARM (the error follows)\n"
            ));
        }
        match (outcome, cleaned) {
            (Ok(deliveries), Ok(())) => Ok(deliveries),
            (Err(error), _) | (_, Err(error)) => Err(error),
        }
    });
    let deliveries = report.map_err(|error| {
        printer.error(&format!("error: the drill failed: {error}\n"));
        ExitStatus::Failure
    })?;
    printer.out(&render(&deliveries, args.wait));
    Ok(if deliveries.iter().all(|d| d.seconds.is_some()) {
        ExitStatus::Success
    } else {
        ExitStatus::Failure
    })
}

async fn fire_all(
    drill: &Drill,
    targets: &[Target],
    wait: u64,
    progress: &dyn Fn(&str),
) -> Result<Vec<Delivery>, crate::aws::AwsError> {
    let mut deliveries = Vec::new();
    for target in targets {
        progress(&format!("alarm \"{}\": set to ALARM", target.alarm));
        deliveries.extend(
            drill
                .fire(&target.alarm, &target.arns, drill_wait(wait), progress)
                .await?,
        );
    }
    Ok(deliveries)
}

/// The stack's alarms that notify one of its topics (or the named ones).
fn targets(
    stack: &DesiredStack,
    wanted: &[String],
    printer: &Printer,
) -> Result<Vec<Target>, ExitStatus> {
    let mut targets = Vec::new();
    let declared = stack
        .alarms
        .iter()
        .map(|(n, a)| (n, &a.key, &a.value.actions))
        .chain(
            stack
                .composites
                .iter()
                .map(|(n, a)| (n, &a.key, &a.value.actions)),
        );
    for (name, key, actions) in declared {
        if !wanted.is_empty() && !wanted.iter().any(|w| w == key || w == name.as_str()) {
            continue;
        }
        let topics: Vec<TopicName> = actions
            .alarm
            .iter()
            .filter_map(|a| match a {
                Action::Topic(t) => Some(t.clone()),
                _ => None,
            })
            .collect();
        if topics.is_empty() {
            continue;
        }
        targets.push(Target {
            alarm: name.clone(),
            topics,
            arns: Vec::new(),
        });
    }
    if targets.is_empty() {
        printer.error("error: no alarm of the stack (or of those named) notifies one of its topics: nothing to drill\n");
        return Err(ExitStatus::Failure);
    }
    Ok(targets)
}

/// The drill pages people: only an explicit yes lets it run.
fn confirm(args: &DrillArgs, printer: &Printer) -> Result<(), ExitStatus> {
    let terminal = std::io::stdin().is_terminal();
    if (terminal && args.yes) || (!terminal && args.auto_approve) {
        return Ok(());
    }
    let flag = if terminal { "--yes" } else { "--auto-approve" };
    printer.error(&format!(
        "error: refusing to drill: it sets alarms to ALARM, which pages their topics' subscribers. Run again with {flag} (or --dry-run to see what it would do).\n"
    ));
    Err(ExitStatus::Failure)
}

fn render(deliveries: &[Delivery], wait: u64) -> String {
    let mut text = String::from("Drill report:\n");
    for d in deliveries {
        let topic = d
            .topic
            .topic_name()
            .map_or_else(|| d.topic.to_string(), |t| t.to_string());
        let outcome = match d.seconds {
            Some(s) => format!("delivered in {s:.1} s"),
            None => format!("NOT delivered within {wait} s"),
        };
        let _ = writeln!(text, "  alarm \"{}\" -> topic {topic}: {outcome}", d.alarm);
        if d.others.is_empty() {
            let _ = writeln!(text, "      nobody else is subscribed");
        } else {
            let _ = writeln!(text, "      also sent to: {}", d.others.join(", "));
        }
    }
    let missed = deliveries.iter().filter(|d| d.seconds.is_none()).count();
    if missed == 0 {
        text.push_str("Every notification arrived.\n");
    } else {
        let _ = writeln!(text, "{missed} notification(s) did not arrive: check the topics' policies, the alarms' actions_enabled, and the subscriptions.");
    }
    text
}
