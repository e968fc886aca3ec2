//! The planner, pure: desired state from YAML, live state built by hand, the plan
//! asserted as data and snapshotted as text. No AWS, no emulator.

use std::collections::BTreeMap;
use std::io::Write;

use monplan::diag::{Diagnostics, SourceMap};
use monplan::model::{
    AlarmName, Arn, Comparison, Condition, DesiredStack, LiveAlarm, LiveAlarmBody, LiveState,
    LiveSubscription, LiveTopic, Owner, Protocol, ResourceId, Scope, StackName, Topic, TopicName,
};
use monplan::plan::render::{Style, Text};
use monplan::plan::{plan, ChangeAction, Op, Plan, StackInput};
use monplan::validate::{validate, Env};

const SECRET: &str = "https://hooks.example.com/T000/B000/very-secret-token";
/// An email address the YAML reads from the environment (`${env:PAGER}`).
const PAGER_EMAIL: &str = "pager-secret@example.com";

struct TestEnv;

impl Env for TestEnv {
    fn var(&self, name: &str) -> Option<String> {
        match name {
            "HOOK" => Some(SECRET.to_string()),
            "PAGER" => Some(PAGER_EMAIL.to_string()),
            _ => None,
        }
    }
}

const STACK: &str = r"
stack: shop
tags: { team: web }
defaults:
  evaluation_periods: 3
  notify: [oncall]
topics:
  oncall:
    display_name: Shop on-call
    subscriptions:
      - email: oncall@example.com
      - https: ${env:HOOK}
alarms:
  errors:
    metric: { namespace: Shop, name: Errors, dimensions: { Service: cart }, stat: Sum, period: 5m }
    above: 5
    treat_missing_data: not_breaching
  latency:
    metric: { namespace: Shop, name: Latency, stat: p99, unit: Milliseconds }
    at_least: 800
";

fn desired(yaml: &str) -> DesiredStack {
    let mut file = tempfile::Builder::new().suffix(".yaml").tempfile().unwrap();
    file.write_all(yaml.as_bytes()).unwrap();
    let mut sources = SourceMap::default();
    let mut diags = Diagnostics::default();
    let specs = monplan::spec::load(&[file.path().to_path_buf()], &mut sources, &mut diags);
    let mut stacks = validate(&specs, &TestEnv, &mut diags);
    assert!(!diags.has_errors(), "{}", diags.render(&sources, false));
    stacks.remove(0)
}

fn scope() -> Scope {
    Scope {
        partition: "aws".into(),
        region: "us-east-1".into(),
        account: "123456789012".into(),
    }
}

fn run(stack: &DesiredStack, live: &LiveState) -> Plan {
    let scope = scope();
    plan(&[StackInput {
        desired: stack,
        scope: &scope,
        live,
    }])
}

fn text(plan: &Plan) -> String {
    Text {
        plan,
        style: Style { color: false },
    }
    .to_string()
}

/// What AWS holds once the operations of a plan made against nothing have run.
fn live_after_create(stack: &DesiredStack) -> LiveState {
    let plan = run(stack, &LiveState::default());
    let scope = scope();
    let mut live = LiveState::default();
    for change in &plan.changes {
        for op in &change.ops {
            match op {
                Op::CreateTopic(topic) => {
                    let arn = scope.topic_arn(&topic.name);
                    let live_topic = LiveTopic {
                        arn,
                        owner: owner(&stack.name),
                        topic: Some(topic.clone()),
                        subscriptions: Vec::new(),
                    };
                    live.topics.insert(topic.name.clone(), live_topic);
                }
                Op::Subscribe {
                    topic,
                    protocol,
                    endpoint,
                } => {
                    let name = topic.topic_name().unwrap();
                    let arn = Some(Arn::new(format!(
                        "{topic}:{}",
                        live.topics[&name].subscriptions.len()
                    )));
                    let sub = LiveSubscription {
                        protocol: *protocol,
                        endpoint: endpoint.expose().to_string(),
                        arn,
                    };
                    live.topics.get_mut(&name).unwrap().subscriptions.push(sub);
                }
                Op::PutMetricAlarm { alarm, .. } => {
                    let body = LiveAlarmBody::Metric(alarm.clone());
                    let live_alarm = LiveAlarm {
                        arn: scope.alarm_arn(&alarm.name),
                        owner: owner(&stack.name),
                        body,
                    };
                    live.alarms.insert(alarm.name.clone(), live_alarm);
                }
                other => panic!("a create plan has no {other:?}"),
            }
        }
    }
    live
}

fn owner(stack: &StackName) -> Owner {
    Owner::Stack(stack.clone())
}

fn alarm_mut<'a>(live: &'a mut LiveState, name: &str) -> &'a mut monplan::model::Alarm {
    match &mut live.alarms.get_mut(&AlarmName::new(name)).unwrap().body {
        LiveAlarmBody::Metric(alarm) => alarm,
        _ => unreachable!("a metric alarm"),
    }
}

#[test]
fn an_empty_account_gets_everything_in_dependency_order() {
    let stack = desired(STACK);
    let plan = run(&stack, &LiveState::default());
    assert_eq!(plan.summary().add, 5);
    let kinds: Vec<String> = plan
        .changes
        .iter()
        .map(|c| c.resource.kind().to_string())
        .collect();
    assert_eq!(
        kinds,
        ["topic", "subscription", "subscription", "alarm", "alarm"]
    );
    let Op::PutMetricAlarm {
        alarm,
        with_tags: true,
    } = &plan.changes[3].ops[0]
    else {
        panic!("PutAlarm with tags")
    };
    assert_eq!(
        alarm.actions.alarm,
        [monplan::model::Action::Arn(Arn::new(
            "arn:aws:sns:us-east-1:123456789012:shop-oncall"
        ))]
    );
    let rendered = text(&plan);
    assert!(
        !rendered.contains(SECRET),
        "the secret endpoint must be redacted"
    );
    assert!(rendered.contains("\nPlan: 5 to add, 0 to change, 0 to destroy.\nMonthly cost: $0.00 now -> $0.20 after apply (+$0.20)\n"));
    // Two standard alarms of one metric each, $0.10 a month each.
    assert!((plan.cost.after() - 0.20).abs() < 1e-9);
    insta::assert_snapshot!(rendered);
}

#[test]
fn what_the_create_plan_sends_plans_no_change() {
    let stack = desired(STACK);
    let live = live_after_create(&stack);
    let plan = run(&stack, &live);
    assert!(plan.is_empty(), "{}", text(&plan));
    assert!(text(&plan).contains("No changes."));
}

#[test]
fn a_changed_threshold_is_exactly_one_field() {
    let stack = desired(STACK);
    let mut live = live_after_create(&stack);
    alarm_mut(&mut live, "shop-errors").condition = Condition::Threshold {
        comparison: Comparison::Above,
        value: 7.0,
    };
    let plan = run(&stack, &live);
    let [change] = plan.changes.as_slice() else {
        panic!("one change: {}", text(&plan))
    };
    assert_eq!(change.action, ChangeAction::Update);
    assert_eq!(
        change.resource,
        ResourceId::Alarm(AlarmName::new("shop-errors"))
    );
    let fields: Vec<(&str, Option<&str>, Option<&str>)> = change
        .fields
        .iter()
        .map(|f| (f.name.as_str(), f.before.as_deref(), f.after.as_deref()))
        .collect();
    assert_eq!(fields, [("threshold", Some("above 7"), Some("above 5"))]);
    assert!(matches!(
        change.ops.as_slice(),
        [Op::PutMetricAlarm {
            with_tags: false,
            ..
        }]
    ));
    insta::assert_snapshot!(text(&plan));
}

#[test]
fn tags_are_reconciled_through_the_tagging_calls() {
    let stack = desired(STACK);
    let mut live = live_after_create(&stack);
    let alarm = alarm_mut(&mut live, "shop-latency");
    alarm.tags.insert("team".into(), "mobile".into());
    alarm.tags.insert("stale".into(), "yes".into());
    alarm
        .tags
        .insert("aws:cloudformation:stack-name".into(), "kept".into());
    let plan = run(&stack, &live);
    let [change] = plan.changes.as_slice() else {
        panic!("{}", text(&plan))
    };
    let tagged = BTreeMap::from([("team".to_string(), "web".to_string())]);
    assert!(
        matches!(&change.ops[..], [Op::TagResource { tags, .. }, Op::UntagResource { keys, .. }] if *tags == tagged && keys == &["stale"])
    );
}

#[test]
fn owned_leftovers_are_deleted_and_foreign_resources_are_not() {
    let stack = desired(STACK);
    let mut live = live_after_create(&stack);
    let template = live.alarms[&AlarmName::new("shop-errors")].clone();
    let mut ours = template.clone();
    ours.arn = scope().alarm_arn(&AlarmName::new("shop-old"));
    live.alarms.insert(AlarmName::new("shop-old"), ours);
    let mut foreign = template.clone();
    foreign.owner = Owner::Foreign;
    live.alarms.insert(AlarmName::new("someone-elses"), foreign);
    let mut other_stack = template;
    other_stack.owner = Owner::Stack(StackName::new("billing"));
    live.alarms
        .insert(AlarmName::new("billing-errors"), other_stack);
    let topic = TopicName::new("shop-retired");
    live.topics.insert(
        topic.clone(),
        LiveTopic {
            arn: scope().topic_arn(&topic),
            owner: owner(&stack.name),
            topic: Some(Topic {
                name: topic.clone(),
                display_name: None,
                tags: BTreeMap::new(),
            }),
            subscriptions: Vec::new(),
        },
    );

    let plan = run(&stack, &live);
    let deleted: Vec<String> = plan
        .changes
        .iter()
        .map(|c| format!("{:?} {}", c.action, c.resource))
        .collect();
    assert_eq!(
        deleted,
        ["Delete alarm \"shop-old\"", "Delete topic \"shop-retired\""]
    );
    assert!(
        matches!(&plan.changes[0].ops[..], [Op::DeleteAlarms(names)] if names == &[AlarmName::new("shop-old")])
    );
    insta::assert_snapshot!(text(&plan));
}

#[test]
fn a_declared_name_that_is_not_ours_is_a_plan_error() {
    let stack = desired(STACK);
    let mut live = live_after_create(&stack);
    live.alarms
        .get_mut(&AlarmName::new("shop-errors"))
        .unwrap()
        .owner = Owner::Foreign;
    live.topics
        .get_mut(&TopicName::new("shop-oncall"))
        .unwrap()
        .owner = Owner::Stack(StackName::new("billing"));
    let plan = run(&stack, &live);
    let codes: Vec<&str> = plan.errors.iter().map(|d| d.code).collect();
    assert_eq!(codes, ["E0102", "E0101"]);
    assert!(plan
        .changes
        .iter()
        .all(|c| c.resource != ResourceId::Alarm(AlarmName::new("shop-errors"))));
    assert!(plan
        .changes
        .iter()
        .all(|c| c.resource.kind() != monplan::model::ResourceKind::Topic));
}

