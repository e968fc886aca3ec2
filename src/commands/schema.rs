//! `monplan schema`: the stack format's JSON Schema, rendered from the loader's key tables.

use super::{ExitStatus, Printer};
use crate::cli::GlobalArgs;
use crate::spec::schema;

pub fn schema(global: &GlobalArgs) -> ExitStatus {
    Printer::new(global).out(&schema::stack_schema_text());
    ExitStatus::Success
}
