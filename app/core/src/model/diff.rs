//! What changed between two topologies, entity by entity and field by field. History rows,
//! `topology apply --dry-run` and stale-edit detection all read this.

use super::topology::Topology;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::collections::BTreeMap;

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub enum ChangeKind {
    Added,
    Changed,
    Removed,
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldChange {
    pub field: String,
    pub before: Option<String>,
    pub after: Option<String>,
}

/// "backend_port 8080 → 8081", as history, audit and plan lines show a changed field.
impl std::fmt::Display for FieldChange {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} {} → {}",
            self.field,
            self.before.as_deref().unwrap_or("(none)"),
            self.after.as_deref().unwrap_or("(none)")
        )
    }
}

#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Change {
    /// The entity as the pages name it: "gateway", "port 8080", "stage dev", "route /dev".
    pub entity: String,
    pub kind: ChangeKind,
    pub fields: Vec<FieldChange>,
}

impl std::fmt::Display for Change {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let sign = match self.kind {
            ChangeKind::Added => '+',
            ChangeKind::Changed => '~',
            ChangeKind::Removed => '-',
        };
        write!(f, "{sign} {}", self.entity)?;
        if self.kind == ChangeKind::Changed {
            let fields: Vec<String> = self.fields.iter().map(ToString::to_string).collect();
            write!(f, ": {}", fields.join(", "))?;
        }
        Ok(())
    }
}

/// Entities keyed by their page name, each as a JSON object of its fields.
pub fn entities(t: &Topology) -> BTreeMap<String, Value> {
    let mut out = BTreeMap::new();
    let mut put = |key: String, value: Value| {
        out.insert(key, value);
    };
    put(
        "gateway".into(),
        serde_json::to_value(&t.gateway).unwrap_or(Value::Null),
    );
    put(
        "usage assumptions".into(),
        serde_json::to_value(&t.usage).unwrap_or(Value::Null),
    );
    for p in &t.ports {
        put(
            format!("port {}", p.port),
            serde_json::to_value(p).unwrap_or(Value::Null),
        );
    }
    for s in &t.stages {
        put(
            format!("stage {}", s.name),
            serde_json::to_value(s).unwrap_or(Value::Null),
        );
    }
    for r in &t.routes {
        put(
            format!("route {}", r.path),
            serde_json::to_value(r).unwrap_or(Value::Null),
        );
    }
    for u in &t.usage_plans {
        put(
            format!("usage plan {}", u.name),
            serde_json::to_value(u).unwrap_or(Value::Null),
        );
    }
    out
}

/// Flattens `{"a": {"b": 1}}` to `a.b = 1`, so a change names the leaf that moved.
fn leaves(prefix: &str, value: &Value, out: &mut BTreeMap<String, String>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                let key = if prefix.is_empty() {
                    k.clone()
                } else {
                    format!("{prefix}.{k}")
                };
                leaves(&key, v, out);
            }
        }
        Value::Null => {}
        Value::String(s) => {
            out.insert(prefix.to_owned(), s.clone());
        }
        other => {
            out.insert(prefix.to_owned(), other.to_string());
        }
    }
}

pub fn diff(before: &Topology, after: &Topology) -> Vec<Change> {
    let (b, a) = (entities(before), entities(after));
    let mut changes = vec![];
    for (key, old) in &b {
        match a.get(key) {
            None => changes.push(Change {
                entity: key.clone(),
                kind: ChangeKind::Removed,
                fields: vec![],
            }),
            Some(new) if new != old => {
                let (mut lo, mut ln) = (BTreeMap::new(), BTreeMap::new());
                leaves("", old, &mut lo);
                leaves("", new, &mut ln);
                let mut fields = vec![];
                for field in lo
                    .keys()
                    .chain(ln.keys())
                    .collect::<std::collections::BTreeSet<_>>()
                {
                    let (o, n) = (lo.get(field), ln.get(field));
                    if o != n {
                        fields.push(FieldChange {
                            field: field.clone(),
                            before: o.cloned(),
                            after: n.cloned(),
                        });
                    }
                }
                changes.push(Change {
                    entity: key.clone(),
                    kind: ChangeKind::Changed,
                    fields,
                });
            }
            Some(_) => {}
        }
    }
    for key in a.keys().filter(|k| !b.contains_key(*k)) {
        changes.push(Change {
            entity: key.clone(),
            kind: ChangeKind::Added,
            fields: vec![],
        });
    }
    changes
}

/// One line for a history row: "~ stage dev: backend_port 8080 → 8081; + route /x".
pub fn summary(changes: &[Change]) -> String {
    if changes.is_empty() {
        return "no change".into();
    }
    changes
        .iter()
        .map(ToString::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn seed() -> Topology {
        serde_yaml_ng::from_str(include_str!("../../../../examples/seed-topology.yaml")).unwrap()
    }

    #[test]
    fn same_topology_has_no_changes() {
        assert!(diff(&seed(), &seed()).is_empty());
    }

    #[test]
    fn names_the_leaf_that_changed() {
        let mut after = seed();
        after.stages[0].backend_port = 8081;
        after.routes.pop();
        let changes = diff(&seed(), &after);
        assert_eq!(
            summary(&changes),
            "- route /sprint/{proxy+}; ~ stage dev: backend_port 8080 → 8081"
        );
    }
}