#[test]
fn subscriptions_reconcile_to_the_declared_set_and_pending_ones_wait() {
    let stack = desired(STACK);
    let mut live = live_after_create(&stack);
    let topic = live.topics.get_mut(&TopicName::new("shop-oncall")).unwrap();
    // The email is still pending: shown as pending, not re-created.
    topic.subscriptions[0].arn = None;
    topic.subscriptions.push(LiveSubscription {
        protocol: Protocol::Https,
        endpoint: "https://old-hooks.example.com/services/T0/old-secret".into(),
        arn: Some(Arn::new(
            "arn:aws:sns:us-east-1:123456789012:shop-oncall:old",
        )),
    });
    topic.subscriptions.push(LiveSubscription {
        protocol: Protocol::Sms,
        endpoint: "+15555550100".into(),
        arn: None,
    });
    let plan = run(&stack, &live);
    let [change] = plan.changes.as_slice() else {
        panic!("{}", text(&plan))
    };
    assert_eq!(change.action, ChangeAction::Delete);
    assert!(matches!(&change.ops[..], [Op::Unsubscribe(arn)] if arn.as_str().ends_with(":old")));
    assert_eq!(plan.notices.len(), 2);
    let rendered = text(&plan);
    assert!(
        !rendered.contains("old-secret"),
        "a removed webhook's path may hold a token: {rendered}"
    );
    assert!(rendered.contains("https://old-hooks.example.com/..."));
    insta::assert_snapshot!(rendered);
}

#[test]
fn another_alarm_kind_under_our_name_is_replaced() {
    let stack = desired(STACK);
    let mut live = live_after_create(&stack);
    live.alarms
        .get_mut(&AlarmName::new("shop-latency"))
        .unwrap()
        .body = LiveAlarmBody::Other("composite alarm".into());
    let plan = run(&stack, &live);
    let [change] = plan.changes.as_slice() else {
        panic!("{}", text(&plan))
    };
    assert_eq!(change.action, ChangeAction::Replace);
    assert_eq!(plan.summary().add, 1);
    assert_eq!(plan.summary().destroy, 1);
    assert!(matches!(
        &change.ops[..],
        [
            Op::DeleteAlarms(_),
            Op::PutMetricAlarm {
                with_tags: true,
                ..
            }
        ]
    ));
}

#[test]
fn the_account_guard_refuses_other_accounts() {
    let stack = desired(&format!("account: \"210987654321\"\n{STACK}"));
    let plan = run(&stack, &LiveState::default());
    let codes: Vec<&str> = plan.errors.iter().map(|d| d.code).collect();
    assert_eq!(codes, ["E0103"]);
    assert!(plan
        .errors
        .iter()
        .next()
        .unwrap()
        .message
        .contains("for account 210987654321, but the credentials are for account 123456789012"));
    assert!(
        plan.changes.is_empty(),
        "nothing is planned for the wrong account"
    );
    let right = desired(&format!("account: \"123456789012\"\n{STACK}"));
    assert!(run(&right, &LiveState::default()).errors.is_empty());
}

const SCALED: &str = r"
stack: fleet
queues:
  jobs:
    name: transcription-jobs
    alarms:
      dlq_visible_messages: { above: 0 }
    scaling:
      group: workers
      backlog_per_instance: 10
      from_zero: true
";

/// A live world holding the queue (with a redrive policy) and the group.
fn fleet_world() -> LiveState {
    let mut live = LiveState::default();
    for (name, dlq) in [
        ("transcription-jobs", Some("transcription-dlq")),
        ("transcription-dlq", None),
    ] {
        live.queues.insert(
            name.to_string(),
            monplan::model::LiveQueue {
                url: format!("https://sqs.us-east-1.amazonaws.com/123456789012/{name}"),
                dead_letter_queue: dlq.map(ToString::to_string),
            },
        );
    }
    live.groups.insert("workers".to_string());
    live
}

#[test]
fn a_new_policy_arn_is_known_after_apply_and_read_back_by_a_planned_call() {
    let stack = desired(SCALED);
    let live = fleet_world();
    let plan = run(&stack, &live);
    assert!(!plan.errors.has_errors(), "{:?}", plan.errors);
    let step = plan
        .changes
        .iter()
        .find(|c| matches!(&c.resource, ResourceId::ScalingPolicy(p) if p.name == "fleet_jobs-from-zero"))
        .unwrap();
    let operations: Vec<&str> = step.ops.iter().map(Op::operation).collect();
    assert_eq!(operations, ["PutScalingPolicy", "DescribePolicies"]);
    let alarm = plan
        .changes
        .iter()
        .find(|c| c.resource == ResourceId::Alarm(AlarmName::new("fleet-jobs-from-zero")))
        .unwrap();
    assert!(
        alarm.depends_on.contains(&step.resource),
        "the alarm waits for its policy: {:?}",
        alarm.depends_on
    );
    let notify = alarm.fields.iter().find(|f| f.name == "notify").unwrap();
    assert_eq!(
        notify.after.as_deref(),
        Some("[(known after apply: scaling policy workers/fleet_jobs-from-zero)]")
    );
    // The DLQ alarm's queue comes from the redrive policy, resolved before planning.
    let dlq = plan
        .changes
        .iter()
        .find(|c| {
            c.resource == ResourceId::Alarm(AlarmName::new("fleet-jobs-dlq-visible-messages"))
        })
        .unwrap();
    assert!(dlq
        .fields
        .iter()
        .any(|f| f.name == "metric.dimensions.QueueName"
            && f.after.as_deref() == Some("transcription-dlq")));

    // Once the policy exists, its ARN is known at plan time: no deferred value, no read.
    let mut live = live;
    let arn = Arn::new("arn:aws:autoscaling:us-east-1:123456789012:scalingPolicy:u:autoScalingGroupName/workers:policyName/fleet_jobs-from-zero");
    for change in &plan.changes {
        if let [Op::PutScalingPolicy(policy), ..] = change.ops.as_slice() {
            live.policies.insert(
                policy.policy.clone(),
                monplan::model::LivePolicy {
                    arn: Some(arn.clone()),
                    body: Some(policy.clone()),
                },
            );
        }
    }
    let plan = run(&stack, &live);
    let alarm = plan
        .changes
        .iter()
        .find(|c| c.resource == ResourceId::Alarm(AlarmName::new("fleet-jobs-from-zero")))
        .unwrap();
    let notify = alarm.fields.iter().find(|f| f.name == "notify").unwrap();
    assert_eq!(notify.after, Some(format!("[{arn}]")));
    assert!(plan
        .changes
        .iter()
        .all(|c| c.ops.iter().all(|op| op.operation() != "DescribePolicies")));
}

const QUERIES: &str = r"
stack: shop
log_groups:
  workers: { name: /aws/ec2/shop }
queries:
  recent-failures:
    log_groups: [workers]
    query: fields @timestamp, @message | filter @message like /FAILED/ | sort @timestamp desc
";

fn live_query(id: &str, name: &str, query: &str) -> monplan::model::LiveQuery {
    monplan::model::LiveQuery {
        id: id.into(),
        definition: monplan::model::QueryDefinition {
            name: name.into(),
            log_groups: vec!["/aws/ec2/shop".into()],
            query: query.into(),
        },
    }
}

#[test]
fn saved_queries_are_put_by_id_and_only_ours_are_deleted() {
    let stack = desired(QUERIES);
    let mut live = LiveState::default();
    live.log_groups.insert("/aws/ec2/shop".into());
    let plan = run(&stack, &live);
    assert_eq!(plan.summary().add, 1);
    assert!(matches!(
        &plan.changes[0].ops[..],
        [Op::PutQueryDefinition { definition, id: None }]
            if definition.name == "shop/recent-failures" && definition.log_groups == ["/aws/ec2/shop"]
    ));

    // Live as put: no change. Two copies under our name: the second goes.
    let query =
        "fields @timestamp, @message | filter @message like /FAILED/ | sort @timestamp desc";
    live.queries.insert(
        "shop/recent-failures".into(),
        vec![
            live_query("a-1", "shop/recent-failures", query),
            live_query("b-2", "shop/recent-failures", query),
        ],
    );
    // Ours but no longer declared, and a look-alike of another stack (never read as ours:
    // the reader lists by the `shop/` prefix; even if it were here, it is not ours).
    live.queries.insert(
        "shop/retired".into(),
        vec![live_query("c-3", "shop/retired", "fields @message")],
    );
    live.queries.insert(
        "shop-eu/recent-failures".into(),
        vec![live_query(
            "d-4",
            "shop-eu/recent-failures",
            "fields @message",
        )],
    );
    let plan = run(&stack, &live);
    let deleted: Vec<(&str, &str)> = plan
        .changes
        .iter()
        .flat_map(|c| &c.ops)
        .filter_map(|op| match op {
            Op::DeleteQueryDefinition { name, id } => Some((name.as_str(), id.as_str())),
            _ => None,
        })
        .collect();
    assert_eq!(
        deleted,
        [("shop/recent-failures", "b-2"), ("shop/retired", "c-3")]
    );
    assert_eq!(
        plan.summary().add + plan.summary().change,
        0,
        "{}",
        text(&plan)
    );

    // A changed query updates the first copy by its id.
    live.queries
        .get_mut("shop/recent-failures")
        .unwrap()
        .truncate(1);
    live.queries.get_mut("shop/recent-failures").unwrap()[0]
        .definition
        .query = "fields @message".into();
    let plan = run(&stack, &live);
    let update = plan
        .changes
        .iter()
        .find(|c| c.action == ChangeAction::Update)
        .unwrap();
    assert!(
        matches!(&update.ops[..], [Op::PutQueryDefinition { id: Some(id), .. }] if id == "a-1")
    );
    assert_eq!(update.fields.len(), 1);
    assert_eq!(update.fields[0].name, "query");
}

#[test]
fn a_missing_log_group_is_a_plan_error_and_its_filters_are_not_planned() {
    let stack = desired(QUERIES);
    let plan = run(&stack, &LiveState::default());
    assert!(plan.errors.has_errors());
    assert!(plan
        .errors
        .iter()
        .any(|d| d.message == "log group `/aws/ec2/shop` does not exist in us-east-1"));
}

const PRICED: &str = r#"
stack: bill
topics:
  oncall: {}
log_groups:
  workers: { name: /aws/ec2/bill }
log_metrics:
  failed:
    log_group: workers
    pattern: '{ $.event = "JOB_FAILED" }'
    metric: { namespace: Bill, name: Failed }
alarms:
  standard:
    metric: { namespace: Bill, name: A, stat: Sum }
    above: 1
  fast:
    metric: { namespace: Bill, name: B, stat: Sum, period: 10s }
    above: 1
  math:
    expression: a + b + c
    metrics:
      a: { namespace: Bill, name: A, stat: Sum }
      b: { namespace: Bill, name: B, stat: Sum }
      c: { namespace: Bill, name: C, stat: Sum }
    above: 1
  band:
    metric: { namespace: Bill, name: A, stat: Sum, period: 5m }
    outside_band: 2
  both:
    rule: ALARM(standard) AND ALARM(fast)
