//! Load and validate: each bad stack gives its located diagnostics (snapshots), and the
//! example stack is valid. Pure: no AWS, no emulator.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use monplan::diag::{Diagnostics, SourceMap};
use monplan::model::DesiredStack;
use monplan::validate::{validate, Env};

struct FakeEnv(BTreeMap<&'static str, &'static str>);

impl Env for FakeEnv {
    fn var(&self, name: &str) -> Option<String> {
        self.0.get(name).map(ToString::to_string)
    }
}

fn env() -> FakeEnv {
    FakeEnv(BTreeMap::from([(
        "ONCALL_WEBHOOK",
        "https://hooks.example.com/T000/secret-token",
    )]))
}

fn check(paths: &[PathBuf]) -> (Vec<DesiredStack>, Diagnostics, String) {
    let mut sources = SourceMap::default();
    let mut diags = Diagnostics::default();
    let specs = monplan::spec::load(paths, &mut sources, &mut diags);
    let stacks = validate(&specs, &env(), &mut diags);
    diags.sort();
    let rendered = diags.render(&sources, false);
    (stacks, diags, rendered)
}

fn codes(diags: &Diagnostics) -> Vec<&'static str> {
    diags.iter().map(|d| d.code).collect()
}

fn fixture(name: &str) -> (Diagnostics, String) {
    let path = Path::new("tests/fixtures/invalid").join(name);
    let (_, diags, rendered) = check(&[path]);
    assert!(diags.has_errors(), "{name} must be invalid");
    (diags, rendered)
}

#[test]
fn unknown_keys_are_reported_with_a_suggestion() {
    let (diags, rendered) = fixture("unknown-keys.yaml");
    // The misspelt `namespce` also leaves the metric without `namespace`: both are said.
    assert_eq!(codes(&diags), ["E0004", "E0004", "E0005", "E0004", "E0004"]);
    assert!(rendered.contains("did you mean `alarms`?"));
    assert!(rendered.contains("did you mean `evaluation_periods`?"));
    assert!(rendered.contains("did you mean `namespace`?"));
    assert!(rendered.contains("did you mean `display_name`?"));
    insta::assert_snapshot!(rendered);
}

#[test]
fn wrong_types_are_reported_each_at_its_value() {
    let (diags, rendered) = fixture("wrong-types.yaml");
    // tags, period, above, evaluation_periods, actions_enabled (`yes` is a string in YAML 1.2), notify
    assert_eq!(codes(&diags), ["E0002"; 6]);
    insta::assert_snapshot!(rendered);
}

#[test]
fn duplicate_keys_point_at_both_definitions() {
    let (diags, rendered) = fixture("duplicate-keys.yaml");
    assert_eq!(codes(&diags), ["E0003", "E0003"]);
    assert!(rendered.contains("first defined here"));
    insta::assert_snapshot!(rendered);
}

#[test]
fn alarm_rules_are_all_reported_in_one_run() {
    let (diags, rendered) = fixture("alarm-rules.yaml");
    let found = codes(&diags);
    // One diagnostic per problem: the bad default `treat_missing_data` is reported once,
    // although every alarm overrides it.
    assert_eq!(
        found,
        ["E0007", "E0006", "E0006", "E0007", "E0007", "E0005", "E0006", "E0006", "E0005"]
    );
    assert!(rendered.contains("datapoints_to_alarm (3) is more than evaluation_periods (2)"));
    assert!(rendered.contains("inherited from defaults"));
    assert!(rendered.contains("a period of 45s is not allowed"));
    assert!(rendered.contains("period x evaluation_periods is 90000s, more than one day"));
    assert!(rendered.contains("an alarm has exactly one threshold"));
    assert!(rendered.contains("alarm `no-threshold` has no threshold"));
    assert!(rendered.contains("`avg` is not a CloudWatch statistic"));
    assert!(rendered.contains("`Secs` is not a CloudWatch unit"));
    assert!(rendered.contains("alarm `no-metric` has no `metric:`"));
    assert!(rendered.contains("did you mean `not_breaching`?"));
    insta::assert_snapshot!(rendered);
}

