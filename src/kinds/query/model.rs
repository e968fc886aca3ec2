/// A saved Logs Insights query (a query definition), named `{stack}/{key}` so that the
/// console shows a stack's queries in one folder.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct QueryDefinition {
    pub name: String,
    /// Log group names, sorted: AWS keeps them as a set.
    pub log_groups: Vec<String>,
    /// The query text, exactly as saved.
    pub query: String,
}

/// A query definition AWS holds: AWS names it by an id of its own, not by its name, and
/// two may share a name.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LiveQuery {
    pub id: String,
    pub definition: QueryDefinition,
}