dashboards:
  board:
    widgets:
      - text: hello
"#;

#[test]
fn the_monthly_cost_is_the_list_price_of_what_the_plan_makes() {
    let stack = desired(PRICED);
    let mut live = LiveState::default();
    live.log_groups.insert("/aws/ec2/bill".into());
    let plan = run(&stack, &live);
    assert!(!plan.errors.has_errors(), "{:?}", plan.errors);
    // Hand-computed, us-east-1 list prices: standard alarm metric $0.10, high
    // resolution $0.30, metric math by metric count, anomaly band 3 metrics, composite
    // $0.50, dashboard $3.00, custom metric $0.30.
    let expected = [
        ("alarm \"bill-standard\"", 0.10),
        ("alarm \"bill-fast\"", 0.30),
        ("alarm \"bill-math\"", 0.30),
        ("alarm \"bill-band\"", 0.30),
        ("composite alarm \"bill-both\"", 0.50),
        ("dashboard \"bill_board\"", 3.00),
        ("metric filter \"bill_failed\" on /aws/ec2/bill", 0.30),
        ("topic \"bill-oncall\"", 0.0),
    ];
    for (resource, price) in expected {
        let delta = plan.cost.delta("bill", resource).unwrap_or(f64::NAN);
        assert!(
            (delta - price).abs() < 1e-9,
            "{resource}: {delta} != {price}"
        );
    }
    assert!(plan.cost.now.abs() < 1e-9);
    assert!(
        (plan.cost.after() - 4.80).abs() < 1e-9,
        "{}",
        plan.cost.after()
    );
    let rendered = text(&plan);
    assert!(
        rendered.contains("Monthly cost: $0.00 now -> $4.80 after apply (+$4.80)\n"),
        "{rendered}"
    );
    assert!(rendered.contains("free tier of 10 alarm metrics, 10 custom metrics and 3 dashboards per account is not subtracted"));
}

/// The plan's review warnings of a stack: (code, line of the alarm or topic).
fn review(yaml: &str, live: &LiveState) -> Vec<(&'static str, usize)> {
    let stack = desired(yaml);
    let plan = run(&stack, live);
    assert!(!plan.errors.has_errors(), "{:?}", plan.errors);
    plan.errors
        .iter()
        .map(|d| {
            let start = d.primary.as_ref().map_or(0, |(span, _)| span.start);
            (d.code, yaml[..start].matches('\n').count() + 1)
        })
        .collect()
}

#[test]
fn a_careful_reviewer_flags_each_planted_mistake_at_its_line() {
    let mut live = LiveState::default();
    live.queues.insert(
        "jobs".into(),
        monplan::model::LiveQueue {
            url: "https://sqs.us-east-1.amazonaws.com/123456789012/jobs".into(),
            dead_letter_queue: None,
        },
    );
    live.log_groups.insert("/aws/ec2/shop".into());
    let planted = [
        (
            "W0203",
            "stack: shop\nalarms:\n  fast:\n    metric: { namespace: AWS/SQS, name: ApproximateNumberOfMessagesVisible, dimensions: { QueueName: jobs }, stat: Maximum, period: 10s }\n    above: 5\n    notify: ['arn:aws:sns:us-east-1:123456789012:pager']\n",
            3,
        ),
        (
            "W0204",
            "stack: shop\nlog_groups:\n  workers: { name: /aws/ec2/shop }\nlog_metrics:\n  slow:\n    log_group: workers\n    pattern: '{ $.event = \"JOB_COMPLETE\" }'\n    metric: { namespace: Shop, name: Duration }\n    value: $.duration\nalarms:\n  slow-jobs:\n    metric: slow\n    above: 600\n    notify: ['arn:aws:sns:us-east-1:123456789012:pager']\n",
            11,
        ),
        (
            "W0205",
            "stack: shop\nalarms:\n  elsewhere:\n    metric: { namespace: Shop, name: Errors, stat: Sum }\n    above: 5\n    notify: ['arn:aws:sns:eu-west-1:123456789012:pager']\n",
            3,
        ),
        (
            "W0206",
            "stack: shop\ntopics:\n  oncall: {}\nalarms:\n  errors:\n    metric: { namespace: Shop, name: Errors, stat: Sum }\n    above: 5\n    notify: [oncall]\n",
            3,
        ),
    ];
    for (code, yaml, line) in planted {
        assert_eq!(review(yaml, &live), [(code, line)], "{yaml}");
        let excused = excused(yaml, code, line);
        assert_eq!(review(&excused, &live), [], "{excused}");
    }
    // The same stacks, corrected, pass clean.
    let clean = [
        "stack: shop\nalarms:\n  fast:\n    metric: { namespace: AWS/SQS, name: ApproximateNumberOfMessagesVisible, dimensions: { QueueName: jobs }, stat: Maximum, period: 1m }\n    above: 5\n    notify: ['arn:aws:sns:us-east-1:123456789012:pager']\n",
        "stack: shop\nlog_groups:\n  workers: { name: /aws/ec2/shop }\nlog_metrics:\n  slow:\n    log_group: workers\n    pattern: '{ $.event = \"JOB_COMPLETE\" }'\n    metric: { namespace: Shop, name: Duration }\n    value: $.duration\nalarms:\n  slow-jobs:\n    metric: slow\n    above: 600\n    treat_missing_data: not_breaching\n    notify: ['arn:aws:sns:us-east-1:123456789012:pager']\n",
        "stack: shop\nalarms:\n  here:\n    metric: { namespace: Shop, name: Errors, stat: Sum }\n    above: 5\n    notify: ['arn:aws:sns:us-east-1:123456789012:pager']\n",
        "stack: shop\ntopics:\n  oncall:\n    subscriptions:\n      - email: oncall@example.com\nalarms:\n  errors:\n    metric: { namespace: Shop, name: Errors, stat: Sum }\n    above: 5\n    notify: [oncall]\n",
    ];
    for yaml in clean {
        assert_eq!(review(yaml, &live), [], "{yaml}");
    }
}

/// `yaml` with `ignore_warnings: [code]` written under the resource declared at `line`: a
/// reviewed exception, which silences exactly that warning there.
fn excused(yaml: &str, code: &str, line: usize) -> String {
    let mut lines: Vec<String> = yaml.lines().map(|l| l.replace(": {}", ":")).collect();
    lines.insert(line, format!("    ignore_warnings: [{code}]"));
    lines.join("\n") + "\n"
}

#[test]
fn only_review_warnings_can_be_ignored_and_only_where_written() {
    // Ignored at another alarm: the warning stays.
    let elsewhere = "stack: shop\nalarms:\n  quiet:\n    metric: { namespace: Shop, name: Errors, stat: Sum }\n    above: 5\n  other:\n    metric: { namespace: Shop, name: Errors, stat: Sum }\n    above: 9\n    notify: ['arn:aws:sns:us-east-1:123456789012:pager']\n    ignore_warnings: [W0210]\n";
    assert_eq!(review(elsewhere, &review_world(|_| {})), [("W0210", 3)]);
    // An error code, or a misspelt one, is a located error of its own.
    let yaml = "stack: shop\nalarms:\n  quiet:\n    metric: { namespace: Shop, name: Errors, stat: Sum }\n    above: 5\n    ignore_warnings: [E0101, W021]\n";
    let mut file = tempfile::Builder::new().suffix(".yaml").tempfile().unwrap();
    file.write_all(yaml.as_bytes()).unwrap();
    let mut d = Diagnostics::default();
    let specs = monplan::spec::load(
        &[file.path().to_path_buf()],
        &mut SourceMap::default(),
        &mut d,
    );
    let _ = validate(&specs, &TestEnv, &mut d);
    let found: Vec<(&str, String)> = d.iter().map(|x| (x.code, x.message.clone())).collect();
    assert_eq!(
        found,
        [
            (
                "E0006",
                "`E0101` is not a review warning monplan can ignore".to_string()
            ),
            (
                "E0006",
                "`W021` is not a review warning monplan can ignore".to_string()
            ),
        ]
    );
    assert!(
        d.iter()
            .nth(1)
            .unwrap()
            .notes
            .iter()
            .any(|n| n.contains("did you mean `W0201`")),
        "{:?}",
        d.iter().nth(1)
    );
}

/// The live state of the planted-mistake suite: a queue, a log group, and what a case adds.
fn review_world(extra: impl FnOnce(&mut LiveState)) -> LiveState {
    let mut live = LiveState::default();
    live.queues.insert(
        "jobs".into(),
        monplan::model::LiveQueue {
            url: "https://sqs.us-east-1.amazonaws.com/123456789012/jobs".into(),
            dead_letter_queue: None,
        },
    );
    live.log_groups.insert("/aws/ec2/shop".into());
    extra(&mut live);
    live
}

const PAGER: &str = "arn:aws:sns:us-east-1:123456789012:pager";

/// The policy SNS gives a new topic, abridged.
const DEFAULT_POLICY: &str = r#"{"Version":"2008-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"*"},"Action":["SNS:Subscribe","SNS:Publish"],"Resource":"arn:aws:sns:us-east-1:123456789012:pager","Condition":{"StringEquals":{"AWS:SourceOwner":"123456789012"}}}]}"#;
const DENY_POLICY: &str = r#"{"Version":"2012-10-17","Statement":[{"Sid":"NoAlarms","Effect":"Deny","Principal":{"Service":"cloudwatch.amazonaws.com"},"Action":"sns:Publish","Resource":"*"}]}"#;

fn foreign(policy: monplan::model::ForeignTopic) -> impl FnOnce(&mut LiveState) {
    move |live| {
        live.foreign_topics.insert(Arn::new(PAGER), policy);
    }
}

/// The stack's topic `oncall` is live with these subscriptions (`None`: pending).
fn oncall_live(subscriptions: &'static [(&'static str, bool)]) -> impl FnOnce(&mut LiveState) {
    move |live| {
        let name = TopicName::new("shop-oncall");
        let arn = scope().topic_arn(&name);
        let subscriptions = subscriptions
            .iter()
            .map(|(email, confirmed)| LiveSubscription {
                protocol: Protocol::Email,
                endpoint: (*email).to_string(),
                arn: confirmed.then(|| Arn::new(format!("{arn}:{email}"))),
            })
            .collect();
        live.topics.insert(
            name.clone(),
            LiveTopic {
                arn,
                owner: owner(&StackName::new("shop")),
                topic: Some(Topic {
                    name,
                    display_name: None,
                    tags: BTreeMap::from([("monplan:stack".to_string(), "shop".to_string())]),
                }),
                subscriptions,
            },
        );
    }
}