#[test]
fn unresolved_references_suggest_the_closest_topic() {
    let (diags, rendered) = fixture("references.yaml");
    assert_eq!(codes(&diags), ["E0008", "E0006", "E0008", "E0006"]);
    assert!(rendered.contains("did you mean `oncall`, defined here?"));
    assert!(rendered.contains("`notify` has 6 actions; CloudWatch allows 5"));
    insta::assert_snapshot!(rendered);
}

#[test]
fn names_keys_regions_and_reserved_tags() {
    let (diags, rendered) = fixture("names.yaml");
    assert!(
        codes(&diags).contains(&"E0009"),
        "two alarms named shop-errors"
    );
    assert!(rendered.contains("`Shop_Front` is not a valid stack name"));
    assert!(rendered.contains("`us-east` is not an AWS region"));
    assert!(rendered.contains("`monplan:stack` is set by monplan"));
    assert!(rendered.contains("tag keys starting with `aws:` are reserved"));
    assert!(rendered.contains("`On-Call` is not a valid topic key"));
    assert!(rendered.contains("`pager topic!` is not a valid SNS topic name"));
    insta::assert_snapshot!(rendered);
}

#[test]
fn subscriptions_are_checked_per_protocol() {
    let (diags, rendered) = fixture("subscriptions.yaml");
    assert!(rendered.contains("`not-an-address` is not a valid email endpoint"));
    assert!(rendered.contains("`12ab` is not a valid sms endpoint"));
    assert!(rendered.contains("unknown subscription protocol `webhook`"));
    assert!(rendered.contains("a subscription has exactly one `protocol: endpoint` pair"));
    assert!(rendered.contains("is not a valid http endpoint"));
    assert!(rendered.contains("is not a valid sqs endpoint"));
    assert!(rendered.contains("this subscription is listed twice"));
    assert!(rendered.contains("environment variable `MONPLAN_TEST_UNSET_VARIABLE` is not set"));
    assert!(rendered.contains("`${secret:TOKEN}` is not a reference monplan knows"));
    assert_eq!(diags.error_count(), 9);
    insta::assert_snapshot!(rendered);
}

#[test]
fn syntax_errors_are_located() {
    let (diags, rendered) = fixture("syntax.yaml");
    assert_eq!(codes(&diags), ["E0001"]);
    assert!(rendered.contains("syntax.yaml:"), "{rendered}");
    insta::assert_snapshot!(rendered);
}

#[test]
fn a_stack_needs_a_name() {
    let (diags, rendered) = fixture("missing-stack.yaml");
    assert_eq!(codes(&diags), ["E0005"]);
    insta::assert_snapshot!(rendered);
}

#[test]
fn stacks_and_aws_names_are_unique_across_files() {
    let (_, diags, rendered) = check(&[PathBuf::from("tests/fixtures/duplicate-stacks")]);
    assert_eq!(codes(&diags), ["E0009", "E0009"], "{rendered}");
    assert!(rendered.contains("two files define stack `shop`"));
    assert!(rendered.contains("two alarms would be named `shared-name`"));
    insta::assert_snapshot!(rendered);
}

#[test]
fn missing_files_and_empty_directories_are_errors() {
    let dir = tempfile::tempdir().unwrap();
    let (_, diags, _) = check(&[
        dir.path().to_path_buf(),
        PathBuf::from("tests/fixtures/no-such-file.yaml"),
    ]);
    assert_eq!(codes(&diags), ["E0012", "E0012"]);
}

