//! `docs/stack-schema.json` is current with `monplan schema`, and agrees with the loader:
//! on the example stacks and every fixture, and on some thousands of mutants of a document
//! that sets every key, the schema (checked by python-jsonschema, the reference
//! implementation) rejects exactly what the loader rejects. Where the schema is stricter
//! on purpose (fixed value sets that validate checks), the test says so and counts it.

mod support;

use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use monplan::diag::{codes, Diagnostics, SourceMap};
use monplan::spec::schema::{as_json, every_key_document, stack_schema_text};
use serde_json::{json, Value as Json};

/// Keys whose value set validate checks and the schema offers as an enum or pattern: the
/// loader reads any string there, so only the schema rejects a wrong one.
const STRICTER_IN_SCHEMA: &[&str] = &[
    "treat_missing_data",
    "on_stuck",
    "view",
    "format",
    "account",
];

/// Schema errors per document name.
fn schema_errors(docs: &[(String, Json)]) -> BTreeMap<String, Vec<String>> {
    let mut child = Command::new(support::python())
        .arg("tests/support/schema_check.py")
        .arg("docs/stack-schema.json")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run schema_check.py");
    let mut input = String::new();
    for (name, doc) in docs {
        input.push_str(&json!({ "name": name, "doc": doc }).to_string());
        input.push('\n');
    }
    let mut stdin = child.stdin.take().unwrap();
    let writer = std::thread::spawn(move || stdin.write_all(input.as_bytes()));
    let out = child.wait_with_output().unwrap();
    writer.join().unwrap().unwrap();
    assert!(
        out.status.success(),
        "schema_check.py failed:\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .unwrap()
        .lines()
        .map(|line| {
            let v: Json = serde_json::from_str(line).unwrap();
            let errors = v["errors"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e.as_str().unwrap().to_string())
                .collect();
            (v["name"].as_str().unwrap().to_string(), errors)
        })
        .collect()
}

/// The loader's own verdict on a text: its diagnostics (spec stage only, no validate).
fn loader_codes(path: &Path, text: &[u8]) -> Vec<&'static str> {
    let mut sources = SourceMap::default();
    let mut diags = Diagnostics::default();
    monplan::spec::load_source(path, text.to_vec(), &mut sources, &mut diags);
    diags
        .iter()
        .filter(|d| d.severity == monplan::diag::Severity::Error)
        .map(|d| d.code)
        .collect()
}

#[test]
fn the_published_schema_is_what_monplan_schema_prints() {
    let bin = env!("CARGO_BIN_EXE_monplan");
    let out = Command::new(bin).arg("schema").output().unwrap();
    assert!(out.status.success());
    let printed = String::from_utf8(out.stdout).unwrap();
    assert_eq!(printed, stack_schema_text());
    let published = std::fs::read_to_string("docs/stack-schema.json").unwrap();
    assert!(
        published == printed,
        "docs/stack-schema.json is stale: run `cargo run -- schema > docs/stack-schema.json`"
    );
}

#[test]
fn the_examples_point_editors_at_the_schema() {
    for example in ["stacks/example.yaml", "stacks/example-ecs.yaml"] {
        let text = std::fs::read_to_string(example).unwrap();
        let first = text.lines().next().unwrap();
        assert_eq!(
            first, "# yaml-language-server: $schema=../docs/stack-schema.json",
            "{example}"
        );
        let target = Path::new(example)
            .parent()
            .unwrap()
            .join("../docs/stack-schema.json");
        assert!(
            target.is_file(),
            "{example}: {} does not exist",
            target.display()
        );
    }
}

/// Good files pass, and every file with a shape error (wrong type, unknown key) fails.
#[test]
fn every_fixture_and_example_is_judged_as_the_loader_judges_it() {
    let mut files = support::yaml_files(Path::new("stacks"));
    files.extend(support::yaml_files(Path::new("tests/fixtures")));
    files.sort();
    let env = monplan::validate::OfflineEnv;
    let mut docs = Vec::new();
    let mut expect = BTreeMap::new();
    for path in &files {
        let bytes = std::fs::read(path).unwrap();
        let mut sources = SourceMap::default();
        let mut diags = Diagnostics::default();
        let specs = monplan::spec::load(std::slice::from_ref(path), &mut sources, &mut diags);
        let shape: Vec<_> = diags
            .iter()
            .filter(|d| [codes::WRONG_TYPE, codes::UNKNOWN_KEY].contains(&d.code))
            .map(|d| d.code)
            .collect();
        let _ = monplan::validate::validate(&specs, &env, &mut diags);
        let name = path.display().to_string();
        let source = String::from_utf8_lossy(&bytes).into_owned();
        let mut parse_sources = SourceMap::default();
        let file = parse_sources.add(path, source.clone());
        let Ok(node) = monplan::spec::node::parse(file, &source) else {
            println!("{name}: not YAML; an editor reports the syntax error itself");
            continue;
        };
        let verdict = if !shape.is_empty() {
            Some(false)
        } else if !diags.has_errors() {
            Some(true)
        } else {
            None
        };
        expect.insert(name.clone(), (verdict, shape));
        docs.push((name, as_json(&node)));
    }
    let errors = schema_errors(&docs);
    let (mut good, mut bad, mut semantic) = (0, 0, 0);
    for (name, (verdict, shape)) in &expect {
        let errors = &errors[name];
        match verdict {
            Some(true) => {
                assert!(
                    errors.is_empty(),
                    "{name} is valid but the schema says {errors:#?}"
                );
                good += 1;
            }
            Some(false) => {
                assert!(
                    !errors.is_empty(),
                    "{name} has shape errors {shape:?} but passes the schema"
                );
                bad += 1;
            }
            None => {
                println!(
                    "{name}: only validate's errors; the schema found {}",
                    errors.len()
                );
                semantic += 1;
            }
        }
    }
    println!("{good} good files passed, {bad} with shape errors failed, {semantic} semantic only");
    assert!(
        good >= 2 && bad >= 2,
        "the corpus lost its examples or its bad fixtures"
    );
}

