//! Which runs of a task are the same run: the identity of a task instance,
//! and the key a `run:` policy dedups on.

use indexmap::IndexMap;
use minijinja::Value;
use std::fmt;

/// A task and the vars it was called with (sorted, as text): two calls with
/// the same vars are the same instance, whatever order they named them in.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) struct InstanceKey {
    task: String,
    vars: Vec<(String, String)>,
}

impl InstanceKey {
    pub(crate) fn new(task: &str, vars: &IndexMap<String, Value>) -> InstanceKey {
        let mut vars: Vec<(String, String)> = vars
            .iter()
            .map(|(k, v)| (k.clone(), crate::template::trust::text(v)))
            .collect();
        vars.sort();
        InstanceKey {
            task: task.to_owned(),
            vars,
        }
    }
}

/// `build[GOOS="linux"]`: values quoted, so that no two instances print alike
/// (it names the instance's fingerprint under `.hoist/`).
impl fmt::Display for InstanceKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.task)?;
        if self.vars.is_empty() {
            return Ok(());
        }
        f.write_str("[")?;
        for (i, (name, value)) in self.vars.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            write!(f, "{name}={value:?}")?;
        }
        f.write_str("]")
    }
}

/// What one run per invocation means for a call.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub(crate) enum RunKey {
    /// `run: once`: the task runs once, whatever its vars.
    Task(String),
    /// Deps and `run: when_changed`: once per instance.
    Instance(InstanceKey),
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(task: &str, vars: &[(&str, &str)]) -> InstanceKey {
        let vars = vars
            .iter()
            .map(|(k, v)| ((*k).to_owned(), Value::from(*v)))
            .collect();
        InstanceKey::new(task, &vars)
    }

    #[test]
    fn order_of_vars_does_not_matter_and_values_cannot_collide() {
        assert_eq!(
            key("t", &[("A", "1"), ("B", "2")]),
            key("t", &[("B", "2"), ("A", "1")])
        );
        // Before keys were types, `A=1,B=2` as one value printed as these two vars.
        assert_ne!(
            key("t", &[("A", "1,B=2")]),
            key("t", &[("A", "1"), ("B", "2")])
        );
        assert_ne!(
            key("t", &[("A", "1,B=2")]).to_string(),
            key("t", &[("A", "1"), ("B", "2")]).to_string()
        );
        assert_eq!(
            key("build", &[("GOOS", "linux")]).to_string(),
            "build[GOOS=\"linux\"]"
        );
        assert_eq!(key("build", &[]).to_string(), "build");
    }
}