#[test]
fn the_example_stack_is_valid_and_complete() {
    let (stacks, diags, rendered) = check(&[PathBuf::from("stacks/example.yaml")]);
    assert!(diags.is_empty(), "{rendered}");
    let [stack] = stacks.as_slice() else {
        panic!("one stack")
    };
    assert_eq!(stack.name.as_str(), "example");
    assert_eq!(stack.topics.len(), 1);
    assert_eq!(stack.subscriptions.len(), 2);
    // 4 queue recipes + the scale-from-zero alarm + 3 job-events alarms + 4 declared
    // metric alarms + the fleet's stuck alarm; 1 composite.
    assert_eq!(stack.alarms.len(), 13);
    assert_eq!(stack.composites.len(), 1);
    assert_eq!(stack.policies.len(), 2);
    assert_eq!(stack.dashboards.len(), 1);
    assert_eq!(stack.log_groups.len(), 1);
    // The recipe's five filters and two by hand; its four queries and one by hand.
    assert_eq!(stack.log_metrics.len(), 7);
    assert_eq!(stack.queries.len(), 5);
    assert!(stack.queries.contains_key("example/recent-failures"));
    let matched: Vec<&monplan::model::SampleRun> =
        stack.samples.iter().filter(|s| s.expected).collect();
    let published: Vec<Option<&str>> = matched.iter().map(|s| s.publishes.as_deref()).collect();
    assert_eq!(
        published,
        [Some("4860"), Some("42 (InstanceId=i-0123456789abcdef0)")],
        "audio-seconds, then the heartbeat: {:?}",
        stack.samples
    );
    // The fleet: a stuck instance is terminated, one contributor per InstanceId.
    let fleet = &stack.workers["transcribers"].value;
    assert_eq!(fleet.on_stuck, monplan::model::workers::OnStuck::Replace);
    assert_eq!(fleet.dimension, "InstanceId");
    assert_eq!(fleet.stuck_after.value, 600);
    assert!(stack
        .samples
        .iter()
        .any(|s| !s.expected && s.publishes.is_none()));
    let down =
        &stack.composites[&monplan::model::AlarmName::new("example-transcription-down")].value;
    assert_eq!(
        down.rule,
        "ALARM(\"example-jobs-oldest-message-age\") OR ALARM(\"example-job-failures\")"
    );
    let webhook = stack
        .subscriptions
        .keys()
        .find(|s| s.endpoint.is_sensitive())
        .expect("the webhook");
    assert_eq!(
        webhook.endpoint.expose(),
        "https://hooks.example.com/T000/secret-token"
    );
    assert!(
        !format!("{stack:?}").contains("secret-token"),
        "Debug output must redact secrets"
    );
    // Inheritance: defaults give 5/3; the DLQ alarm overrides both.
    let oldest =
        &stack.alarms[&monplan::model::AlarmName::new("example-jobs-oldest-message-age")].value;
    assert_eq!(
        (
            oldest.evaluation_periods,
            oldest.datapoints_to_alarm,
            oldest.period()
        ),
        (5, 3, 60)
    );
    let failures = &stack.alarms[&monplan::model::AlarmName::new("example-job-failures")].value;
    assert_eq!((failures.evaluation_periods, failures.period()), (1, 300));
}

#[test]
fn queues_scaling_math_composites_and_dashboards_are_checked() {
    let (diags, rendered) = fixture("kinds.yaml");
    for expected in [
        "unknown recipe `oldest_mesage_age`",
        "did you mean `oldest_message_age`?",
        "expected a duration such as `30m`",
        "scaling needs `group:`",
        "give either `backlog_per_instance` or `latency` with `processing_time`",
        "`visibel` is not one of this alarm's metrics",
        "metric `spare` is not used by the expression",
        "an anomaly band watches a single `metric`",
        "`mth` in the rule is not an alarm of this stack",
        "`above` does not apply to a composite alarm",
        "composite alarms reference each other in a cycle: loop-a -> loop-b -> loop-a",
        "`job` is not a queue of this stack",
        "`nope` is not an alarm of this stack",
        "a widget is 1 to 24 columns wide",
        "unknown widget `chart`",
    ] {
        assert!(
            rendered.contains(expected),
            "missing {expected:?} in\n{rendered}"
        );
    }
    assert!(diags.error_count() >= 15);
    insta::assert_snapshot!(rendered);
}