enum Mutation {
    Replace(Json),
    AddKey,
}

/// Every node of `doc`, by path (object keys and array indexes).
fn paths(doc: &Json, at: &mut Vec<Json>, out: &mut Vec<Vec<Json>>) {
    out.push(at.clone());
    match doc {
        Json::Object(map) => {
            for (k, v) in map {
                at.push(json!(k));
                paths(v, at, out);
                at.pop();
            }
        }
        Json::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                at.push(json!(i));
                paths(v, at, out);
                at.pop();
            }
        }
        _ => {}
    }
}

fn node_at<'a>(doc: &'a mut Json, path: &[Json]) -> &'a mut Json {
    path.iter().fold(doc, |at, part| match part {
        Json::String(k) => at.get_mut(k).unwrap(),
        Json::Number(i) => at
            .get_mut(usize::try_from(i.as_u64().unwrap()).unwrap())
            .unwrap(),
        _ => unreachable!(),
    })
}

/// The agreement itself: mutate every node of the every-key document (replace it by a
/// value of each other type, add an unknown key to each mapping) and compare verdicts.
#[test]
fn the_schema_rejects_exactly_what_the_loader_rejects() {
    let base = every_key_document();
    let mut all = Vec::new();
    paths(&base, &mut Vec::new(), &mut all);
    let replacements = [
        json!({ "no": "t" }),
        json!(true),
        json!("x y"),
        json!(7),
        json!(null),
        json!(["x"]),
    ];
    let mut docs = vec![("base".to_string(), base.clone())];
    let mut mutants = Vec::new();
    for path in all.iter().filter(|p| !p.is_empty()) {
        let mut mutations: Vec<Mutation> = replacements
            .iter()
            .cloned()
            .map(Mutation::Replace)
            .collect();
        mutations.push(Mutation::AddKey);
        for mutation in mutations {
            let mut doc = base.clone();
            let node = node_at(&mut doc, path);
            let what = match mutation {
                Mutation::Replace(value) => {
                    if *node == value {
                        continue;
                    }
                    let what = format!("= {value}");
                    *node = value;
                    what
                }
                Mutation::AddKey => {
                    let Some(map) = node.as_object_mut() else {
                        continue;
                    };
                    map.insert("no_such_key".into(), json!("x"));
                    "+ no_such_key".to_string()
                }
            };
            let name = format!("{} {what}", serde_json::to_string(path).unwrap());
            let key = path
                .iter()
                .rev()
                .find_map(Json::as_str)
                .unwrap_or("")
                .to_string();
            mutants.push((name.clone(), key));
            docs.push((name, doc));
        }
    }
    let errors = schema_errors(&docs);
    assert!(
        errors["base"].is_empty(),
        "the every-key document fails the schema: {:#?}",
        errors["base"]
    );
    let (mut rejected, mut accepted, mut stricter) = (0, 0, 0);
    let mut disagreements = Vec::new();
    for ((name, doc), (_, key)) in docs.iter().skip(1).zip(&mutants) {
        let loader = loader_codes(Path::new("mutant.yaml"), doc.to_string().as_bytes());
        let schema = &errors[name];
        match (loader.is_empty(), schema.is_empty()) {
            (false, false) => rejected += 1,
            (true, true) => accepted += 1,
            (true, false) if STRICTER_IN_SCHEMA.contains(&key.as_str()) => stricter += 1,
            _ => disagreements.push(format!("{name}: loader {loader:?}, schema {schema:?}")),
        }
    }
    println!(
        "{} mutants: {rejected} rejected by both, {accepted} accepted by both, {stricter} rejected only by the schema's value sets (validate's rules)",
        mutants.len()
    );
    assert!(
        disagreements.is_empty(),
        "{} disagreements:\n{}",
        disagreements.len(),
        disagreements.join("\n")
    );
    assert!(rejected > 500, "only {rejected} mutants rejected");
}
