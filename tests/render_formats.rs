//! The machine (JSON) and pull-request (Markdown) renderings of a plan, from plans built by
//! hand: the JSON document against its documentation and JSON Schema, the Markdown against
//! GitHub's comment limit, and both against leaking secrets.

use monplan::diag::{codes, Diagnostic, Diagnostics};
use monplan::model::{
    AlarmName, Arn, Endpoint, PolicyRef, Protocol, ResourceId, StackName, SubscriptionId, TopicName,
};
use monplan::plan::render_json::{self, to_json};
use monplan::plan::render_markdown::{self, to_markdown};
use monplan::plan::{Change, ChangeAction, FieldDiff, Notice, Op, Plan};
use serde_json::{json, Value};

const SECRET: &str = "https://secret.example/xyz";

fn field(name: &str, before: Option<&str>, after: Option<&str>) -> FieldDiff {
    FieldDiff {
        name: name.to_string(),
        before: before.map(str::to_string),
        after: after.map(str::to_string),
    }
}

fn change(
    resource: ResourceId,
    action: ChangeAction,
    fields: Vec<FieldDiff>,
    ops: Vec<Op>,
) -> Change {
    Change {
        stack: StackName::new("shop"),
        region: "us-east-1".to_string(),
        resource,
        action,
        fields,
        body_diff: None,
        depends_on: Vec::new(),
        ops,
    }
}

fn alarm(name: &str) -> ResourceId {
    ResourceId::Alarm(AlarmName::new(name))
}

fn hook() -> SubscriptionId {
    SubscriptionId {
        topic: TopicName::new("shop-oncall"),
        protocol: Protocol::Https,
        endpoint: Endpoint::sensitive("${env:HOOK}", SECRET),
    }
}

fn topic_arn() -> Arn {
    Arn::new("arn:aws:sns:us-east-1:123456789012:shop-oncall")
}

/// One change of every action, a dashboard body diff, a notice and a plan error.
fn sample() -> Plan {
    let mut dashboard = change(
        ResourceId::Dashboard("shop_overview".into()),
        ChangeAction::Update,
        vec![],
        vec![Op::PutDashboard {
            name: "shop_overview".into(),
            body: "{}".into(),
        }],
    );
    dashboard.body_diff =
        Some("@@ -1,3 +1,3 @@\n {\n-  \"period\": 60\n+  \"period\": 300\n }\n".into());
    let mut errors = Diagnostics::default();
    errors.push(Diagnostic::error(
        codes::EXISTS_OUTSIDE,
        "topic \"billing\" exists outside monplan",
    ));
    Plan {
        changes: vec![
            change(
                alarm("shop-old"),
                ChangeAction::Delete,
                vec![field("threshold", Some("5"), None)],
                vec![Op::DeleteAlarms(vec![AlarmName::new("shop-old")])],
            ),
            change(
                ResourceId::Subscription(hook()),
                ChangeAction::Create,
                vec![field("endpoint", None, Some("(sensitive: ${env:HOOK})"))],
                vec![Op::Subscribe {
                    topic: topic_arn(),
                    protocol: Protocol::Https,
                    endpoint: Endpoint::sensitive("${env:HOOK}", SECRET),
                }],
            ),
            change(
                alarm("shop-errors"),
                ChangeAction::Update,
                vec![
                    field("threshold", Some("5"), Some("10")),
                    field("unit", None, Some("Count")),
                    field("datapoints_to_alarm", Some("2"), None),
                ],
                vec![Op::TagResource {
                    arn: Arn::new("arn:aws:cloudwatch:us-east-1:123456789012:alarm:shop-errors"),
                    tags: std::collections::BTreeMap::new(),
                }],
            ),
            change(
                ResourceId::CompositeAlarm(AlarmName::new("shop-down")),
                ChangeAction::Replace,
                vec![field("rule", Some("ALARM(a)"), Some("ALARM(b)"))],
                vec![
                    Op::DeleteAlarms(vec![AlarmName::new("shop-down")]),
                    Op::DeleteAlarms(vec![]),
                ],
            ),
            change(
                ResourceId::ScalingPolicy(PolicyRef {
                    group: "shop-workers".into(),
                    name: "shop_backlog".into(),
                }),
                ChangeAction::Create,
                vec![field("target", None, Some("40"))],
                vec![],
            ),
            dashboard,
        ],
        notices: vec![Notice {
            stack: StackName::new("shop"),
            subject: "subscription \"shop-oncall\" email:oncall@example.com".into(),
            message: "pending confirmation: AWS sent a confirmation email".into(),
        }],
        errors,
        limited: None,
        cost: monplan::plan::cost::PlanCost::default(),
    }
}

