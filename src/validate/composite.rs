//! Composite alarm rules: `CloudWatch`'s rule syntax over alarm *keys*, rewritten to the
//! alarms' quoted AWS names; and the cycle check among composite alarms.

use std::collections::{BTreeMap, BTreeSet};

use crate::diag::{codes, Diagnostic, Diagnostics, Sp, Span};
use crate::model::AlarmName;

const STATE_FUNCTIONS: &[&str] = &["ALARM", "OK", "INSUFFICIENT_DATA"];
const KEYWORDS: &[&str] = &["AND", "OR", "NOT", "TRUE", "FALSE"];

/// Rewrites `rule`, returning the text to send and the alarm keys it references.
pub fn rewrite(
    rule: &Sp<String>,
    alarms: &BTreeMap<String, (AlarmName, Span)>,
    d: &mut Diagnostics,
) -> Option<(String, Vec<String>)> {
    let text = rule.value.as_str();
    let mut out: Vec<String> = Vec::new();
    let mut keys = Vec::new();
    let mut depth = 0i32;
    let mut ok = true;
    let mut rest = text.trim_start();
    let error = |d: &mut Diagnostics, message: String, label: &str| {
        d.push(
            Diagnostic::error(codes::INVALID_VALUE, message)
                .at(rule.span, label.to_string())
                .note("rules combine ALARM(key), OK(key), INSUFFICIENT_DATA(key), TRUE, FALSE with AND, OR, NOT and parentheses"),
        );
    };
    while !rest.is_empty() {
        if let Some(after) = rest.strip_prefix('(') {
            out.push("(".into());
            depth += 1;
            rest = after;
        } else if let Some(after) = rest.strip_prefix(')') {
            out.push(")".into());
            depth -= 1;
            if depth < 0 {
                error(
                    d,
                    "unbalanced `)` in the rule".into(),
                    "unbalanced parentheses",
                );
                return None;
            }
            rest = after;
        } else {
            let end = rest
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(rest.len());
            if end == 0 {
                error(
                    d,
                    format!(
                        "unexpected `{}` in the rule",
                        rest.chars().next().unwrap_or(' ')
                    ),
                    "cannot read this rule",
                );
                return None;
            }
            let word = &rest[..end];
            rest = &rest[end..];
            if STATE_FUNCTIONS.contains(&word) {
                let Some((argument, after)) = rest
                    .trim_start()
                    .strip_prefix('(')
                    .and_then(|r| r.split_once(')'))
                else {
                    error(
                        d,
                        format!("`{word}` needs an alarm key in parentheses"),
                        "e.g. ALARM(job-failures)",
                    );
                    return None;
                };
                let key = argument.trim().trim_matches('"').trim();
                if let Some((name, _)) = alarms.get(key) {
                    out.push(format!("{word}(\"{name}\")"));
                    keys.push(key.to_string());
                } else {
                    d.push(
                        Diagnostic::error(
                            codes::UNRESOLVED_REFERENCE,
                            format!("`{key}` in the rule is not an alarm of this stack"),
                        )
                        .at(rule.span, format!("unknown alarm key `{key}`"))
                        .suggest_defined(
                            key,
                            alarms.keys().map(String::as_str),
                            |s| alarms[s].1,
                            "rules name alarm keys: `job-failures`, or `jobs.oldest_message_age` for a queue recipe",
                        ),
                    );
                    ok = false;
                }
                rest = after;
            } else if KEYWORDS.contains(&word) {
                out.push(word.to_string());
            } else {
                error(
                    d,
                    format!("`{word}` is not part of the rule syntax"),
                    "cannot read this rule",
                );
                return None;
            }
        }
        rest = rest.trim_start();
    }
    if depth != 0 {
        error(
            d,
            "unbalanced `(` in the rule".into(),
            "unbalanced parentheses",
        );
        return None;
    }
    if keys.is_empty() && ok {
        error(d, "the rule names no alarm".into(), "names no alarm");
        return None;
    }
    let mut rendered = String::new();
    for token in &out {
        let glue = rendered.is_empty() || rendered.ends_with('(') || token == ")";
        if !glue {
            rendered.push(' ');
        }
        rendered.push_str(token);
    }
    ok.then_some((rendered, keys))
}

