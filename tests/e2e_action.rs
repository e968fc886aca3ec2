//! The GitHub Action's scripts (`scripts/action-plan.sh`, `scripts/action-apply.sh`) run
//! as the action runs them, against moto, with a stand-in `gh` on PATH
//! (`tests/support/gh.py`: a local CLI that records its arguments and keeps the pull
//! request's comments, not an AWS fake). One sticky comment per stack directory:
//! created on the first run, updated in place after; a failed plan is commented and
//! fails the job; the saved plans are where the outputs say, and apply applies them.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;
use support::{Emulator, Output};

const HOOK: &str = "https://hooks.example.com/services/T0ACTION/B0?token=act-Zq9-SECRET";

fn stack(name: &str, threshold: u32) -> String {
    format!(
        "stack: {name}\ndefaults: {{ notify: [oncall] }}\ntopics:\n  oncall:\n    subscriptions:\n      - https: ${{env:HOOK}}\n\
         alarms:\n  errors:\n    metric: {{ namespace: Shop, name: Errors, stat: Sum }}\n    above: {threshold}\n"
    )
}

struct Repo {
    dir: tempfile::TempDir,
}

impl Repo {
    fn new() -> Repo {
        let dir = tempfile::tempdir().unwrap();
        for sub in ["stacks/prod", "stacks/staging", "bin"] {
            std::fs::create_dir_all(dir.path().join(sub)).unwrap();
        }
        let repo = Repo { dir };
        repo.write("stacks/prod/shop.yaml", &stack("prod", 5));
        repo.write("stacks/staging/shop.yaml", &stack("staging", 5));
        let gh = repo.path("bin/gh");
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/support/gh.py");
        std::fs::write(
            &gh,
            format!("#!/bin/sh\nexec python3 '{}' \"$@\"\n", script.display()),
        )
        .unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&gh, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        repo
    }

    fn path(&self, relative: &str) -> PathBuf {
        self.dir.path().join(relative)
    }

    fn write(&self, relative: &str, text: &str) {
        std::fs::write(self.path(relative), text).unwrap();
    }

    /// Runs `scripts/NAME` in the repository, as the action does.
    fn script(&self, emulator: &Emulator, name: &str) -> Output {
        let mut cmd = Command::new("bash");
        cmd.env_clear();
        for (key, value) in emulator.monplan().get_envs() {
            if let Some(value) = value {
                cmd.env(key, value);
            }
        }
        let path = format!(
            "{}:{}",
            self.path("bin").display(),
            std::env::var("PATH").unwrap_or_default()
        );
        cmd.env("PATH", path)
            .env("MONPLAN_BIN", env!("CARGO_BIN_EXE_monplan"))
            .env("MONPLAN_STACK_DIRS", "stacks/prod\nstacks/staging")
            .env("MONPLAN_PLAN_DIR", self.path("plans"))
            .env("MONPLAN_PR", "7")
            .env("GITHUB_REPOSITORY", "acme/monitoring")
            .env("GITHUB_OUTPUT", self.path("github-output"))
            .env("FAKE_GH_LOG", self.path("gh.log"))
            .env("FAKE_GH_STATE", self.path("gh.json"))
            .env("HOOK", HOOK);
        let script = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("scripts")
            .join(name);
        let output = support::run_command(cmd, &[&script.display().to_string()], self.dir.path());
        assert!(!output.stdout.contains(HOOK) && !output.stderr.contains(HOOK));
        output
    }

    /// The pull request's comments, as the stand-in holds them.
    fn comments(&self) -> Vec<Value> {
        let text = std::fs::read_to_string(self.path("gh.json")).unwrap();
        let state: Value = serde_json::from_str(&text).unwrap();
        state["comments"].as_array().unwrap().clone()
    }

    fn comment(&self, dir: &str) -> (u64, String) {
        let marker = format!("<!-- monplan:{dir} -->\n");
        let found: Vec<Value> = self
            .comments()
            .into_iter()
            .filter(|c| c["body"].as_str().unwrap().starts_with(&marker))
            .collect();
        assert_eq!(found.len(), 1, "comments of {dir}: {found:?}");
        (
            found[0]["id"].as_u64().unwrap(),
            found[0]["body"].as_str().unwrap().to_string(),
        )
    }

    /// The `gh` calls of the last run, as (method, endpoint).
    fn gh_calls(&self) -> Vec<(String, String)> {
        let text = std::fs::read_to_string(self.path("gh.log")).unwrap_or_default();
        std::fs::remove_file(self.path("gh.log")).ok();
        text.lines()
            .map(|line| {
                let args: Vec<String> = serde_json::from_str(line).unwrap();
                let method = args
                    .iter()
                    .position(|a| a == "--method")
                    .map_or("GET".to_string(), |i| args[i + 1].clone());
                let endpoint = args
                    .iter()
                    .find(|a| a.starts_with("repos/"))
                    .cloned()
                    .unwrap_or_default();
                (method, endpoint)
            })
            .collect()
    }