// ---------------------------------------------------------------------------------------
// JSON

#[test]
fn json_has_the_documented_keys_and_values() {
    let doc = to_json(&sample(), Some(12.5));
    let keys: Vec<&str> = doc
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    assert_eq!(
        keys,
        [
            "format_version",
            "summary",
            "changes",
            "notices",
            "warnings",
            "errors",
            "estimated_apply_seconds",
            "cost"
        ]
    );
    assert_eq!(doc["format_version"], json!(1));
    assert_eq!(doc["format_version"], json!(render_json::FORMAT_VERSION));
    // The replacement counts as one add and one destroy, as in the text plan.
    assert_eq!(
        doc["summary"],
        json!({"add": 3, "change": 2, "destroy": 2, "adopt": 0})
    );
    assert_eq!(doc["estimated_apply_seconds"], json!(12.5));
    assert_eq!(doc["warnings"], json!([]));
    assert_eq!(
        doc["errors"],
        json!([{"code": "E0101", "message": "topic \"billing\" exists outside monplan"}])
    );
    assert_eq!(
        doc["notices"],
        json!([{
            "stack": "shop",
            "subject": "subscription \"shop-oncall\" email:oncall@example.com",
            "message": "pending confirmation: AWS sent a confirmation email",
        }])
    );

    let changes = doc["changes"].as_array().unwrap();
    assert_eq!(changes.len(), 6);
    let actions: Vec<&str> = changes
        .iter()
        .map(|c| c["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        ["delete", "create", "update", "replace", "create", "update"]
    );
    let kinds: Vec<&str> = changes
        .iter()
        .map(|c| c["kind"].as_str().unwrap())
        .collect();
    assert_eq!(
        kinds,
        [
            "alarm",
            "subscription",
            "alarm",
            "composite alarm",
            "scaling policy",
            "dashboard"
        ]
    );
    assert_eq!(
        changes[0],
        json!({
            "stack": "shop",
            "region": "us-east-1",
            "kind": "alarm",
            "resource": "alarm \"shop-old\"",
            "action": "delete",
            "fields": [{"name": "threshold", "before": "5", "after": null}],
            "body_diff": null,
            "operations": ["DeleteAlarms"],
        })
    );
    assert_eq!(
        changes[2]["fields"],
        json!([
            {"name": "threshold", "before": "5", "after": "10"},
            {"name": "unit", "before": null, "after": "Count"},
            {"name": "datapoints_to_alarm", "before": "2", "after": null},
        ])
    );
    assert_eq!(changes[2]["operations"], json!(["TagResource"]));
    assert_eq!(
        changes[3]["resource"],
        json!("composite alarm \"shop-down\"")
    );
    assert_eq!(
        changes[3]["operations"],
        json!(["DeleteAlarms", "DeleteAlarms"])
    );
    assert_eq!(
        changes[4]["resource"],
        json!("scaling policy \"shop-workers/shop_backlog\"")
    );
    assert_eq!(changes[4]["operations"], json!([]));
    assert_eq!(
        changes[5]["body_diff"],
        json!("@@ -1,3 +1,3 @@\n {\n-  \"period\": 60\n+  \"period\": 300\n }\n")
    );
    assert_eq!(changes[5]["operations"], json!(["PutDashboard"]));
}

#[test]
fn json_estimate_is_null_when_unknown_or_not_a_number() {
    for estimate in [None, Some(f64::NAN), Some(f64::INFINITY)] {
        let doc = to_json(&Plan::default(), estimate);
        assert_eq!(doc["estimated_apply_seconds"], Value::Null, "{estimate:?}");
    }
    let doc = to_json(&Plan::default(), None);
    assert_eq!(
        doc["summary"],
        json!({"add": 0, "change": 0, "destroy": 0, "adopt": 0})
    );
    assert_eq!(doc["changes"], json!([]));
    assert_eq!(doc["errors"], json!([]));
}

fn schema() -> Value {
    serde_json::from_str(include_str!("../docs/plan-schema.json")).expect("schema is JSON")
}

#[test]
fn json_validates_against_the_published_schema() {
    let schema = schema();
    assert_eq!(
        schema["$schema"],
        json!("https://json-schema.org/draft/2020-12/schema")
    );
    for (plan, estimate) in [(sample(), Some(12.5)), (Plan::default(), None)] {
        let doc = to_json(&plan, estimate);
        let problems = validate(&schema, &doc);
        assert!(problems.is_empty(), "{problems:#?}\n{doc:#}");
    }
    // The schema's own version is the renderer's.
    assert_eq!(
        schema["properties"]["format_version"]["enum"],
        json!([render_json::FORMAT_VERSION])
    );
}

#[test]
fn schema_validator_rejects_what_the_schema_forbids() {
    let schema = schema();
    let good = to_json(&sample(), Some(1.0));
    // (what, JSON pointer of the parent, key, new value; `None` removes the key)
    let mutations = [
        ("unknown key", "", "extra", Some(json!(1))),
        ("missing key", "", "warnings", None),
        ("wrong version", "", "format_version", Some(json!(2))),
        ("bad action", "/changes/0", "action", Some(json!("destroy"))),
        (
            "number for a string",
            "/changes/0/fields/0",
            "before",
            Some(json!(5)),
        ),
        ("float count", "/summary", "add", Some(json!(1.5))),
        (
            "null for an array",
            "/changes/1",
            "operations",
            Some(Value::Null),
        ),
        ("missing nested key", "/errors/0", "code", None),
    ];
    for (what, pointer, key, value) in mutations {
        let mut doc = good.clone();
        let parent = doc.pointer_mut(pointer).unwrap().as_object_mut().unwrap();
        match value {
            Some(value) => parent.insert(key.to_string(), value),
            None => parent.remove(key),
        };
        assert!(
            !validate(&schema, &doc).is_empty(),
            "{what} passed validation"
        );
    }
}

#[test]
fn every_field_of_the_document_is_documented() {
    let docs = include_str!("../docs/plan-format.md");
    let mut names = Vec::new();
    collect_property_names(&schema(), &mut names);
    for name in names {
        assert!(
            docs.contains(&format!("`{name}`")),
            "docs/plan-format.md does not document `{name}`"
        );
    }
}

fn collect_property_names(schema: &Value, names: &mut Vec<String>) {
    if let Some(properties) = schema.get("properties").and_then(Value::as_object) {
        for (name, sub) in properties {
            names.push(name.clone());
            collect_property_names(sub, names);
        }
    }
    if let Some(items) = schema.get("items") {
        collect_property_names(items, names);
    }
}

/// A validator for the subset of JSON Schema (2020-12) that `docs/plan-schema.json` uses:
/// `type` (a name or a list), `required`, `properties`, `additionalProperties: false`,
/// `items` and `enum`; annotations are ignored. Any other keyword fails the test, so the
/// schema cannot quietly rely on something this validator does not check.
fn validate(schema: &Value, value: &Value) -> Vec<String> {
    let mut problems = Vec::new();
    check(schema, value, "$", &mut problems);
    problems
}

fn check(schema: &Value, value: &Value, path: &str, problems: &mut Vec<String>) {
    let schema = schema.as_object().expect("a schema is an object");
    for keyword in schema.keys() {
        assert!(
            matches!(
                keyword.as_str(),
                "$schema"
                    | "title"
                    | "description"
                    | "type"
                    | "required"
                    | "properties"
                    | "additionalProperties"
                    | "items"
                    | "enum"
            ),
            "the test validator does not support `{keyword}` (at {path})"
        );
    }
    if let Some(types) = schema.get("type") {
        let types: Vec<&str> = match types {
            Value::String(one) => vec![one.as_str()],
            Value::Array(many) => many.iter().map(|t| t.as_str().unwrap()).collect(),
            other => panic!("bad type {other}"),
        };
        if !types.iter().any(|t| has_type(value, t)) {
            problems.push(format!("{path}: {value} is not of type {types:?}"));
            return;
        }
    }
    if let Some(allowed) = schema.get("enum").and_then(Value::as_array) {
        if !allowed.contains(value) {
            problems.push(format!("{path}: {value} is not one of {allowed:?}"));
        }
    }
    if let Value::Object(object) = value {
        let properties = schema.get("properties").and_then(Value::as_object);
        if let Some(required) = schema.get("required").and_then(Value::as_array) {
            for key in required {
                let key = key.as_str().unwrap();
                if !object.contains_key(key) {
                    problems.push(format!("{path}: missing required `{key}`"));
                }
            }
        }
        for (key, item) in object {
            match properties.and_then(|p| p.get(key)) {
                Some(sub) => check(sub, item, &format!("{path}.{key}"), problems),
                None => match schema.get("additionalProperties") {
                    Some(Value::Bool(false)) => {
                        problems.push(format!("{path}: unexpected key `{key}`"));
                    }
                    None | Some(Value::Bool(true)) => {}
                    Some(other) => panic!("unsupported additionalProperties {other}"),
                },
            }
        }
    }
    if let (Value::Array(items), Some(item_schema)) = (value, schema.get("items")) {
        for (i, item) in items.iter().enumerate() {
            check(item_schema, item, &format!("{path}[{i}]"), problems);
        }
    }
}

fn has_type(value: &Value, name: &str) -> bool {
    match name {
        "object" => value.is_object(),
        "array" => value.is_array(),
        "string" => value.is_string(),
        "boolean" => value.is_boolean(),
        "null" => value.is_null(),
        "number" => value.is_number(),
        "integer" => value.is_u64() || value.is_i64(),
        other => panic!("unknown type {other}"),
    }
}

// ---------------------------------------------------------------------------------------
// Markdown

const NOTE: &str = "Run `monplan plan` for the full plan.";

#[test]
fn markdown_small_plan_is_complete_with_deletions_at_the_top() {
    let md = to_markdown(&sample(), Some(12.0));
    assert!(md.starts_with("## monplan plan\n"), "{md}");
    assert!(
        md.contains("**Plan: 3 to add, 2 to change, 2 to destroy.**"),
        "{md}"
    );
    assert!(
        md.contains("Estimated apply time: about 12 seconds."),
        "{md}"
    );
    assert!(!md.contains(NOTE), "{md}");
    assert!(!md.contains("truncated"), "{md}");

    // Errors and destructions come before the table.
    let table = md
        .find("| Action | Kind | Resource | Stack |")
        .expect("a table");
    let caution = md.find("> [!CAUTION]").expect("an error call-out");
    assert!(caution < table);
    assert!(
        md.contains("> - `E0101`: topic \"billing\" exists outside monplan"),
        "{md}"
    );
    let warning = md.find("> [!WARNING]").expect("a destroy call-out");
    assert!(warning < table);
    let callout = &md[warning..table];
    assert!(
        callout.contains("This plan destroys 2 resources"),
        "{callout}"
    );
    assert!(
        callout.contains("`-` `alarm \"shop-old\"` in stack shop (us-east-1): destroyed"),
        "{callout}"
    );
    assert!(
        callout.contains("`-/+` `composite alarm \"shop-down\"`"),
        "{callout}"
    );
    assert!(callout.contains("replaced"), "{callout}");
    assert!(
        !callout.contains("shop-errors"),
        "updates are not destructions: {callout}"
    );

    // One row per change, with its marker.
    for row in [
        "| `-` | alarm | `alarm \"shop-old\"` | shop (us-east-1) |",
        "| `+` | subscription | `subscription \"shop-oncall\" https:(sensitive: ${env:HOOK})` | shop (us-east-1) |",
        "| `~` | alarm | `alarm \"shop-errors\"` | shop (us-east-1) |",
        "| `-/+` | composite alarm | `composite alarm \"shop-down\"` | shop (us-east-1) |",
        "| `+` | scaling policy | `scaling policy \"shop-workers/shop_backlog\"` | shop (us-east-1) |",
        "| `~` | dashboard | `dashboard \"shop_overview\"` | shop (us-east-1) |",
    ] {
        assert!(md.contains(row), "no row {row}\n{md}");
    }

    // Every change has its diff, after the table.
    assert_eq!(md.matches("<details><summary>").count(), 6, "{md}");
    assert_eq!(md.matches("</details>").count(), 6, "{md}");
    let diffs = &md[table..];
    assert!(diffs.contains(
        "<details><summary><code>~ alarm \"shop-errors\"</code> (stack shop, us-east-1)</summary>\n\n```diff\n\
         ~ threshold: 5 -> 10\n+ unit: Count\n- datapoints_to_alarm: 2\n```\n\n</details>"
    ), "{md}");
    assert!(diffs.contains("```diff\n- threshold: 5\n```"), "{md}");
    assert!(
        diffs.contains("```diff\n~ rule: ALARM(a) -> ALARM(b)\n```"),
        "{md}"
    );
    assert!(
        diffs.contains(
            "```diff\n@@ -1,3 +1,3 @@\n {\n-  \"period\": 60\n+  \"period\": 300\n }\n```"
        ),
        "{md}"
    );

    // Notices last.
    let notices = md.find("#### Notices").expect("notices");
    assert!(notices > md.rfind("</details>").unwrap());
    assert!(md.contains(
        "- `subscription \"shop-oncall\" email:oncall@example.com` (stack shop): pending confirmation: AWS sent a confirmation email"
    ), "{md}");
}

#[test]
fn markdown_without_changes_says_so() {
    let md = to_markdown(&Plan::default(), None);
    assert!(md.contains("No changes."), "{md}");
    assert!(!md.contains("Plan:"), "{md}");
    assert!(!md.contains("| Action |"), "{md}");
    assert!(!md.contains("[!WARNING]"), "{md}");
    assert!(!md.contains("Estimated"), "{md}");
}

#[test]
fn markdown_of_3000_changes_fits_in_a_comment_and_says_what_it_left_out() {
    let changes = (0..3000)
        .map(|i| {
            let action = [
                ChangeAction::Create,
                ChangeAction::Update,
                ChangeAction::Replace,
                ChangeAction::Delete,
            ][i % 4];
            change(
                alarm(&format!("shop-queue-{i:04}-age-of-oldest-message")),
                action,
                vec![
                    field("threshold", Some("300"), Some("600")),
                    field("evaluation_periods", None, Some("3")),
                ],
                vec![],
            )
        })
        .collect();
    let plan = Plan {
        changes,
        ..Plan::default()
    };
    let md = to_markdown(&plan, Some(600.0));
    assert!(md.len() < 60_000, "{} bytes", md.len());
    assert!(md.chars().count() < 60_000);
    assert!(md.len() <= render_markdown::MAX_LEN);
    assert!(md.contains("**Plan: 1500 to add, 750 to change, 1500 to destroy.**"));
    assert!(md.contains("Estimated apply time: about 10 minutes."));

    // The table is cut, so no diffs are left; the note says how much is missing.
    assert!(md.contains("| Action | Kind | Resource | Stack |"));
    assert_eq!(md.matches("<details>").count(), 0);
    let rows = md.lines().filter(|l| l.starts_with("| `")).count();
    assert!(rows > 0 && rows < 3000, "{rows} rows");
    let note = format!(
        "{} of 3000 resources are not listed in the table, and no diffs are shown. {NOTE}",
        3000 - rows
    );
    assert!(
        md.contains(&note),
        "no note {note:?} in\n{}",
        &md[md.len() - 500..]
    );
    assert!(md.trim_end().ends_with(NOTE), "the note comes last");

    // The destroy call-out is capped too, and says so.
    assert!(md.contains("This plan destroys 1500 resources"));
    let listed = md.lines().filter(|l| l.starts_with("> - `-")).count();
    assert!(listed > 0 && listed < 1500, "{listed} destructions listed");
    assert!(md.contains(&format!("> - ... and {} more resources\n", 1500 - listed)));
}

#[test]
fn markdown_drops_diffs_from_the_end_before_table_rows() {
    // 200 changes whose diffs alone are far over the limit, but whose table fits.
    let big = "x".repeat(400);
    let changes = (0..200)
        .map(|i| {
            change(
                alarm(&format!("shop-{i:03}")),
                ChangeAction::Update,
                vec![field("description", Some(&big), Some(&format!("{big}!")))],
                vec![],
            )
        })
        .collect();
    let md = to_markdown(
        &Plan {
            changes,
            ..Plan::default()
        },
        None,
    );
    assert!(md.len() <= render_markdown::MAX_LEN, "{} bytes", md.len());
    for i in 0..200 {
        assert!(
            md.contains(&format!("| `~` | alarm | `alarm \"shop-{i:03}\"` |")),
            "row {i}"
        );
    }
    let shown = md.matches("<details>").count();
    assert!(shown > 0 && shown < 200, "{shown} diffs");
    // The first ones are kept, the last ones dropped.
    assert!(md.contains("<code>~ alarm \"shop-000\"</code>"));
    assert!(!md.contains("<code>~ alarm \"shop-199\"</code>"));
    assert!(md.contains(&format!(
        "the diffs of {} of 200 resources are not shown. {NOTE}",
        200 - shown
    )));
}

#[test]
fn markdown_escapes_table_cells_and_cannot_break_out_of_a_fence() {
    let plan = Plan {
        changes: vec![change(
            alarm("a|b `c` d"),
            ChangeAction::Update,
            vec![field(
                "description",
                Some("plain"),
                Some("```\n# not a heading\n````"),
            )],
            vec![],
        )],
        ..Plan::default()
    };
    let md = to_markdown(&plan, None);
    // `|` is escaped so the row keeps its four cells; backticks get a longer code span.
    assert!(
        md.contains(r#"| `~` | alarm | ``alarm "a\|b `c` d"`` | shop (us-east-1) |"#),
        "{md}"
    );
    // A fence longer than any run of backticks in the diff.
    assert!(
        md.contains("`````diff\n~ description: plain -> ```\n# not a heading\n````\n`````\n"),
        "{md}"
    );
}

// ---------------------------------------------------------------------------------------
// Secrets

#[test]
fn a_sensitive_endpoint_never_appears_in_either_format() {
    let plan = sample();
    let json = serde_json::to_string(&to_json(&plan, None)).unwrap();
    let pretty = serde_json::to_string_pretty(&to_json(&plan, None)).unwrap();
    let md = to_markdown(&plan, None);
    for (format, output) in [("json", &json), ("pretty json", &pretty), ("markdown", &md)] {
        assert!(
            !output.contains(SECRET),
            "{format} leaks the endpoint:\n{output}"
        );
        assert!(
            !output.contains("secret.example"),
            "{format} leaks the host:\n{output}"
        );
        assert!(
            !output.contains("xyz"),
            "{format} leaks the path:\n{output}"
        );
        assert!(
            output.contains("(sensitive: ${env:HOOK})"),
            "{format} does not show the redacted form:\n{output}"
        );
    }
    // The subscription and its Subscribe operation are there, by name only.
    let doc = to_json(&plan, None);
    assert_eq!(
        doc["changes"][1]["resource"],
        json!("subscription \"shop-oncall\" https:(sensitive: ${env:HOOK})")
    );
    assert_eq!(doc["changes"][1]["operations"], json!(["Subscribe"]));
}

// ---------------------------------------------------------------------------------------
// The pull-request comment of a stack directory (what the GitHub Action posts)

use std::fmt::Write as _;

use monplan::plan::render_comment::{self, comment, Outcome};

#[test]
fn comment_of_a_plan_is_marked_titled_and_folds_the_diffs() {
    let md = to_markdown(&sample(), Some(12.0));
    let body = comment("stacks/prod", Outcome::Planned(&md), &[SECRET.to_string()]);
    assert!(body.starts_with("<!-- monplan:stacks/prod -->\n## monplan plan: `stacks/prod`\n"));
    assert_eq!(body.matches("## monplan plan").count(), 1, "one title");
    assert!(body.contains("<details><summary>"), "{body}");
    assert!(!body.contains(SECRET) && !body.contains("secret.example"));
    insta::assert_snapshot!(body);
}

#[test]
fn comment_markers_differ_per_directory_and_cannot_end_early() {
    assert_eq!(render_comment::marker("stacks"), "<!-- monplan:stacks -->");
    assert_ne!(
        render_comment::marker("stacks/prod"),
        render_comment::marker("stacks/staging")
    );
    let odd = render_comment::marker("a-->b\n<c>--");
    assert_eq!(odd.matches("-->").count(), 1, "{odd}");
    assert!(odd.ends_with(" -->") && !odd.contains('\n'), "{odd}");
}

const FAILED: &str = "\u{1b}[1m\u{1b}[31merror[E0011]\u{1b}[0m: ${env:HOOK} is not set\n  \
    --> stacks/shop.yaml:9:7\n\nerror: Subscribe refused the endpoint https://secret.example/xyz\n\n\
    validation failed: 2 errors; nothing was read from or changed in AWS\n";

#[test]
fn comment_of_a_failure_keeps_the_summary_and_folds_the_errors_without_colour_or_secrets() {
    let body = comment("stacks", Outcome::Failed(FAILED), &[SECRET.to_string()]);
    assert!(!body.contains('\u{1b}'), "{body}");
    assert!(!body.contains(SECRET), "{body}");
    assert!(body.contains(render_comment::REDACTED));
    assert!(
        body.contains("**The plan failed, nothing can be applied:** validation failed: 2 errors")
    );
    insta::assert_snapshot!(body);
}

#[test]
fn comment_of_a_huge_failure_fits_with_a_note_and_the_summary() {
    let mut errors = String::new();
    for i in 0..20_000 {
        let _ = writeln!(
            errors,
            "error[E0001]: stacks/s{i}.yaml: something is wrong here"
        );
    }
    errors.push_str("\nvalidation failed: 20000 errors; nothing was read from or changed in AWS\n");
    let body = comment("stacks", Outcome::Failed(&errors), &[]);
    let length = body.chars().count();
    assert!(length <= render_comment::MAX_CHARS, "{length} characters");
    assert!(
        length > render_comment::MAX_CHARS - 2_000,
        "the room is used: {length}"
    );
    assert!(
        body.contains("validation failed: 20000 errors"),
        "the summary is kept"
    );
    let shown = body
        .lines()
        .filter(|l| l.starts_with("error[E0001]"))
        .count();
    assert!(shown > 100 && shown < 20_000, "{shown}");
    assert!(
        body.contains(&format!("{shown} of 20002 lines are shown")),
        "{}",
        &body[body.len() - 400..]
    );
    assert_eq!(body.matches("<details>").count(), 1);
    assert!(body.contains("</details>"), "the fold is closed");
}

#[test]
fn comment_of_any_plan_fits_in_github_characters() {
    // Multi-byte names: the plan's byte budget is also a character budget, and the
    // comment adds only its heading.
    let changes = (0..3000)
        .map(|i| {
            change(
                alarm(&format!("shop-ärger-{i:04}-日本")),
                ChangeAction::Create,
                vec![field("threshold", None, Some("600"))],
                vec![],
            )
        })
        .collect();
    let plan = Plan {
        changes,
        ..Plan::default()
    };
    let body = comment("stacks", Outcome::Planned(&to_markdown(&plan, None)), &[]);
    assert!(body.chars().count() <= render_comment::MAX_CHARS);
    assert!(body.contains("**Plan: 3000 to add, 0 to change, 0 to destroy.**"));
    assert!(body.contains("This plan is truncated"));
}

#[test]
fn redaction_replaces_every_secret_longest_first() {
    let secrets = ["abcd".to_string(), "xxabcdxx".to_string(), String::new()];
    assert_eq!(
        render_comment::redact("1 xxabcdxx 2 abcd 3", &secrets),
        "1 (redacted) 2 (redacted) 3"
    );
}