/// No input makes monplan panic: every prefix of the example stack, and the example with
/// a stray character inserted or one deleted at every position, loads, validates and
/// renders its diagnostics.
#[test]
fn no_input_panics() {
    let example = std::fs::read_to_string("stacks/example.yaml").unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("mutant.yaml");
    let boundaries: Vec<usize> = example.char_indices().map(|(i, _)| i).collect();
    let mut checked = 0;
    for (n, &at) in boundaries.iter().enumerate() {
        let next = boundaries.get(n + 1).copied().unwrap_or(example.len());
        let mut variants = Vec::new();
        if n % 2 == 0 {
            variants.push(example[..at].to_string());
        }
        if n % 4 == 1 {
            variants.push(format!("{}{}", &example[..at], &example[next..]));
        }
        if n % 20 == 3 {
            for stray in ["{", ": [", "\t", "&a *a", "'"] {
                variants.push(format!("{}{stray}{}", &example[..at], &example[at..]));
            }
        }
        for variant in variants {
            std::fs::write(&path, &variant).unwrap();
            let (_, diags, rendered) = check(std::slice::from_ref(&path));
            assert!(diags.is_empty() || !rendered.is_empty());
            checked += 1;
        }
    }
    assert!(checked > 3_000, "{checked}");
}

#[test]
fn log_metrics_are_checked_offline_where_aws_would_refuse_them() {
    let (diags, rendered) = fixture("log-metrics.yaml");
    for expected in [
        "`no spaces allowed` is not a CloudWatch Logs group name",
        "a metric filter has at most 3 dimensions",
        "a metric filter cannot have both `default_value` and `dimensions`",
        "value `$.duration` needs a JSON or space-delimited pattern",
        "invalid filter pattern",
        "value `$bytes` is not a field of the pattern",
        "no log group `worker` in this stack",
        "did you mean `workers`?",
        "`AWS/` namespaces belong to AWS services",
        "this sample does not match the pattern",
        "this sample matches the pattern",
        "no log metric `job-duraton` in this stack",
        "invalid Logs Insights query",
        "no log group `nowhere` in this stack",
        "at line 2, column 3 of the value",
    ] {
        assert!(
            rendered.contains(expected),
            "missing {expected:?}:\n{rendered}"
        );
    }
    assert!(codes(&diags).contains(&"E0013"));
    insta::assert_snapshot!(rendered);
}

#[test]
fn logs_widgets_name_a_saved_query_or_carry_a_checked_query_on_known_groups() {
    let (diags, rendered) = fixture("logs-widgets.yaml");
    for expected in [
        "no saved query `recent-failure` in this stack",
        "did you mean `recent-failures`?",
        "`query:` names a saved query; write query text under `insights:`",
        "a logs widget shows a saved query (`query:`) or its own (`insights:`), not both",
        "a logs widget needs `query:` (a `queries` key) or `insights:` (query text)",
        "a saved query's widget reads the saved query's log groups",
        "a logs widget with `insights:` needs `log_groups:`",
        "no log group `worker` in this stack",
        "did you mean `workers`?",
        "a logs widget reads at least one log group",
        "invalid Logs Insights query",
        "unknown view `timeseries`",
        "did you mean `timeSeries`?",
        "unknown view `graph`",
        "views: table, timeSeries, bar, pie",
        "a widget is 1 to 24 columns wide",
        "unknown key `colour`",
    ] {
        assert!(
            rendered.contains(expected),
            "missing {expected:?}:\n{rendered}"
        );
    }
    // The invalid saved query is reported at its definition only, not again at the widget.
    assert_eq!(rendered.matches("`broken`").count(), 0, "{rendered}");
    assert_eq!(
        rendered
            .matches("error[E0006]: invalid Logs Insights query: unknown command")
            .count(),
        1,
        "{rendered}"
    );
    // The two valid widgets add nothing.
    assert!(!rendered.contains(":18:"), "{rendered}");
    assert!(
        !rendered.contains(":19:") && !rendered.contains(":20:"),
        "{rendered}"
    );
    assert!(codes(&diags).contains(&"E0007"));
    insta::assert_snapshot!(rendered);
}

