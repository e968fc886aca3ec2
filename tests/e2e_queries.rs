//! Saved Logs Insights queries. No emulator implements query definitions, so `CloudWatch`
//! Logs is answered from responses recorded in the shape the AWS API reference documents
//! (`DescribeQueryDefinitions`, `PutQueryDefinition`, `DeleteQueryDefinition`,
//! `DescribeLogGroups`, `DescribeMetricFilters` response syntax and examples), while moto
//! serves everything else. The tests check what monplan sends and how it reads what
//! comes back: apply, re-plan empty, one-field update by id, deletion of ours only.

mod support;

use std::path::Path;

use serde_json::{json, Value};
use support::replay::Replay;
use support::{Emulator, Output};

const GROUP: &str = "/aws/ec2/transcription";
const QUERY: &str = "fields @timestamp, job_id, error | filter @message like /JOB_FAILED/ | sort @timestamp desc | limit 50";

const STACK: &str = r"
stack: q
log_groups:
  workers: { name: /aws/ec2/transcription }
queries:
  recent-failures:
    log_groups: [workers]
    query: fields @timestamp, job_id, error | filter @message like /JOB_FAILED/ | sort @timestamp desc | limit 50
";

struct World {
    moto: Emulator,
    logs: Replay,
    dir: tempfile::TempDir,
}

impl World {
    fn new() -> World {
        let logs = Replay::start();
        // DescribeLogGroups and DescribeMetricFilters as the API reference shows them.
        logs.answer(
            "DescribeLogGroups",
            json!({"logGroups": [{"logGroupName": GROUP, "arn": format!("arn:aws:logs:us-east-1:123456789012:log-group:{GROUP}:*"), "creationTime": 1_700_000_000_000_u64, "metricFilterCount": 0, "storedBytes": 0}]}),
        );
        logs.answer("DescribeMetricFilters", json!({"metricFilters": []}));
        logs.answer("DescribeQueryDefinitions", json!({"queryDefinitions": []}));
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir(dir.path().join("stacks")).unwrap();
        write(dir.path(), STACK);
        World {
            moto: Emulator::start(),
            logs,
            dir,
        }
    }

    fn run(&self, args: &[&str]) -> Output {
        self.moto.run(
            args,
            self.dir.path(),
            &[(
                "AWS_ENDPOINT_URL_CLOUDWATCH_LOGS",
                self.logs.endpoint.as_str(),
            )],
        )
    }

    /// What AWS now holds: one definition per entry, as `DescribeQueryDefinitions` returns it.
    fn holds(&self, definitions: &[(&str, &str, &str)]) {
        let list: Vec<Value> = definitions
            .iter()
            .map(|(id, name, query)| {
                json!({"queryDefinitionId": id, "name": name, "queryString": query, "logGroupNames": [GROUP], "lastModified": 1_700_000_000_000_u64, "queryLanguage": "CWLI"})
            })
            .collect();
        self.logs.answer(
            "DescribeQueryDefinitions",
            json!({"queryDefinitions": list}),
        );
    }
}

fn write(dir: &Path, yaml: &str) {
    std::fs::write(dir.join("stacks/q.yaml"), yaml).unwrap();
}

#[test]
fn saved_queries_are_created_updated_by_id_and_only_ours_deleted() {
    let world = World::new();
    world.logs.answer(
        "PutQueryDefinition",
        json!({"queryDefinitionId": "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"}),
    );
    let plan = world.run(&["plan"]);
    plan.assert_code(0)
        .assert_stdout_contains("+ query \"q/recent-failures\"")
        .assert_stdout_contains("+ log_groups: [/aws/ec2/transcription]")
        .assert_stdout_contains("Plan: 1 to add, 0 to change, 0 to destroy.");
    // The listing asks for our prefix.
    let listed = world.logs.requests("DescribeQueryDefinitions");
    assert_eq!(listed[0]["queryDefinitionNamePrefix"], "q/", "{listed:?}");

    world.run(&["apply", "--auto-approve"]).assert_code(0);
    let mut puts = world.logs.requests("PutQueryDefinition");
    // The SDK adds an idempotency token: a retried put never makes a second definition.
    for put in &mut puts {
        let token = put.as_object_mut().unwrap().remove("clientToken");
        assert!(
            token.is_some_and(|t| t.as_str().is_some_and(|t| t.len() >= 32)),
            "{put}"
        );
    }
    assert_eq!(
        puts,
        [json!({"name": "q/recent-failures", "logGroupNames": [GROUP], "queryString": QUERY})],
        "a new definition is put without an id"
    );

    // AWS now holds it (and a look-alike of stack `q-eu`, which a server ignoring the
    // prefix might return, and a second copy under our name).
    world.holds(&[
        (
            "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0",
            "q/recent-failures",
            QUERY,
        ),
        (
            "ffff0000-0000-0000-0000-000000000000",
            "q-eu/recent-failures",
            QUERY,
        ),
    ]);
    world
        .run(&["plan", "--detailed-exitcode"])
        .assert_code(0)
        .assert_stdout_contains("No changes.");

    // One field changes: an update of that definition, by its id.
    write(world.dir.path(), &STACK.replace("limit 50", "limit 20"));
    let plan = world.run(&["plan", "--detailed-exitcode"]);
    plan.assert_code(2)
        .assert_stdout_contains("~ query \"q/recent-failures\"")
        .assert_stdout_contains("Plan: 0 to add, 1 to change, 0 to destroy.");
    world.run(&["apply", "--auto-approve"]).assert_code(0);
    let puts = world.logs.requests("PutQueryDefinition");
    assert_eq!(puts.len(), 2);
    assert_eq!(
        puts[1]["queryDefinitionId"],
        "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"
    );
    assert_eq!(
        puts[1]["queryString"],
        QUERY.replace("limit 50", "limit 20")
    );

    // Removed: ours is deleted by id; the look-alike is never touched.
    world
        .logs
        .answer("DeleteQueryDefinition", json!({"success": true}));
    write(world.dir.path(), "stack: q\n");
    let plan = world.run(&["plan"]);
    plan.assert_stdout_contains("- query \"q/recent-failures\"")
        .assert_stdout_contains("Plan: 0 to add, 0 to change, 1 to destroy.");
    world.run(&["apply", "--auto-approve"]).assert_code(0);
    assert_eq!(
        world.logs.requests("DeleteQueryDefinition"),
        [json!({"queryDefinitionId": "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0"})]
    );
}