    fn outputs(&self) -> String {
        let text = std::fs::read_to_string(self.path("github-output")).unwrap_or_default();
        std::fs::remove_file(self.path("github-output")).ok();
        text
    }
}

fn assert_posts(calls: &[(String, String)], method: &str, count: usize) {
    let matching = calls.iter().filter(|(m, _)| m == method).count();
    assert_eq!(matching, count, "{method} calls: {calls:?}");
}

#[test]
fn one_sticky_comment_per_directory_then_apply_the_saved_plans() {
    let emulator = Emulator::start();
    let repo = Repo::new();

    // First run: a comment per directory is created.
    let first = repo.script(&emulator, "action-plan.sh");
    first.assert_success();
    let calls = repo.gh_calls();
    assert_posts(&calls, "POST", 2);
    assert_posts(&calls, "PATCH", 0);
    assert!(calls
        .iter()
        .all(|(_, e)| e.starts_with("repos/acme/monitoring/issues/")));
    let (prod_id, prod) = repo.comment("stacks/prod");
    let (staging_id, staging) = repo.comment("stacks/staging");
    assert_ne!(prod_id, staging_id);
    assert!(prod.contains("## monplan plan: `stacks/prod`"), "{prod}");
    assert!(
        prod.contains("**Plan: 3 to add, 0 to change, 0 to destroy.**"),
        "{prod}"
    );
    assert!(prod.contains("`alarm \"prod-errors\"`") && !prod.contains("staging-errors"));
    assert!(staging.contains("`alarm \"staging-errors\"`"), "{staging}");
    for body in [&prod, &staging] {
        assert!(!body.contains(HOOK) && !body.contains("act-Zq9"), "{body}");
        assert!(body.contains("(sensitive: ${env:HOOK})"), "{body}");
    }
    // The saved plans are where the outputs say.
    let outputs = repo.outputs();
    let plans = repo.path("plans");
    assert!(
        outputs.contains(&format!("plan-dir={}\n", plans.display())),
        "{outputs}"
    );
    assert!(outputs.contains("changes=true\n"), "{outputs}");
    for dir in ["stacks__prod", "stacks__staging"] {
        let saved: Value = serde_json::from_str(
            &std::fs::read_to_string(plans.join(dir).join("plan.json")).unwrap(),
        )
        .unwrap();
        assert_eq!(
            saved["plan"]["changes"].as_array().unwrap().len(),
            3,
            "{dir}"
        );
    }

    // Second run, after a change to prod: the same two comments, updated in place.
    repo.write("stacks/prod/shop.yaml", &stack("prod", 10));
    repo.script(&emulator, "action-plan.sh").assert_success();
    let calls = repo.gh_calls();
    assert_posts(&calls, "POST", 0);
    assert_posts(&calls, "PATCH", 2);
    assert!(calls.contains(&(
        "PATCH".to_string(),
        format!("repos/acme/monitoring/issues/comments/{prod_id}")
    )));
    assert_eq!(repo.comments().len(), 2);
    let (id, prod) = repo.comment("stacks/prod");
    assert_eq!(id, prod_id);
    assert!(prod.contains("threshold: above 10"), "{prod}");

    // Apply on merge: exactly the saved plans.
    let applied = repo.script(&emulator, "action-apply.sh");
    applied.assert_success();
    assert_eq!(
        applied
            .stdout
            .matches("Apply complete! Resources: 3 added")
            .count(),
        2,
        "{applied}"
    );
    let dump = emulator.awsctl(&["dump"]);
    assert_eq!(dump["alarms"]["prod-errors"]["Threshold"], 10.0);
    assert_eq!(dump["alarms"]["staging-errors"]["Threshold"], 5.0);

    // The next plan has nothing to do, and says so in the same comments.
    repo.script(&emulator, "action-plan.sh").assert_success();
    assert!(repo.outputs().contains("changes=false\n"));
    let (id, prod) = repo.comment("stacks/prod");
    assert_eq!(id, prod_id);
    assert!(prod.contains("**No changes.**"), "{prod}");
    // A plan without changes applies nothing (and needs no AWS call to say so).
    let nothing = repo.script(&emulator, "action-apply.sh");
    nothing
        .assert_success()
        .assert_stderr_contains("stacks/prod: no changes to apply");
}