const STAT: &str = "stack: shop\nalarms:\n  backlog:\n    metric: { namespace: AWS/SQS, name: ApproximateNumberOfMessagesVisible, dimensions: { QueueName: jobs }, stat: Sum, period: 5m }\n    above: 5\n    notify: ['arn:aws:sns:us-east-1:123456789012:pager']\n";
const COUNT_OF_ONE: &str = "stack: shop\nlog_groups:\n  workers: { name: /aws/ec2/shop }\nlog_metrics:\n  failed:\n    log_group: workers\n    pattern: '{ $.event = \"JOB_FAILED\" }'\n    metric: { namespace: Shop, name: Failed }\n    value: 1\nalarms:\n  failing:\n    metric: { log_metric: failed, stat: Maximum }\n    above: 5\n    treat_missing_data: not_breaching\n    notify: ['arn:aws:sns:us-east-1:123456789012:pager']\n";
const ONCALL: &str = "stack: shop\ntopics:\n  oncall:\n    subscriptions:\n      - email: a@example.com\n      - email: b@example.com\nalarms:\n  errors:\n    metric: { namespace: Shop, name: Errors, stat: Sum }\n    above: 5\n    notify: [oncall]\n";
const TO_PAGER: &str = "stack: shop\nalarms:\n  errors:\n    metric: { namespace: Shop, name: Errors, stat: Sum }\n    above: 5\n    notify: ['arn:aws:sns:us-east-1:123456789012:pager']\n";
const SILENT: &str = "stack: shop\nalarms:\n  errors:\n    metric: { namespace: Shop, name: Errors, stat: Sum }\n    above: 5\n";
const COMPOSITE: &str = "stack: shop\ntopics:\n  oncall: {}\nalarms:\n  errors:\n    metric: { namespace: Shop, name: Errors, stat: Sum }\n    above: 5\n  down:\n    rule: ALARM(errors)\n    notify: [oncall]\n";