#[test]
fn a_logs_widget_copies_its_saved_query_or_keeps_its_own_with_group_names() {
    use monplan::model::{LogView, Widget};
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("logs.yaml");
    std::fs::write(
        &path,
        r"
stack: logs
log_groups:
  workers: { name: /aws/ec2/transcription }
  api: { name: /aws/ec2/api }
queries:
  recent-failures:
    log_groups: [workers, api]
    query: fields @timestamp, @message | filter @message like /JOB_FAILED/ | limit 20
dashboards:
  overview:
    widgets:
      - logs: { query: recent-failures, width: 12 }
      - logs:
          log_groups: [workers, api, workers]
          insights: |
            stats count(*) by bin(1h)
          view: timeSeries
          title: Failures by hour
",
    )
    .unwrap();
    let (stacks, diags, rendered) = check(&[path]);
    assert!(diags.is_empty(), "{rendered}");
    let board = &stacks[0].dashboards["logs_overview"].value;
    assert_eq!(
        board.widgets,
        [
            Widget::Logs {
                title: "recent-failures".into(),
                width: 12,
                view: LogView::Table,
                log_groups: vec!["/aws/ec2/api".into(), "/aws/ec2/transcription".into()],
                query: "fields @timestamp, @message | filter @message like /JOB_FAILED/ | limit 20"
                    .into(),
            },
            Widget::Logs {
                title: "Failures by hour".into(),
                width: 24,
                view: LogView::TimeSeries,
                log_groups: vec!["/aws/ec2/transcription".into(), "/aws/ec2/api".into()],
                query: "stats count(*) by bin(1h)".into(),
            },
        ]
    );
}

#[test]
fn the_job_events_recipe_is_checked_where_it_is_written() {
    let (_, rendered) = fixture("job-events.yaml");
    for expected in [
        "unknown job-events format `xml`",
        "the job-events recipe needs `namespace:`",
        "`prefix` goes with `format: json`",
        "no queue `wrok` in this stack",
        "unknown job-events alarm `failure_rat`",
        "did you mean `failure_rate`?",
        "`no_progress` needs `for:`",
        "log group `plain` has no job-events recipe",
        "log group `nowher` has no job-events recipe",
    ] {
        assert!(
            rendered.contains(expected),
            "missing {expected:?}:\n{rendered}"
        );
    }
    insta::assert_snapshot!(rendered);
}

/// EC2 actions in `notify` (issue 10, item 3): allowed where AWS allows them, a located
/// error at the `ec2:` entry everywhere AWS would reject them at apply.
#[test]
fn ec2_actions_are_refused_where_aws_would_refuse_them() {
    let (diags, rendered) = fixture("ec2-actions.yaml");
    let lines: Vec<u32> = diags
        .iter()
        .filter_map(|d| d.primary.as_ref())
        .map(|(span, _)| {
            let source =
                std::fs::read_to_string("tests/fixtures/invalid/ec2-actions.yaml").unwrap();
            u32::try_from(source[..span.start].matches('\n').count() + 1).unwrap()
        })
        .collect();
    // queue-deep, box-busy, box-ratio, box-odd, box-down, box-typo; nothing at box-hung
    // (line 9) or box-lost (line 13).
    assert_eq!(lines, [19, 24, 32, 36, 39, 44], "{rendered}");
    assert_eq!(
        codes(&diags),
        ["E0007", "E0007", "E0007", "E0007", "E0007", "E0006"]
    );
    assert!(rendered.contains(
        "AWS/SQS ApproximateNumberOfMessagesVisible names no instance (no `InstanceId` dimension)"
    ));
    assert!(rendered.contains(
        "EC2 recovers an instance only from an alarm on AWS/EC2 StatusCheckFailed_System"
    ));
    assert!(rendered.contains("alarms on metric math cannot run EC2 actions"));
    assert!(rendered.contains("an anomaly band is a metric-math expression"));
    assert!(rendered.contains("composite alarms cannot run EC2 actions"));
    assert!(
        rendered.contains("did you mean `ec2:reboot`?")
            || rendered.contains("EC2 actions: ec2:reboot"),
        "{rendered}"
    );
    insta::assert_snapshot!(rendered);
}