#[test]
fn a_failed_plan_is_commented_and_fails_the_job() {
    let emulator = Emulator::start();
    let repo = Repo::new();
    repo.write(
        "stacks/staging/shop.yaml",
        &stack("staging", 5).replace("above: 5", "above: lots"),
    );
    let run = repo.script(&emulator, "action-plan.sh");
    run.assert_code(1)
        .assert_stderr_contains("::error::monplan plan failed for stacks/staging (exit 1)");
    // Both directories are commented: the good one with its plan, the bad one with why.
    assert_posts(&repo.gh_calls(), "POST", 2);
    let (_, prod) = repo.comment("stacks/prod");
    assert!(prod.contains("**Plan: 3 to add"), "{prod}");
    let (_, staging) = repo.comment("stacks/staging");
    assert!(
        staging.contains("**The plan failed, nothing can be applied:** validation failed: 1 error"),
        "{staging}"
    );
    assert!(
        staging.contains("<details><summary>Error output</summary>"),
        "{staging}"
    );
    assert!(staging.contains("stacks/staging/shop.yaml"), "{staging}");
    let outputs = repo.outputs();
    assert!(outputs.contains("failed=stacks/staging\n"), "{outputs}");
    assert!(!repo.path("plans/stacks__staging/plan.json").exists());

    // Applying without the failed directory's plan fails too, and applies the rest.
    let applied = repo.script(&emulator, "action-apply.sh");
    applied
        .assert_code(1)
        .assert_stderr_contains("::error::no saved plan for stacks/staging");
    assert_eq!(
        emulator.awsctl(&["dump"])["alarms"]["prod-errors"]["Threshold"],
        5.0
    );
}

#[test]
fn a_stale_saved_plan_is_refused_at_apply() {
    let emulator = Emulator::start();
    let repo = Repo::new();
    repo.script(&emulator, "action-plan.sh").assert_success();
    // Merged with a later edit that nobody reviewed as a plan.
    repo.write("stacks/prod/shop.yaml", &stack("prod", 50));
    let applied = repo.script(&emulator, "action-apply.sh");
    applied
        .assert_code(1)
        .assert_stderr_contains("it is stale")
        .assert_stderr_contains("::error::monplan apply failed for stacks/prod");
    let dump = emulator.awsctl(&["dump"]);
    assert!(
        dump["alarms"].get("prod-errors").is_none(),
        "nothing applied for prod"
    );
    assert_eq!(dump["alarms"]["staging-errors"]["Threshold"], 5.0);
}

/// `action.yml` runs the scripts tested above, hands them every variable they read, and
/// the workflow uses it for both halves.
#[test]
fn the_action_runs_these_scripts_with_its_inputs() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let action: Value =
        serde_saphyr::from_str(&std::fs::read_to_string(root.join("action.yml")).unwrap())
            .expect("action.yml is YAML");
    assert_eq!(action["runs"]["using"], "composite");
    let steps = action["runs"]["steps"].as_array().unwrap();
    let step = |script: &str| -> &Value {
        steps
            .iter()
            .find(|s| s["run"].as_str().is_some_and(|r| r.contains(script)))
            .unwrap_or_else(|| panic!("no step runs {script}"))
    };
    for (script, inputs) in [
        (
            "scripts/action-plan.sh",
            &["stack-dirs", "args", "comment", "region"][..],
        ),
        (
            "scripts/action-apply.sh",
            &["stack-dirs", "args", "region"][..],
        ),
    ] {
        assert!(root.join(script).is_file());
        let step = step(script);
        let env = step["env"].as_object().unwrap();
        let text = std::fs::read_to_string(root.join(script)).unwrap();
        // Every MONPLAN_ variable the script documents is set by the step (but the binary,
        // which an earlier step exports).
        for line in text.lines().filter(|l| l.starts_with("#   MONPLAN_")) {
            let name = line[4..]
                .split(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .next()
                .unwrap();
            assert!(
                name == "MONPLAN_BIN" || name == "MONPLAN_PR" || env.contains_key(name),
                "{script}: the action does not set {name}"
            );
        }
        for input in inputs {
            assert!(action["inputs"].get(*input).is_some(), "no input {input}");
            let wired = env
                .values()
                .any(|v| v.as_str() == Some(&format!("${{{{ inputs.{input} }}}}")));
            assert!(wired, "{script}: input {input} is not passed");
        }
        assert_eq!(step["working-directory"], "${{ inputs.working-directory }}");
    }
    let uploads = steps
        .iter()
        .find(|s| {
            s["uses"]
                .as_str()
                .is_some_and(|u| u.starts_with("actions/upload-artifact"))
        })
        .expect("the plans are uploaded");
    assert_eq!(
        uploads["with"]["path"],
        "${{ steps.plan.outputs.plan-dir }}"
    );

    let workflow: Value = serde_saphyr::from_str(
        &std::fs::read_to_string(root.join(".github/workflows/monplan.yml")).unwrap(),
    )
    .expect("the workflow is YAML");
    let uses = |job: &str| -> Vec<Value> {
        workflow["jobs"][job]["steps"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|s| s["uses"] == "./")
            .cloned()
            .collect()
    };
    assert_eq!(uses("plan").len(), 1);
    let apply = uses("apply");
    assert_eq!(apply.len(), 1);
    assert_eq!(apply[0]["with"]["command"], "apply");
    assert_eq!(workflow["jobs"]["apply"]["needs"], "plan");
}