#[test]
fn the_remaining_live_checks_flag_each_planted_mistake_at_its_line() {
    use monplan::model::ForeignTopic;
    type World = Box<dyn FnOnce(&mut LiveState)>;
    type Case = (&'static str, String, usize, World);
    let none = || -> World { Box::new(|_| {}) };
    let planted: Vec<Case> = vec![
        // Sum of a queue depth over five one-minute samples.
        ("W0207", STAT.into(), 3, none()),
        // SampleCount of a level counts samples.
        (
            "W0207",
            STAT.replace("stat: Sum, period: 5m", "stat: SampleCount"),
            3,
            none(),
        ),
        // Maximum of a metric that is 1 at every datapoint.
        ("W0207", COUNT_OF_ONE.into(), 11, none()),
        // Both subscriptions wait for confirmation: nobody receives the alarms.
        (
            "W0208",
            ONCALL.into(),
            3,
            Box::new(oncall_live(&[
                ("a@example.com", false),
                ("b@example.com", false),
            ])),
        ),
        // One waits: it receives nothing until confirmed.
        (
            "W0208",
            ONCALL.into(),
            3,
            Box::new(oncall_live(&[
                ("a@example.com", true),
                ("b@example.com", false),
            ])),
        ),
        (
            "W0209",
            TO_PAGER.into(),
            3,
            Box::new(foreign(ForeignTopic::Policy(DENY_POLICY.into()))),
        ),
        (
            "W0209",
            TO_PAGER.into(),
            3,
            Box::new(foreign(ForeignTopic::Policy(
                DEFAULT_POLICY.replace(",\"SNS:Publish\"", ""),
            ))),
        ),
        (
            "W0209",
            TO_PAGER.into(),
            3,
            Box::new(foreign(ForeignTopic::Missing)),
        ),
        // A failed read is never a pass.
        (
            "W0209",
            TO_PAGER.into(),
            3,
            Box::new(foreign(ForeignTopic::Unread(
                "GetTopicAttributes on pager failed: AuthorizationError: no".into(),
            ))),
        ),
        ("W0210", SILENT.into(), 3, none()),
        (
            "W0210",
            TO_PAGER.replace("    notify:", "    actions_enabled: false\n    notify:"),
            3,
            none(),
        ),
        // A composite's actions count: the topic it notifies has nobody subscribed...
        ("W0206", COMPOSITE.into(), 3, none()),
        // ...and its action ARNs are checked like a metric alarm's.
        (
            "W0205",
            COMPOSITE
                .replace("topics:\n  oncall: {}\n", "")
                .replace("[oncall]", "['arn:aws:sns:eu-west-1:123456789012:pager']"),
            6,
            none(),
        ),
    ];
    for (code, yaml, line, extra) in planted {
        let live = review_world(extra);
        assert_eq!(review(&yaml, &live), [(code, line)], "{yaml}");
        let excused = excused(&yaml, code, line);
        assert_eq!(review(&excused, &live), [], "{excused}");
    }
    // The same stacks, corrected, pass clean.
    let clean: Vec<(String, World)> = vec![
        (STAT.replace("stat: Sum", "stat: Maximum"), none()),
        // Sum over one sample a period: AWS's own backlog-per-instance example.
        (STAT.replace("period: 5m", "period: 1m"), none()),
        (COUNT_OF_ONE.replace("stat: Maximum", "stat: Sum"), none()),
        (ONCALL.into(), Box::new(oncall_live(&[("a@example.com", true), ("b@example.com", true)]))),
        // Not subscribed yet: the apply subscribes; nothing is pending.
        (ONCALL.into(), none()),
        (TO_PAGER.into(), Box::new(foreign(ForeignTopic::Policy(DEFAULT_POLICY.into())))),
        (TO_PAGER.into(), none()),
        (SILENT.replace("    above: 5\n", "    above: 5\n  down:\n    rule: ALARM(errors)\n    notify: ['arn:aws:sns:us-east-1:123456789012:pager']\n"), none()),
        (SILENT.replace("stack: shop\n", "stack: shop\ndashboards:\n  board:\n    widgets:\n      - alarms: [errors]\n"), none()),
        (COMPOSITE.replace("  oncall: {}\n", "  oncall:\n    subscriptions:\n      - email: a@example.com\n"), none()),
    ];
    for (yaml, extra) in clean {
        assert_eq!(review(&yaml, &review_world(extra)), [], "{yaml}");
    }
}

/// An endpoint from `${env:...}` that AWS lists is never shown by its value: pending
/// confirmation (W0208: an email stays pending until its owner confirms), nor, once the
/// variable changed, the old value about to be unsubscribed (it was that secret).
#[test]
fn endpoints_from_the_environment_stay_redacted_when_pending_or_rotated_out() {
    let yaml = "stack: shop\ntopics:\n  oncall:\n    subscriptions:\n      - email: ${env:PAGER}\n      - email: a@example.com\nalarms:\n  errors:\n    metric: { namespace: Shop, name: Errors, stat: Sum }\n    above: 5\n    notify: [oncall]\n";
    let stack = desired(yaml);
    let live = review_world(oncall_live(&[
        (PAGER_EMAIL, false),
        ("a@example.com", true),
        ("pager-old-secret@example.com", true),
        ("b@example.com", true),
    ]));
    let plan = run(&stack, &live);
    let diagnostics = format!("{:?}", plan.errors);
    assert!(
        diagnostics.contains("pending: email:(sensitive: ${env:PAGER})"),
        "{diagnostics}"
    );
    let rendered = text(&plan);
    assert!(
        rendered.contains("- subscription \"shop-oncall\" email:(sensitive: ...@example.com)"),
        "{rendered}"
    );
    // Any undeclared email on a topic that reads one from the environment may be its
    // old value: both are shown by their domain only.
    assert_eq!(
        rendered
            .matches("email:(sensitive: ...@example.com) will be destroyed")
            .count(),
        2,
        "{rendered}"
    );
    for shown in [&diagnostics, &rendered] {
        assert!(!shown.contains("pager-secret"), "{shown}");
        assert!(!shown.contains("pager-old-secret"), "{shown}");
    }
}

/// The example stack, planned against an account where what it watches exists and its
/// subscriptions are confirmed, draws no review warning (the `LocalStack` test in
/// `e2e_example.rs` checks the same end to end).
#[test]
fn the_example_stack_draws_no_review_warning() {
    let example = std::fs::read_to_string("stacks/example.yaml")
        .unwrap()
        .replace("${env:ONCALL_WEBHOOK}", "${env:HOOK}");
    let live = review_world(|live| {
        for queue in ["transcription-jobs", "transcription-jobs-dlq"] {
            live.queues.insert(
                queue.into(),
                monplan::model::LiveQueue {
                    url: format!("https://sqs.us-east-1.amazonaws.com/123456789012/{queue}"),
                    dead_letter_queue: None,
                },
            );
        }
        live.groups.insert("transcription-workers".into());
        live.log_groups.insert("/aws/ec2/transcription".into());
    });
    assert_eq!(review(&example, &live), []);
}

/// `--exclude dashboards,log_metrics` leaves the stacks' dashboards and filters unread:
/// the cost says its figures leave them out rather than count them as $0.
#[test]
fn the_cost_says_which_kinds_an_excluded_read_leaves_out() {
    use monplan::model::ResourceKind;
    let stack = desired(PRICED);
    let mut live = LiveState::default();
    live.log_groups.insert("/aws/ec2/bill".into());
    let plan = run(&stack, &live);
    assert!(plan.cost.uncovered.is_empty());
    assert!(!text(&plan).contains("leave out"));

    live.unread = [
        ResourceKind::Dashboard,
        ResourceKind::MetricFilter,
        ResourceKind::Query,
    ]
    .into();
    let plan = run(&stack, &live);
    assert_eq!(
        plan.cost.uncovered,
        [ResourceKind::Dashboard, ResourceKind::MetricFilter].into()
    );
    let rendered = text(&plan);
    assert!(
        rendered.contains("(now and after leave out metric filters and dashboards: --exclude/--target kept them out of the read)"),
        "{rendered}"
    );
    let json = monplan::plan::render_json::to_json(&plan, None);
    assert_eq!(
        json["cost"]["not_covered"],
        serde_json::json!(["metric filter", "dashboard"])
    );
}

/// The stack with `adopt: true` on its topic and its `errors` alarm.
fn adopting_stack() -> DesiredStack {
    let yaml = STACK
        .replace(
            "    display_name: Shop on-call\n",
            "    display_name: Shop on-call\n    adopt: true\n",
        )
        .replace(
            "    treat_missing_data: not_breaching\n",
            "    treat_missing_data: not_breaching\n    adopt: true\n",
        );
    desired(&yaml)
}

/// What a team clicked together: the stack's topic and alarm as declared, but without
/// any tag of monplan's (and with a tag of their own that the YAML lists or not).
fn clicked_together(stack: &DesiredStack) -> LiveState {
    let mut live = live_after_create(stack);
    let untagged = |tags: &mut monplan::model::Tags| {
        tags.clear();
        tags.insert("team".into(), "web".into());
        tags.insert("aws:cloudformation:stack-name".into(), "old".into());
    };
    let topic = live.topics.get_mut(&TopicName::new("shop-oncall")).unwrap();
    topic.owner = Owner::Foreign;
    untagged(&mut topic.topic.as_mut().unwrap().tags);
    let alarm = live.alarms.get_mut(&AlarmName::new("shop-errors")).unwrap();
    alarm.owner = Owner::Foreign;
    untagged(&mut alarm_mut(&mut live, "shop-errors").tags);
    live
}

fn adoptions(plan: &Plan) -> Vec<&monplan::plan::Change> {
    plan.changes
        .iter()
        .filter(|c| c.action == ChangeAction::Adopt)
        .collect()
}

#[test]
fn adopting_an_untagged_resource_only_adds_the_ownership_tag() {
    let stack = adopting_stack();
    let live = clicked_together(&stack);
    let plan = run(&stack, &live);
    assert!(plan.errors.is_empty(), "{:?}", plan.errors);
    let adopted = adoptions(&plan);
    assert_eq!(adopted.len(), 2, "{}", text(&plan));
    assert_eq!(
        plan.changes.len(),
        2,
        "nothing but the adoptions: {}",
        text(&plan)
    );
    for change in adopted {
        let [Op::TagResource { tags, .. }] = change.ops.as_slice() else {
            panic!("only a TagResource: {:?}", change.ops);
        };
        assert_eq!(
            tags.iter().collect::<Vec<_>>(),
            [(&"monplan:stack".to_string(), &"shop".to_string())]
        );
        let names: Vec<&str> = change.fields.iter().map(|f| f.name.as_str()).collect();
        assert_eq!(names, ["tags.monplan:stack"]);
    }
    let summary = plan.summary();
    assert_eq!(
        (summary.add, summary.change, summary.destroy, summary.adopt),
        (0, 0, 0, 2)
    );
    let shown = text(&plan);
    assert!(
        shown.contains("Plan: 0 to add, 2 to adopt, 0 to change, 0 to destroy."),
        "{shown}"
    );
    assert!(shown.contains("will be adopted"), "{shown}");
    assert!(
        shown.contains("adopting only adds the ownership tag monplan:stack=shop"),
        "{shown}"
    );
    let json = monplan::plan::render_json::to_json(&plan, None);
    assert_eq!(json["summary"]["adopt"], 2);
    assert_eq!(json["changes"][0]["action"], "adopt");
    assert!(monplan::plan::render_markdown::to_markdown(&plan, None).contains("2 to adopt"));

    // Once the tags are set, the resources are owned: nothing left to plan but a notice
    // that `adopt` can go.
    let mut after = live.clone();
    let alarm = after
        .alarms
        .get_mut(&AlarmName::new("shop-errors"))
        .unwrap();
    alarm.owner = owner(&stack.name);
    alarm_mut(&mut after, "shop-errors")
        .tags
        .insert("monplan:stack".into(), "shop".into());
    let topic = after
        .topics
        .get_mut(&TopicName::new("shop-oncall"))
        .unwrap();
    topic.owner = owner(&stack.name);
    topic
        .topic
        .as_mut()
        .unwrap()
        .tags
        .insert("monplan:stack".into(), "shop".into());
    let again = run(&stack, &after);
    assert!(again.changes.is_empty(), "{}", text(&again));
    assert!(again
        .notices
        .iter()
        .any(|n| n.message.contains("`adopt: true` has nothing left to do")));
}

#[test]
fn adopting_keeps_undeclared_tags_and_subscriptions_and_deletes_nothing() {
    let stack = adopting_stack();
    let mut live = clicked_together(&stack);
    alarm_mut(&mut live, "shop-errors")
        .tags
        .insert("owner".into(), "alice".into());
    let topic = live.topics.get_mut(&TopicName::new("shop-oncall")).unwrap();
    topic.subscriptions.push(LiveSubscription {
        protocol: Protocol::Email,
        endpoint: "old@example.com".into(),
        arn: Some(Arn::new(
            "arn:aws:sns:us-east-1:123456789012:shop-oncall:old",
        )),
    });
    let plan = run(&stack, &live);
    assert!(plan.errors.is_empty(), "{:?}", plan.errors);
    for change in &plan.changes {
        assert_ne!(change.action, ChangeAction::Delete, "{}", text(&plan));
        for op in &change.ops {
            assert!(
                !matches!(
                    op,
                    Op::UntagResource { .. }
                        | Op::Unsubscribe(_)
                        | Op::DeleteAlarms(_)
                        | Op::DeleteTopic(_)
                ),
                "{op:?}"
            );
        }
    }
    let shown = text(&plan);
    assert!(
        shown.contains("Kept although the YAML does not list them: tag owner"),
        "{shown}"
    );
    assert!(shown.contains("kept: the YAML does not list it"), "{shown}");
}

#[test]
fn adopting_a_resource_that_differs_updates_it_too() {
    let stack = adopting_stack();
    let mut live = clicked_together(&stack);
    alarm_mut(&mut live, "shop-errors").condition = Condition::Threshold {
        comparison: Comparison::Above,
        value: 9.0,
    };
    live.topics
        .get_mut(&TopicName::new("shop-oncall"))
        .unwrap()
        .topic
        .as_mut()
        .unwrap()
        .display_name = Some("Clicked".into());
    let plan = run(&stack, &live);
    assert!(plan.errors.is_empty(), "{:?}", plan.errors);
    let adopted = adoptions(&plan);
    assert_eq!(adopted.len(), 2);
    let alarm = adopted
        .iter()
        .find(|c| c.resource == ResourceId::Alarm(AlarmName::new("shop-errors")))
        .unwrap();
    let ops: Vec<&str> = alarm.ops.iter().map(Op::operation).collect();
    assert_eq!(ops, ["PutMetricAlarm", "TagResource"]);
    let threshold = alarm.fields.iter().find(|f| f.name == "threshold").unwrap();
    assert_eq!(threshold.before.as_deref(), Some("above 9"));
    assert_eq!(threshold.after.as_deref(), Some("above 5"));
    let topic = adopted
        .iter()
        .find(|c| c.resource.kind() == monplan::model::ResourceKind::Topic)
        .unwrap();
    let ops: Vec<&str> = topic.ops.iter().map(Op::operation).collect();
    assert_eq!(ops, ["SetTopicAttributes", "TagResource"]);
    assert!(text(&plan).contains("the fields shown are updated to match the YAML"));
}

#[test]
fn adopt_never_takes_a_resource_of_another_stack() {
    let stack = adopting_stack();
    let mut live = clicked_together(&stack);
    let alarm = live.alarms.get_mut(&AlarmName::new("shop-errors")).unwrap();
    alarm.owner = Owner::Stack(StackName::new("billing"));
    alarm_mut(&mut live, "shop-errors")
        .tags
        .insert("monplan:stack".into(), "billing".into());
    let plan = run(&stack, &live);
    let codes: Vec<&str> = plan.errors.iter().map(|d| d.code).collect();
    assert_eq!(codes, ["E0102"]);
    assert!(plan
        .changes
        .iter()
        .all(|c| c.resource != ResourceId::Alarm(AlarmName::new("shop-errors"))));
    // Without `adopt`, an untagged one stays an error that says how to adopt it.
    let without_adopt = desired(STACK);
    let plan = run(&without_adopt, &clicked_together(&without_adopt));
    let codes: Vec<&str> = plan.errors.iter().map(|d| d.code).collect();
    assert_eq!(codes, ["E0101", "E0101"]);
    assert!(plan
        .errors
        .iter()
        .all(|d| format!("{d:?}").contains("adopt: true")));
    assert!(adoptions(&plan).is_empty());
}

const REBOOTS: &str = "stack: shop\ntopics:\n  oncall:\n    subscriptions:\n      - email: oncall@example.com\nalarms:\n  box-hung:\n    metric: { namespace: AWS/EC2, name: StatusCheckFailed_Instance, dimensions: { InstanceId: i-0123456789abcdef0 }, stat: Maximum }\n    above: 0\n    notify: [oncall, ec2:reboot]\n";

/// `notify: [ec2:reboot]` is sent as the automate ARN of the stack's own partition and
/// region, which names no account: no W0205, and what AWS reports back plans no change.
#[test]
fn an_ec2_action_is_the_automate_arn_of_the_region_and_converges() {
    let stack = desired(REBOOTS);
    let plan = run(&stack, &LiveState::default());
    assert!(plan.errors.is_empty(), "{:?}", plan.errors);
    let sent: Vec<&monplan::model::Alarm> = plan
        .changes
        .iter()
        .flat_map(|c| &c.ops)
        .filter_map(|op| match op {
            Op::PutMetricAlarm { alarm, .. } => Some(alarm),
            _ => None,
        })
        .collect();
    assert_eq!(sent.len(), 1);
    let arns: Vec<String> = sent[0]
        .actions
        .alarm
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(
        arns,
        [
            "arn:aws:automate:us-east-1:ec2:reboot",
            "arn:aws:sns:us-east-1:123456789012:shop-oncall"
        ]
    );
    assert!(
        text(&plan).contains("arn:aws:automate:us-east-1:ec2:reboot"),
        "{}",
        text(&plan)
    );
    let live = live_after_create(&stack);
    let again = run(&stack, &live);
    assert!(again.changes.is_empty(), "{}", text(&again));
    // Another partition, its own ARN.
    let china = Scope {
        partition: "aws-cn".into(),
        region: "cn-north-1".into(),
        account: "123456789012".into(),
    };
    let plan = monplan::plan::plan(&[StackInput {
        desired: &stack,
        scope: &china,
        live: &LiveState::default(),
    }]);
    let put = plan
        .changes
        .iter()
        .flat_map(|c| &c.ops)
        .find_map(|op| match op {
            Op::PutMetricAlarm { alarm, .. } => Some(alarm),
            _ => None,
        })
        .unwrap();
    assert!(put
        .actions
        .alarm
        .contains(&monplan::model::Action::Arn(Arn::new(
            "arn:aws-cn:automate:cn-north-1:ec2:reboot"
        ))));
}

/// A live queue `jobs` with this visibility timeout and, if given, a DLQ after 5 receives.
fn delivery_world(visibility_timeout: u32, dlq: Option<&str>) -> LiveState {
    review_world(|live| {
        live.queue_delivery.insert(
            "jobs".into(),
            monplan::model::QueueDelivery {
                visibility_timeout,
                redrive: dlq.map(|dlq| monplan::model::Redrive {
                    dead_letter_queue: dlq.into(),
                    max_receive_count: Some(5),
                }),
            },
        );
        live.groups.insert("workers".into());
    })
}

const SLOW_JOBS: &str = "stack: shop\nqueues:\n  jobs:\n    scaling:\n      group: workers\n      latency: 1h\n      processing_time: 10m\n";

/// What protects the job of a dead worker is in every plan; a visibility timeout shorter
/// than one job (W0211, at `processing_time`) or no DLQ (W0212, at the queue) warns.
#[test]
fn the_jobs_of_a_dead_worker_are_shown_and_unsafe_queues_warn_at_their_line() {
    // Planted: 30 s against 10 minutes a job, with a DLQ.
    assert_eq!(
        review(SLOW_JOBS, &delivery_world(30, Some("jobs-dlq"))),
        [("W0211", 7)]
    );
    // Planted: no DLQ (long enough timeout).
    assert_eq!(
        review(SLOW_JOBS, &delivery_world(3600, None)),
        [("W0212", 3)]
    );
    // Clean twin: 30 minutes and a DLQ.
    let live = delivery_world(1800, Some("jobs-dlq"));
    assert_eq!(review(SLOW_JOBS, &live), []);
    let plan = run(&desired(SLOW_JOBS), &live);
    let notice = plan
        .notices
        .iter()
        .find(|n| n.subject == "queue \"jobs\"")
        .expect("a notice about the queue");
    assert_eq!(
        notice.message,
        "a job held by a dead worker reappears after 30m (visibility timeout) and moves to jobs-dlq after 5 receives"
    );
    assert!(text(&plan).contains("a job held by a dead worker reappears after 30m (visibility timeout) and moves to jobs-dlq after 5 receives"), "{}", text(&plan));
    // Without a DLQ the notice says so.
    let plan = run(&desired(SLOW_JOBS), &delivery_world(3600, None));
    assert!(plan.notices.iter().any(|n| n.message == "a job held by a dead worker reappears after 1h (visibility timeout), again and again: there is no dead-letter queue"), "{:?}", plan.notices);
}

/// A queue's or fleet's `ignore_warnings` covers the warnings located anywhere inside it
/// (`processing_time`, `stuck_after`), and nothing outside it.
#[test]
fn a_queue_or_fleet_ignores_its_own_reviewed_warnings_only() {
    let excused = SLOW_JOBS.replace(
        "  jobs:\n",
        "  jobs:\n    ignore_warnings: [W0211, W0212]\n",
    );
    assert_eq!(review(&excused, &delivery_world(30, None)), []);
    // Only what is listed.
    let one = SLOW_JOBS.replace("  jobs:\n", "  jobs:\n    ignore_warnings: [W0212]\n");
    assert_eq!(review(&one, &delivery_world(30, None)), [("W0211", 8)]);
    // A fleet's stuck_after longer than the visibility timeout, excused at the fleet; the
    // queue's own warning stays.
    let live = delivery_world(600, None);
    let planted = review(FLEET_STACK, &live);
    assert!(planted.contains(&("W0211", 21)), "{planted:?}");
    let excused = FLEET_STACK.replace(
        "    on_stuck: replace\n",
        "    on_stuck: replace\n    ignore_warnings: [W0211]\n",
    );
    assert_eq!(review(&excused, &live), [("W0212", 7)]);
}

const FLEET_STACK: &str = "stack: tx\ntopics:\n  oncall:\n    subscriptions:\n      - email: oncall@example.com\nqueues:\n  jobs: {}\nlog_groups:\n  workers: { name: /aws/ec2/shop }\nlog_metrics:\n  heartbeat:\n    log_group: workers\n    pattern: '{ $.event = \"JOB_PROGRESS\" }'\n    metric: { namespace: Tx, name: Heartbeat }\n    dimensions: { InstanceId: $.instance_id }\nworkers:\n  gpu-fleet:\n    group: workers\n    queue: jobs\n    heartbeat: heartbeat\n    stuck_after: 20m\n    on_stuck: replace\n    notify: [oncall]\n";

/// Each `on_stuck` mode of a group fleet: one Metrics Insights alarm grouped by
/// `InstanceId`, with `ec2:terminate`, `ec2:reboot` or only the topics; the plan says
/// what happens and what the alarm cannot see; what AWS reports back plans no change.
#[test]
fn each_on_stuck_mode_is_one_contributor_alarm_explained_in_the_plan() {
    let live = delivery_world(1800, Some("jobs-dlq"));
    for (mode, ec2, says) in [
        ("replace", Some("terminate"), "is terminated (ec2:terminate) and group workers launches a replacement; its job reappears on jobs after the visibility timeout"),
        ("reboot", Some("reboot"), "is rebooted (ec2:reboot); the instance stays in its group"),
        ("notify", None, "is notified to its topics, naming the worker; nothing acts on it"),
    ] {
        let yaml = FLEET_STACK.replace("on_stuck: replace", &format!("on_stuck: {mode}"));
        let stack = desired(&yaml);
        let plan = run(&stack, &live);
        assert!(plan.errors.is_empty(), "{mode}: {:?}", plan.errors);
        let alarm = plan
            .changes
            .iter()
            .flat_map(|c| &c.ops)
            .find_map(|op| match op {
                Op::PutMetricAlarm { alarm, .. } => Some(alarm),
                _ => None,
            })
            .expect("the stuck alarm");
        assert_eq!(alarm.name.as_str(), "tx-gpu-fleet-stuck");
        assert_eq!(
            alarm.metric,
            monplan::model::AlarmMetric::Insights {
                query: "SELECT SUM(\"Heartbeat\") FROM SCHEMA(\"Tx\", \"InstanceId\") GROUP BY \"InstanceId\" ORDER BY SUM() ASC".into(),
                period: 60
            }
        );
        assert_eq!((alarm.evaluation_periods, alarm.datapoints_to_alarm), (20, 20));
        assert_eq!(
            alarm.condition,
            Condition::Threshold { comparison: Comparison::Below, value: 1.0 }
        );
        let mut expected = vec!["arn:aws:sns:us-east-1:123456789012:tx-oncall".to_string()];
        if let Some(action) = ec2 {
            expected.insert(0, format!("arn:aws:automate:us-east-1:ec2:{action}"));
        }
        let actions: Vec<String> = alarm.actions.alarm.iter().map(ToString::to_string).collect();
        assert_eq!(actions, expected, "{mode}");
        let notice = plan
            .notices
            .iter()
            .find(|n| n.subject == "workers \"gpu-fleet\"")
            .expect("the fleet's notice");
        assert!(notice.message.contains(says), "{mode}: {}", notice.message);
        assert!(notice.message.contains("A worker that goes fully silent is not a contributor (a series exists only while it has data)"), "{}", notice.message);
        assert!(text(&plan).contains("query: SELECT SUM(\"Heartbeat\")"), "{}", text(&plan));
        // Converges: once the alarm is what the create sent, it plans no change.
        let mut after = live.clone();
        after.alarms.insert(
            alarm.name.clone(),
            LiveAlarm {
                arn: scope().alarm_arn(&alarm.name),
                owner: owner(&stack.name),
                body: LiveAlarmBody::Metric(alarm.clone()),
            },
        );
        let again = run(&stack, &after);
        let changes: Vec<String> = again.changes.iter().map(|c| c.resource.to_string()).collect();
        assert!(!changes.contains(&"alarm \"tx-gpu-fleet-stuck\"".to_string()), "{changes:?}");
    }
    // A visibility timeout shorter than stuck_after warns at stuck_after (line 21).
    assert_eq!(
        review(FLEET_STACK, &delivery_world(600, Some("jobs-dlq"))),
        [("W0211", 21)]
    );
    // ECS: `replace` only notifies and says what ECS does; `reboot` is refused.
    let ecs = FLEET_STACK.replace("    group: workers", "    service: gpu/transcribe");
    let plan = run(&desired(&ecs), &live);
    let notice = plan
        .notices
        .iter()
        .find(|n| n.subject == "workers \"gpu-fleet\"")
        .unwrap();
    assert!(notice.message.contains("no alarm action can stop an ECS task: ECS itself replaces a task of gpu/transcribe whose essential container's health check fails"), "{}", notice.message);
}

// ECS services scaled through Application Auto Scaling: a scalable target (owned only
// when registered by the stack, as its tags prove) and a policy owned by its prefix.

const ECS: &str = r"
stack: fleet
queues:
  jobs:
    name: transcription-jobs
    scaling:
      service: workers/transcribe
      min: 1
      max: 20
      latency: 10m
      processing_time: 30s
      warmup: 2m
";

fn ecs_service() -> monplan::model::ServiceRef {
    monplan::model::ServiceRef {
        cluster: "workers".into(),
        service: "transcribe".into(),
    }
}

fn ecs_world() -> LiveState {
    let mut live = fleet_world();
    live.clusters.insert(
        "workers".into(),
        monplan::model::LiveCluster {
            container_insights: Some("enabled".into()),
        },
    );
    live.services.insert(ecs_service());
    live
}

/// What AWS holds once the ECS operations of `plan` have run, the target owned as
/// `registrar` says.
fn ecs_after(
    plan: &Plan,
    mut live: LiveState,
    registrar: &monplan::model::TargetOwner,
) -> LiveState {
    for change in &plan.changes {
        for op in &change.ops {
            match op {
                Op::RegisterScalableTarget { target, .. } => {
                    live.scalable_targets.insert(
                        target.service.clone(),
                        monplan::model::LiveScalableTarget {
                            target: target.clone(),
                            arn: Some(Arn::new("arn:aws:application-autoscaling:us-east-1:123456789012:scalable-target/0ec5")),
                            owner: registrar.clone(),
                            policies: Vec::new(),
                        },
                    );
                }
                Op::PutServiceScalingPolicy(policy) => {
                    live.service_policies.insert(
                        policy.policy.clone(),
                        monplan::model::LiveServicePolicy {
                            arn: Some(ecs_policy_arn(&policy.policy.name)),
                            body: Some(policy.clone()),
                        },
                    );
                    if let Some(target) = live.scalable_targets.get_mut(&policy.policy.service) {
                        target.policies.push(policy.policy.name.clone());
                    }
                }
                _ => {}
            }
        }
    }
    live
}

/// One ARN per policy, as AWS gives: alarms tell their policies apart by it.
fn ecs_policy_arn(name: &str) -> Arn {
    Arn::new(format!("arn:aws:autoscaling:us-east-1:123456789012:scalingPolicy:p:resource/ecs/service/workers/transcribe:policyName/{name}"))
}

fn ours() -> monplan::model::TargetOwner {
    monplan::model::TargetOwner::Known(owner(&StackName::new("fleet".to_string())))
}

fn ops_of(plan: &Plan) -> Vec<(String, &'static str)> {
    plan.changes
        .iter()
        .flat_map(|c| {
            c.ops
                .iter()
                .map(move |op| (c.resource.to_string(), op.operation()))
        })
        .collect()
}

#[test]
fn an_ecs_service_gets_a_scalable_target_then_a_policy_on_tasks() {
    let stack = desired(ECS);
    let plan = run(&stack, &ecs_world());
    assert!(plan.errors.is_empty(), "{:?}", plan.errors);
    assert_eq!(
        ops_of(&plan),
        [
            (
                "scalable target \"service/workers/transcribe\"".to_string(),
                "RegisterScalableTarget"
            ),
            (
                "service scaling policy \"workers/transcribe/fleet_jobs\"".to_string(),
                "PutScalingPolicy"
            ),
        ]
    );
    // Registered with the stack's ownership tag: what proves the target is ours later.
    let Op::RegisterScalableTarget { target, with_tags } = &plan.changes[0].ops[0] else {
        panic!("{:?}", plan.changes[0].ops);
    };
    assert!(with_tags);
    assert_eq!((target.min, target.max), (1, 20));
    assert_eq!(
        target.tags.get("monplan:stack").map(String::as_str),
        Some("fleet")
    );
    // The policy waits for the target: two waves.
    let policy = &plan.changes[1];
    assert_eq!(
        policy.depends_on,
        [ResourceId::ScalableTarget(ecs_service())]
    );
    assert_eq!(plan.schedule().waves.len(), 2);
    // The computed target is shown as for groups.
    let target = policy.fields.iter().find(|f| f.name == "target").unwrap();
    assert_eq!(
        target.after.as_deref(),
        Some("20 messages per task (latency 10m / processing_time 30s)")
    );
    let text = text(&plan);
    assert!(
        text.contains(
            "target tracking on visible / tasks (ECS/ContainerInsights RunningTaskCount)"
        ),
        "{text}"
    );
    assert!(text.contains("warmup"), "{text}");
}

#[test]
fn an_applied_ecs_scaling_plans_no_change() {
    let stack = desired(ECS);
    let plan = run(&stack, &ecs_world());
    let live = ecs_after(&plan, ecs_world(), &ours());
    let again = run(&stack, &live);
    assert!(again.is_empty(), "{}", text(&again));
    assert!(again.notices.is_empty(), "{:?}", again.notices);
}

#[test]
fn one_changed_ecs_field_is_one_update() {
    let stack = desired(ECS);
    let live = ecs_after(&run(&stack, &ecs_world()), ecs_world(), &ours());
    let stack = desired(&ECS.replace("max: 20", "max: 30"));
    let plan = run(&stack, &live);
    assert_eq!(plan.changes.len(), 1, "{}", text(&plan));
    let change = &plan.changes[0];
    assert_eq!(change.action, ChangeAction::Update);
    assert_eq!(change.fields.len(), 1);
    assert_eq!(change.fields[0].name, "max");
    assert_eq!(change.fields[0].before.as_deref(), Some("20 tasks"));
    assert_eq!(change.fields[0].after.as_deref(), Some("30 tasks"));
    // An update re-registers without tags: AWS applies tags on registration only.
    assert!(matches!(
        change.ops.as_slice(),
        [Op::RegisterScalableTarget {
            with_tags: false,
            ..
        }]
    ));
    let stack = desired(&ECS.replace("latency: 10m", "latency: 20m"));
    let plan = run(&stack, &live);
    assert_eq!(plan.changes.len(), 1, "{}", text(&plan));
    assert_eq!(plan.changes[0].fields[0].name, "target");
    assert_eq!(
        plan.changes[0].fields[0].before.as_deref(),
        Some("20 messages per task")
    );
}

const NO_SCALING: &str = r"
stack: fleet
queues:
  jobs:
    name: transcription-jobs
";

#[test]
fn an_owned_target_is_deregistered_after_its_policy() {
    let live = ecs_after(&run(&desired(ECS), &ecs_world()), ecs_world(), &ours());
    let plan = run(&desired(NO_SCALING), &live);
    let actions: Vec<(String, ChangeAction)> = plan
        .changes
        .iter()
        .map(|c| (c.resource.to_string(), c.action))
        .collect();
    assert_eq!(
        actions,
        [
            (
                "service scaling policy \"workers/transcribe/fleet_jobs\"".to_string(),
                ChangeAction::Delete
            ),
            (
                "scalable target \"service/workers/transcribe\"".to_string(),
                ChangeAction::Delete
            ),
        ]
    );
    let waves: Vec<Vec<&'static str>> = plan
        .schedule()
        .waves
        .iter()
        .map(|w| {
            w.steps
                .iter()
                .flat_map(|s| s.ops.iter().map(Op::operation))
                .collect()
        })
        .collect();
    assert_eq!(
        waves,
        [
            vec!["DeleteScalingPolicy"],
            vec!["DeregisterScalableTarget"]
        ]
    );
}

#[test]
fn a_foreign_policy_keeps_an_owned_target_and_foreign_targets_are_never_touched() {
    let mut live = ecs_after(&run(&desired(ECS), &ecs_world()), ecs_world(), &ours());
    live.scalable_targets
        .get_mut(&ecs_service())
        .unwrap()
        .policies
        .push("cpu-tracking".into());
    // A target someone else registered on another service, with their policy on it.
    let other = monplan::model::ServiceRef {
        cluster: "workers".into(),
        service: "thumbnails".into(),
    };
    live.scalable_targets.insert(
        other.clone(),
        monplan::model::LiveScalableTarget {
            target: monplan::model::ScalableTarget {
                service: other,
                min: 0,
                max: 4,
                tags: BTreeMap::new(),
            },
            arn: None,
            owner: monplan::model::TargetOwner::Known(Owner::Foreign),
            policies: vec!["cpu-tracking".into()],
        },
    );
    let plan = run(&desired(NO_SCALING), &live);
    assert_eq!(
        ops_of(&plan),
        [(
            "service scaling policy \"workers/transcribe/fleet_jobs\"".to_string(),
            "DeleteScalingPolicy"
        )]
    );
    let notice = plan
        .notices
        .iter()
        .find(|n| n.subject == "scalable target \"service/workers/transcribe\"")
        .unwrap();
    assert!(
        notice.message.contains("cpu-tracking"),
        "{}",
        notice.message
    );
}

#[test]
fn a_target_of_unknown_ownership_is_used_never_changed_or_deregistered() {
    let unknown = monplan::model::TargetOwner::Unknown(
        "ListTagsForResource on scalable target x failed: InternalFailure: not implemented".into(),
    );
    let live = ecs_after(&run(&desired(ECS), &ecs_world()), ecs_world(), &unknown);
    // Same capacity: nothing to do but say whose the target is.
    let plan = run(&desired(ECS), &live);
    assert!(plan.is_empty(), "{}", text(&plan));
    assert!(plan.errors.is_empty(), "{:?}", plan.errors);
    assert_eq!(plan.notices.len(), 1);
    assert!(
        plan.notices[0].message.contains("unknown origin"),
        "{:?}",
        plan.notices
    );
    assert!(
        plan.notices[0].message.contains("min 1, max 20"),
        "{:?}",
        plan.notices
    );
    // Another capacity: a warning at `service:`, still no change to the target.
    let plan = run(&desired(&ECS.replace("max: 20", "max: 30")), &live);
    assert!(plan.is_empty(), "{}", text(&plan));
    let codes: Vec<&str> = plan.errors.iter().map(|d| d.code).collect();
    assert_eq!(codes, ["W0302"]);
    // Scaling removed: the policy (ours by prefix) goes, the target stays.
    let plan = run(&desired(NO_SCALING), &live);
    assert_eq!(
        ops_of(&plan),
        [(
            "service scaling policy \"workers/transcribe/fleet_jobs\"".to_string(),
            "DeleteScalingPolicy"
        )]
    );
}

#[test]
fn a_missing_cluster_or_service_is_an_error_at_service_and_plans_nothing_for_it() {
    let stack = desired(ECS);
    let mut live = ecs_world();
    live.services.clear();
    let plan = run(&stack, &live);
    assert!(plan.changes.is_empty(), "{}", text(&plan));
    let errors: Vec<(&str, String)> = plan
        .errors
        .iter()
        .map(|d| (d.code, d.message.clone()))
        .collect();
    assert_eq!(
        errors,
        [(
            "E0104",
            "ECS service `transcribe` does not exist in cluster `workers`".to_string()
        )]
    );
    let start = plan
        .errors
        .iter()
        .next()
        .unwrap()
        .primary
        .as_ref()
        .unwrap()
        .0
        .start;
    assert!(
        ECS[start..].starts_with("workers/transcribe"),
        "at `service:`'s value"
    );
    live.clusters.clear();
    let plan = run(&stack, &live);
    let messages: Vec<String> = plan.errors.iter().map(|d| d.message.clone()).collect();
    assert_eq!(
        messages,
        ["ECS cluster `workers` does not exist in us-east-1"]
    );
}

#[test]
fn a_cluster_without_container_insights_is_a_warning_at_service() {
    let mut live = ecs_world();
    live.clusters.get_mut("workers").unwrap().container_insights = Some("disabled".into());
    let plan = run(&desired(ECS), &live);
    let codes: Vec<&str> = plan.errors.iter().map(|d| d.code).collect();
    assert_eq!(codes, ["W0301"]);
    assert_eq!(plan.changes.len(), 2, "still planned");
}

// `from_zero` for a service: a step policy on the scalable target and the alarm that
// drives it while messages wait and no task runs.

const ECS_FROM_ZERO: &str = r"
stack: fleet
queues:
  jobs:
    name: transcription-jobs
    scaling:
      service: workers/transcribe
      min: 0
      max: 20
      backlog_per_instance: 10
      warmup: 2m
      from_zero: true
";

/// [`ecs_after`], and the alarms put, with the policy ARNs they waited for filled in.
fn ecs_after_with_alarms(plan: &Plan, live: LiveState) -> LiveState {
    let mut live = ecs_after(plan, live, &ours());
    let scope = scope();
    for change in &plan.changes {
        for op in &change.ops {
            if let Op::PutMetricAlarm { alarm, .. } = op {
                let mut alarm = alarm.clone();
                for action in &mut alarm.actions.alarm {
                    if let monplan::model::Action::ServicePolicy(policy) = action {
                        *action = monplan::model::Action::Arn(
                            live.service_policies[policy].arn.clone().unwrap(),
                        );
                    }
                }
                alarm.actions.normalize();
                live.alarms.insert(
                    alarm.name.clone(),
                    LiveAlarm {
                        arn: scope.alarm_arn(&alarm.name),
                        owner: owner(&stack_name()),
                        body: LiveAlarmBody::Metric(alarm),
                    },
                );
            }
        }
    }
    live
}

fn stack_name() -> StackName {
    StackName::new("fleet".to_string())
}

fn step_policy() -> monplan::model::ServicePolicyRef {
    monplan::model::ServicePolicyRef {
        service: ecs_service(),
        name: "fleet_jobs-from-zero".into(),
    }
}

#[test]
fn from_zero_on_a_service_is_a_step_policy_and_an_alarm_waiting_for_its_arn() {
    let stack = desired(ECS_FROM_ZERO);
    let plan = run(&stack, &ecs_world());
    assert!(plan.errors.is_empty(), "{:?}", plan.errors);
    assert_eq!(
        ops_of(&plan),
        [
            (
                "scalable target \"service/workers/transcribe\"".to_string(),
                "RegisterScalableTarget"
            ),
            (
                "service scaling policy \"workers/transcribe/fleet_jobs\"".to_string(),
                "PutScalingPolicy"
            ),
            (
                "service scaling policy \"workers/transcribe/fleet_jobs-from-zero\"".to_string(),
                "PutScalingPolicy"
            ),
            (
                "alarm \"fleet-jobs-from-zero\"".to_string(),
                "PutMetricAlarm"
            ),
        ],
        "{}",
        text(&plan)
    );
    let change = |id: &ResourceId| plan.changes.iter().find(|c| &c.resource == id).unwrap();
    // The step policy: +1 task, its cooldown the warmup, on the target.
    let step = change(&ResourceId::ServicePolicy(step_policy()));
    assert_eq!(step.depends_on, [ResourceId::ScalableTarget(ecs_service())]);
    let [Op::PutServiceScalingPolicy(put)] = step.ops.as_slice() else {
        panic!("{:?}", step.ops);
    };
    assert_eq!(
        put.kind,
        monplan::model::ServicePolicyKind::FromZero { cooldown: 120 }
    );
    // No read-back: Application Auto Scaling answers PutScalingPolicy with the ARN.
    assert_eq!(step.ops.len(), 1);
    // The alarm: messages wait and no task runs, its action the policy's ARN to come.
    let alarm = change(&ResourceId::Alarm(AlarmName::new("fleet-jobs-from-zero")));
    assert_eq!(alarm.depends_on, [ResourceId::ServicePolicy(step_policy())]);
    let [Op::PutMetricAlarm { alarm: put, .. }] = alarm.ops.as_slice() else {
        panic!("{:?}", alarm.ops);
    };
    assert_eq!(
        put.actions.alarm,
        [monplan::model::Action::ServicePolicy(step_policy())]
    );
    let monplan::model::AlarmMetric::Math {
        expression,
        metrics,
    } = &put.metric
    else {
        panic!("{:?}", put.metric);
    };
    assert_eq!(expression, "IF(visible > 0 AND FILL(tasks, 0) == 0, 1, 0)");
    let tasks = &metrics["tasks"];
    assert_eq!(
        (tasks.namespace.as_str(), tasks.name.as_str()),
        ("ECS/ContainerInsights", "RunningTaskCount")
    );
    assert_eq!(
        tasks.dimensions,
        BTreeMap::from([
            ("ClusterName".to_string(), "workers".to_string()),
            ("ServiceName".to_string(), "transcribe".to_string()),
        ])
    );
    assert_eq!(
        metrics["visible"].dimensions["QueueName"],
        "transcription-jobs"
    );
    // Target, then both policies, then the alarm.
    assert_eq!(plan.schedule().waves.len(), 3);
    let shown = text(&plan);
    assert!(
        shown.contains(
            "(known after apply: service scaling policy workers/transcribe/fleet_jobs-from-zero)"
        ),
        "{shown}"
    );
    assert!(
        shown.contains("step scaling: +1 task while no task runs and messages wait"),
        "{shown}"
    );
}

#[test]
fn an_applied_service_from_zero_plans_no_change() {
    let stack = desired(ECS_FROM_ZERO);
    let live = ecs_after_with_alarms(&run(&stack, &ecs_world()), ecs_world());
    let alarm = &live.alarms[&AlarmName::new("fleet-jobs-from-zero")];
    let LiveAlarmBody::Metric(put) = &alarm.body else {
        panic!("{alarm:?}");
    };
    assert_eq!(
        put.actions.alarm,
        [monplan::model::Action::Arn(ecs_policy_arn(
            "fleet_jobs-from-zero"
        ))]
    );
    let again = run(&stack, &live);
    assert!(again.is_empty(), "{}", text(&again));
    assert!(again.notices.is_empty(), "{:?}", again.notices);
}

#[test]
fn removing_from_zero_deletes_the_alarm_then_the_step_policy_only() {
    let live = ecs_after_with_alarms(&run(&desired(ECS_FROM_ZERO), &ecs_world()), ecs_world());
    let stack = desired(&ECS_FROM_ZERO.replace("      from_zero: true\n", ""));
    let plan = run(&stack, &live);
    let actions: Vec<(String, ChangeAction)> = plan
        .changes
        .iter()
        .map(|c| (c.resource.to_string(), c.action))
        .collect();
    assert_eq!(
        actions,
        [
            (
                "alarm \"fleet-jobs-from-zero\"".to_string(),
                ChangeAction::Delete
            ),
            (
                "service scaling policy \"workers/transcribe/fleet_jobs-from-zero\"".to_string(),
                ChangeAction::Delete
            ),
        ],
        "{}",
        text(&plan)
    );
    // The alarm goes first: it no longer notifies a policy that is gone.
    let waves: Vec<Vec<&'static str>> = plan
        .schedule()
        .waves
        .iter()
        .map(|w| {
            w.steps
                .iter()
                .flat_map(|s| s.ops.iter().map(Op::operation))
                .collect()
        })
        .collect();
    assert_eq!(waves, [vec!["DeleteAlarms"], vec!["DeleteScalingPolicy"]]);
}

#[test]
fn another_alarm_may_notify_the_services_step_policy_by_its_key() {
    let yaml = format!(
        "{ECS_FROM_ZERO}alarms:\n  backlog:\n    metric: {{ namespace: AWS/SQS, name: ApproximateNumberOfMessagesVisible, dimensions: {{ QueueName: transcription-jobs }}, stat: Maximum }}\n    above: 1000\n    notify: [jobs.from_zero]\n"
    );
    let stack = desired(&yaml);
    let plan = run(&stack, &ecs_world());
    assert!(plan.errors.is_empty(), "{:?}", plan.errors);
    let alarm = plan
        .changes
        .iter()
        .find(|c| c.resource == ResourceId::Alarm(AlarmName::new("fleet-backlog")))
        .unwrap();
    assert_eq!(alarm.depends_on, [ResourceId::ServicePolicy(step_policy())]);
    let [Op::PutMetricAlarm { alarm: put, .. }] = alarm.ops.as_slice() else {
        panic!("{:?}", alarm.ops);
    };
    assert_eq!(
        put.actions.alarm,
        [monplan::model::Action::ServicePolicy(step_policy())]
    );
    // Once applied, the ARN is known at plan time and nothing changes.
    let live = ecs_after_with_alarms(&plan, ecs_world());
    let again = run(&stack, &live);
    assert!(again.is_empty(), "{}", text(&again));
}

const ECS_FLEET: &str = r"
stack: fleet
topics:
  oncall:
    subscriptions:
      - email: oncall@example.com
queues:
  jobs:
    name: transcription-jobs
log_groups:
  tasks: { name: /ecs/transcribe }
log_metrics:
  heartbeat:
    log_group: tasks
    pattern: '{ $.event = %HEARTBEAT% }'
    metric: { namespace: Tx, name: SecondsSinceProgress }
    value: $.since_progress
    dimensions: { TaskId: $.task_id }
workers:
  transcribers:
    service: workers/transcribe
    queue: jobs
    heartbeat: heartbeat
    stuck_after: 10m
    on_stuck: replace
    notify: [oncall]
";

fn ecs_fleet() -> String {
    ECS_FLEET.replace('%', "\"")
}

/// The ECS world of the fleet tests: the service runs `worker:3`, whose essential
/// containers with a health check are `checked`.
fn ecs_fleet_world(checked: &[&str]) -> LiveState {
    let mut live = ecs_world();
    live.log_groups.insert("/ecs/transcribe".into());
    live.task_definitions.insert(
        ecs_service(),
        monplan::model::workers::LiveTaskDefinition {
            name: "worker:3".into(),
            health_checked: checked.iter().map(ToString::to_string).collect(),
        },
    );
    live
}

/// The 1-based line and the text at a diagnostic's primary location.
fn located<'y>(yaml: &'y str, d: &monplan::diag::Diagnostic) -> (usize, &'y str) {
    let span = d.primary.as_ref().unwrap().0;
    (
        yaml[..span.start].matches('\n').count() + 1,
        &yaml[span.start..span.end],
    )
}