#[test]
fn the_job_events_recipe_saves_four_queries_that_check_as_insights() {
    let world = World::new();
    world.logs.answer(
        "PutQueryDefinition",
        json!({"queryDefinitionId": "11111111-2222-3333-4444-555555555555"}),
    );
    write(
        world.dir.path(),
        "stack: q\nlog_groups:\n  workers:\n    name: /aws/ec2/transcription\n    job_events: { format: text, namespace: Transcription }\n",
    );
    let plan = world.run(&["plan", "--target", "queries"]);
    plan.assert_code(0)
        .assert_stdout_contains("Plan: 4 to add, 0 to change, 0 to destroy.");
    for query in ["starts", "recent-failures", "unfinished", "slowest"] {
        plan.assert_stdout_contains(&format!("+ query \"q/workers.{query}\""));
    }
    world
        .run(&["apply", "--auto-approve", "--target", "queries"])
        .assert_code(0);
    let puts = world.logs.requests("PutQueryDefinition");
    let names: Vec<&str> = puts.iter().map(|p| p["name"].as_str().unwrap()).collect();
    let mut sorted = names.clone();
    sorted.sort_unstable();
    assert_eq!(
        sorted,
        [
            "q/workers.recent-failures",
            "q/workers.slowest",
            "q/workers.starts",
            "q/workers.unfinished"
        ]
    );
    let slowest = puts
        .iter()
        .find(|p| p["name"] == "q/workers.slowest")
        .unwrap();
    assert_eq!(
        slowest["queryString"],
        "filter @message like /JOB_COMPLETE/ | parse @message /duration=(?<duration>\\d+)/ | sort duration desc | limit 20"
    );
    assert!(puts.iter().all(|p| p["logGroupNames"] == json!([GROUP])));
}

#[test]
fn an_endpoint_without_query_definitions_is_an_error_naming_the_operation() {
    // moto for everything, CloudWatch Logs included: it answers DescribeQueryDefinitions
    // with an error, as an emulator without the API does.
    let moto = Emulator::start();
    moto.awsctl(&["create-log-group", GROUP]);
    let dir = tempfile::tempdir().unwrap();
    std::fs::create_dir(dir.path().join("stacks")).unwrap();
    write(dir.path(), STACK);
    let plan = moto.run(&["plan"], dir.path(), &[]);
    plan.assert_code(1)
        .assert_stderr_contains("DescribeQueryDefinitions on saved queries q/* failed")
        .assert_stderr_contains("--exclude queries");
    // Without queries declared it is a warning, and the plan goes on.
    write(dir.path(), "stack: q\n");
    moto.run(&["plan"], dir.path(), &[])
        .assert_code(0)
        .assert_stderr_contains("warning: cannot list saved queries");
}

#[test]
fn validate_remote_reports_where_aws_disagrees_with_a_sample() {
    let world = World::new();
    write(
        world.dir.path(),
        r#"
stack: q
log_groups:
  workers: { name: /aws/ec2/transcription }
log_metrics:
  failures:
    log_group: workers
    pattern: '{ $.event = "JOB_FAILED" }'
    metric: { namespace: Transcription, name: JobFailed }
    samples:
      match: ['{"event": "JOB_FAILED"}']
      no_match: ['{"event": "JOB_START"}']
"#,
    );
    // As the API reference shows TestMetricFilter's answer: the matching events, numbered
    // from 1 in the order sent (monplan sends `no_match` lines first, then `match` ones).
    world.logs.answer(
        "TestMetricFilter",
        json!({"matches": [{"eventNumber": 2, "eventMessage": "{\"event\": \"JOB_FAILED\"}", "extractedValues": {}}]}),
    );
    world
        .run(&["validate", "--remote"])
        .assert_code(0)
        .assert_stderr_contains("AWS's matcher agrees with every sample.");
    let sent = world.logs.requests("TestMetricFilter");
    assert_eq!(
        sent,
        [
            json!({"filterPattern": "{ $.event = \"JOB_FAILED\" }", "logEventMessages": ["{\"event\": \"JOB_START\"}", "{\"event\": \"JOB_FAILED\"}"]})
        ]
    );

    world.logs.answer(
        "TestMetricFilter",
        json!({"matches": [
            {"eventNumber": 1, "eventMessage": "{\"event\": \"JOB_START\"}", "extractedValues": {}},
            {"eventNumber": 2, "eventMessage": "{\"event\": \"JOB_FAILED\"}", "extractedValues": {}}
        ]}),
    );
    world
        .run(&["validate", "--remote"])
        .assert_code(1)
        .assert_stderr_contains(
            "error[E0014]: AWS's matcher disagrees: the pattern matches this sample",
        )
        .assert_stderr_contains("stacks/q.yaml:12:18");
    // Without --remote, validate stays offline.
    world.run(&["validate"]).assert_code(0);
    assert_eq!(world.logs.requests("TestMetricFilter").len(), 2);
}