#[test]
fn service_scaling_mistakes_are_each_located() {
    let (diags, rendered) = fixture("service-scaling.yaml");
    let lines: Vec<(&str, usize)> = {
        let text = std::fs::read_to_string("tests/fixtures/invalid/service-scaling.yaml").unwrap();
        diags
            .iter()
            .map(|d| {
                let start = d.primary.as_ref().map_or(0, |(span, _)| span.start);
                (d.code, text[..start].matches('\n').count() + 1)
            })
            .collect()
    };
    assert_eq!(
        lines,
        [
            ("E0007", 4),  // group and service
            ("E0005", 6),  // service without min and max
            ("E0006", 8),  // not cluster/service
            ("E0006", 10), // min above max
            ("E0010", 14), // max with a group
        ],
        "{rendered}"
    );
    assert!(
        rendered.contains("scaling takes either `group:` or `service:`, not both"),
        "{rendered}"
    );
    assert!(
        rendered.contains("scaling a service needs `min` and `max` (tasks)"),
        "{rendered}"
    );
    assert!(
        rendered.contains("`justone` is not `cluster/service`"),
        "{rendered}"
    );
    assert!(
        rendered.contains("`min` (5) is more than `max` (2)"),
        "{rendered}"
    );
}

/// `workers:` mistakes (issue 10, item 2), each located at the value at fault with its
/// code; the one correct fleet (`fine`) draws nothing.
#[test]
fn worker_fleet_mistakes_are_each_located() {
    let (diags, rendered) = fixture("workers.yaml");
    let text = std::fs::read_to_string("tests/fixtures/invalid/workers.yaml").unwrap();
    let located: Vec<(&str, usize, &str)> = diags
        .iter()
        .map(|d| {
            let span = d.primary.as_ref().unwrap().0;
            (
                d.code,
                text[..span.start].matches('\n').count() + 1,
                &text[span.start..span.end],
            )
        })
        .collect();
    assert_eq!(
        located,
        [
            ("E0007", 41, "reboot"),           // reboot on a service
            ("E0007", 45, "by-worker"),        // EC2 action, dimension not InstanceId
            ("E0006", 52, "4h"),               // beyond the 3h Metrics Insights window
            ("E0006", 57, "90s"),              // not whole minutes
            ("E0008", 61, "progres-lines"),    // not a log metric
            ("E0007", 66, "media/thumbnails"), // group and service both
        ],
        "{rendered}"
    );
    for said in [
        "`reboot` is not available for an ECS service",
        "needs the heartbeat's worker dimension to be `InstanceId`, not `Worker`",
        "`stuck_after` must be whole minutes, from 1m to 3h",
        "did you mean `progress-lines`?",
        "a fleet is a `group` or a `service`, not both",
    ] {
        assert!(rendered.contains(said), "{said}\n{rendered}");
    }
    insta::assert_snapshot!(rendered);
}

/// A NUL byte once cut a value short without a word (`stack: nul<NUL>x` validated as
/// stack `nul`); a control character or bytes that are not UTF-8 are now an error at
/// the character, and the file is not read further.
#[test]
fn control_characters_and_bad_utf8_are_located_errors() {
    let dir = tempfile::tempdir().unwrap();
    for (name, bytes, at, says) in [
        (
            "nul.yaml",
            &b"stack: nul\0x\n"[..],
            "nul.yaml:1:11",
            "a NUL byte (U+0000)",
        ),
        (
            "bell.yaml",
            &b"stack: shop\ntags: { a: \x07 }\n"[..],
            "bell.yaml:2:12",
            "the control character U+0007",
        ),
        (
            "latin1.yaml",
            &b"stack: shop\ntags: { a: caf\xe9 }\n"[..],
            "latin1.yaml:2:15",
            "bytes that are not UTF-8",
        ),
    ] {
        let path = dir.path().join(name);
        std::fs::write(&path, bytes).unwrap();
        let (stacks, diags, rendered) = check(&[path]);
        assert!(
            stacks.is_empty(),
            "{name}: nothing is read from such a file"
        );
        assert_eq!(codes(&diags), ["E0001"], "{rendered}");
        assert!(rendered.contains(at), "{name}: {rendered}");
        assert!(rendered.contains(says), "{name}: {rendered}");
    }
    // A byte-order mark is text, not a control character.
    let path = dir.path().join("bom.yaml");
    std::fs::write(&path, b"\xef\xbb\xbfstack: bom\n").unwrap();
    let (stacks, diags, _) = check(&[path]);
    assert!(!diags.has_errors());
    assert_eq!(stacks.len(), 1);
}