#[test]
fn a_fleet_on_a_missing_cluster_or_service_is_an_error_at_its_service() {
    let yaml = ecs_fleet();
    let stack = desired(&yaml);
    let mut live = ecs_fleet_world(&["worker"]);
    live.services.clear();
    let plan = run(&stack, &live);
    let errors: Vec<(&str, String, (usize, &str))> = plan
        .errors
        .iter()
        .map(|d| (d.code, d.message.clone(), located(&yaml, d)))
        .collect();
    assert_eq!(
        errors,
        [(
            "E0104",
            "ECS service `transcribe` does not exist in cluster `workers`".to_string(),
            (21, "workers/transcribe")
        )]
    );
    live.clusters.clear();
    let plan = run(&stack, &live);
    let errors: Vec<(&str, String, (usize, &str))> = plan
        .errors
        .iter()
        .map(|d| (d.code, d.message.clone(), located(&yaml, d)))
        .collect();
    assert_eq!(
        errors,
        [(
            "E0104",
            "ECS cluster `workers` does not exist in us-east-1".to_string(),
            (21, "workers/transcribe")
        )]
    );
}

#[test]
fn replacing_stuck_tasks_without_a_container_health_check_warns_at_on_stuck() {
    let yaml = ecs_fleet();
    let plan = run(&desired(&yaml), &ecs_fleet_world(&[]));
    let warnings: Vec<(&str, (usize, &str))> = plan
        .errors
        .iter()
        .map(|d| (d.code, located(&yaml, d)))
        .collect();
    assert_eq!(warnings, [("W0303", (25, "replace"))]);
    assert!(!plan.errors.has_errors(), "a warning, still planned");
    let message = &plan.errors.iter().next().unwrap().message;
    assert!(
        message.contains("task definition worker:3 (service workers/transcribe)"),
        "{message}"
    );
    let notice = plan
        .notices
        .iter()
        .find(|n| n.subject == "workers \"transcribers\"")
        .unwrap();
    assert!(
        notice
            .message
            .contains("task definition worker:3 declares none, so nothing replaces a stuck task"),
        "{notice:?}"
    );
    // `notify` does not rely on ECS replacing the task: no warning.
    let notify = yaml.replace("on_stuck: replace", "on_stuck: notify");
    let plan = run(&desired(&notify), &ecs_fleet_world(&[]));
    assert!(plan.errors.is_empty(), "{:?}", plan.errors);
}

#[test]
fn replacing_stuck_tasks_with_a_container_health_check_plans_clean_and_says_so() {
    let yaml = ecs_fleet();
    let plan = run(&desired(&yaml), &ecs_fleet_world(&["worker"]));
    assert!(plan.errors.is_empty(), "{:?}", plan.errors);
    let notice = plan
        .notices
        .iter()
        .find(|n| n.subject == "workers \"transcribers\"")
        .unwrap();
    assert!(
        notice
            .message
            .contains("task definition worker:3 declares one (worker)"),
        "{notice:?}"
    );
    // The alarm is planned, notifying only: no alarm action stops an ECS task.
    assert!(text(&plan).contains("alarm \"fleet-transcribers-stuck\" will be created"));
}
