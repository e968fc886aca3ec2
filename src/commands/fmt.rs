//! `monplan fmt`: rewrite stack files in canonical key order and style (`spec::format`),
//! or with `--check` only say which ones are not.

use std::path::Path;

use super::{ExitStatus, Printer};
use crate::cli::{FmtArgs, GlobalArgs};
use crate::diag::{Diagnostic, Diagnostics, SourceMap};
use crate::spec::{self, format};

pub fn fmt(args: &FmtArgs, global: &GlobalArgs) -> ExitStatus {
    let printer = Printer::new(global);
    let mut sources = SourceMap::default();
    let mut diags = Diagnostics::default();
    let files = spec::stack_files(&args.paths.paths, &mut diags);
    let mut unformatted = 0;
    let mut written = 0;
    for path in &files {
        let Some((source, formatted)) = formatted(path, &mut sources, &mut diags) else {
            continue;
        };
        for step in &formatted.skipped {
            printer.info(&format!(
                "{}: left the {step} as written (changing it would change what the file means)\n",
                path.display()
            ));
        }
        if formatted.text == source {
            continue;
        }
        unformatted += 1;
        let changes = formatted.changes.join(", ");
        if args.check {
            printer.out(&format!("{}: not formatted ({changes})\n", path.display()));
        } else if let Err(error) = std::fs::write(path, &formatted.text) {
            diags.push(Diagnostic::error(
                crate::diag::codes::FILE,
                format!("cannot write {}: {error}", path.display()),
            ));
        } else {
            written += 1;
            printer.out(&format!("{}: formatted ({changes})\n", path.display()));
        }
    }
    if !diags.is_empty() {
        printer.error(&diags.render(&sources, printer.color_err));
    }
    if diags.has_errors() {
        return ExitStatus::Failure;
    }
    if args.check && unformatted > 0 {
        printer.error(&format!(
            "\n{unformatted} file{} not formatted: run `monplan fmt`\n",
            if unformatted == 1 { " is" } else { "s are" }
        ));
        return ExitStatus::Failure;
    }
    if !args.check {
        printer.info(&format!(
            "{written} of {} file{} changed\n",
            files.len(),
            if files.len() == 1 { "" } else { "s" }
        ));
    }
    ExitStatus::Success
}

/// A file's text and its canonical form; `None` (reported) when it cannot be read or
/// parsed.
fn formatted(
    path: &Path,
    sources: &mut SourceMap,
    diags: &mut Diagnostics,
) -> Option<(String, format::Formatted)> {
    let bytes = match spec::read_bounded(path) {
        Ok(bytes) => bytes,
        Err(diagnostic) => {
            diags.push(diagnostic);
            return None;
        }
    };
    let Ok(source) = String::from_utf8(bytes.clone()) else {
        // The loader says where the bad bytes are.
        spec::load_source(path, bytes, sources, diags);
        return None;
    };
    let file = sources.add(path, source.clone());
    match format::format(file, &source) {
        Ok(formatted) => Some((source, formatted)),
        Err(diagnostic) => {
            diags.push(diagnostic);
            None
        }
    }
}