/// Reports every cycle among composite alarms (a composite that, through others,
/// references itself), once per cycle, at the first composite of it.
pub fn check_cycles(
    graph: &BTreeMap<String, (Vec<String>, Span)>,
    d: &mut Diagnostics,
) -> BTreeSet<String> {
    let mut in_cycle = BTreeSet::new();
    for start in graph.keys() {
        let mut path = vec![start.clone()];
        if let Some(cycle) = find_cycle(start, graph, &mut path) {
            if cycle.iter().any(|k| in_cycle.contains(k)) {
                continue;
            }
            in_cycle.extend(cycle.iter().cloned());
            let mut diag = Diagnostic::error(
                codes::INVALID_COMBINATION,
                format!(
                    "composite alarms reference each other in a cycle: {}",
                    cycle.join(" -> ")
                ),
            )
            .at(graph[&cycle[0]].1, "this composite alarm");
            for key in &cycle[1..cycle.len() - 1] {
                diag = diag.also(graph[key].1, "references back");
            }
            d.push(diag.note("a composite alarm cannot depend on itself"));
        }
    }
    in_cycle
}

fn find_cycle(
    node: &str,
    graph: &BTreeMap<String, (Vec<String>, Span)>,
    path: &mut Vec<String>,
) -> Option<Vec<String>> {
    let (children, _) = graph.get(node)?;
    for child in children {
        if !graph.contains_key(child) {
            continue;
        }
        if let Some(position) = path.iter().position(|p| p == child) {
            let mut cycle = path[position..].to_vec();
            cycle.push(child.clone());
            return Some(cycle);
        }
        path.push(child.clone());
        if let Some(cycle) = find_cycle(child, graph, path) {
            return Some(cycle);
        }
        path.pop();
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::diag::FileId;

    fn span() -> Span {
        Span {
            file: FileId(0),
            start: 0,
            end: 1,
        }
    }

    fn alarms() -> BTreeMap<String, (AlarmName, Span)> {
        BTreeMap::from([
            (
                "jobs.oldest_message_age".to_string(),
                (AlarmName::new("t-jobs-oldest-message-age"), span()),
            ),
            (
                "job-failures".to_string(),
                (AlarmName::new("t-job-failures"), span()),
            ),
        ])
    }

    #[test]
    fn keys_become_quoted_names() {
        let mut d = Diagnostics::default();
        let rule = Sp::new("ALARM(jobs.oldest_message_age) OR (ALARM( \"job-failures\" ) AND NOT OK(job-failures))".to_string(), span());
        let (text, keys) = rewrite(&rule, &alarms(), &mut d).unwrap();
        assert_eq!(text, "ALARM(\"t-jobs-oldest-message-age\") OR (ALARM(\"t-job-failures\") AND NOT OK(\"t-job-failures\"))");
        assert_eq!(
            keys,
            ["jobs.oldest_message_age", "job-failures", "job-failures"]
        );
        assert!(d.is_empty());
    }

    #[test]
    fn unknown_keys_and_bad_syntax_are_errors() {
        for bad in [
            "ALARM(nope)",
            "ALARM(job-failures) XOR TRUE",
            "(ALARM(job-failures)",
            "ALARM job-failures",
            "TRUE",
        ] {
            let mut d = Diagnostics::default();
            assert!(
                rewrite(&Sp::new(bad.to_string(), span()), &alarms(), &mut d).is_none(),
                "{bad}"
            );
            assert!(d.has_errors(), "{bad}");
        }
    }

    #[test]
    fn cycles_are_found_once() {
        let graph = BTreeMap::from([
            (
                "a".to_string(),
                (vec!["b".to_string(), "m".to_string()], span()),
            ),
            ("b".to_string(), (vec!["a".to_string()], span())),
            ("c".to_string(), (vec!["a".to_string()], span())),
            ("d".to_string(), (vec!["m".to_string()], span())),
        ]);
        let mut d = Diagnostics::default();
        let cyclic = check_cycles(&graph, &mut d);
        assert_eq!(d.error_count(), 1);
        assert_eq!(cyclic, BTreeSet::from(["a".to_string(), "b".to_string()]));
    }
}
