//! `hoist --migrate`: a go-task Taskfile written as the equivalent native
//! `hoist.yml`. Go templates become minijinja; variables computed by
//! `git describe`, `git branch --show-current`, ... become hoist's built-ins;
//! the `docker build`/`tag`/`push` lines it recognises (the
//! `[ -z "$BRANCH" ] ||` idiom included) become `build` and `push` image
//! steps, which turn branch names into valid tags. What it cannot translate
//! stays as it was, with a comment, and is listed on stderr.

use super::model::{Action, Cmd, Dep, Task, Taskfile, VarDef, Vars};
use super::node::Node;
use std::collections::HashMap;
use std::fmt::Write as _;

/// What the migration produced: the file's text and what it left as it was.
pub(crate) struct Migration {
    pub text: String,
    pub kept: Vec<String>,
}

impl Migration {
    /// `text` (whose first line says where it comes from) with the list of
    /// what was not translated under that line, so nobody mistakes the file
    /// for a complete translation.
    pub(crate) fn new(mut text: String, kept: Vec<String>) -> Migration {
        if !kept.is_empty() {
            let mut note = String::from(
                "# Not translated (kept as written or left out; see `hoist --migrate`'s summary):\n",
            );
            for item in &kept {
                let _ = writeln!(note, "#   - {}", item.replace('\n', " "));
            }
            let at = text.find('\n').map_or(0, |i| i + 1);
            text.insert_str(at, &note);
        }
        Migration { text, kept }
    }
}

/// go-task variables whose `sh:` command computes what a hoist built-in is.
fn builtin_for(command: &str) -> Option<&'static str> {
    let c = command.split_whitespace().collect::<Vec<_>>().join(" ");
    if c.contains("git describe") {
        Some("VERSION")
    } else if c.contains("git branch --show-current")
        || c.contains("git rev-parse --abbrev-ref HEAD")
    {
        Some("GIT_BRANCH")
    } else if c.contains("git rev-parse --short HEAD") {
        Some("GIT_SHORT_COMMIT")
    } else if c.contains("git rev-parse HEAD") {
        Some("GIT_COMMIT")
    } else {
        None
    }
}

struct Migrator<'a> {
    file: &'a Taskfile,
    /// go-task variable -> hoist built-in it became.
    renames: HashMap<String, &'static str>,
    /// What was left as written or left out, for the summary.
    kept: Vec<String>,
    /// Variable names every task sees: the file's `vars:`, and its `env:`
    /// names that templates read (written as vars too).
    defined: Vec<String>,
    /// The `vars:` of the task being written.
    task_vars: Vec<String>,
    /// Variables (global or of the task being written) defined by `sh:`.
    sh_vars: Vec<String>,
    /// While a `vars:` block is written: the names it defines further down.
    later: Vec<String>,
    /// What `rename` found untranslatable (it cannot take `&mut self`).
    notes: std::cell::RefCell<Vec<String>>,
}

/// go-task special variables hoist has no equivalent of.
const GO_TASK_ONLY: &[&str] = &[
    "ALIAS",
    "EXIT_CODE",
    "TASK_DIR",
    "TASKFILE",
    "ROOT_TASKFILE",
    "CLI_ARGS_LIST",
    "CLI_FORCE",
    "CLI_SILENT",
    "CLI_VERBOSE",
    "CLI_OFFLINE",
    "CLI_ASSUME_YES",
    "TASK_VERSION",
    "TASK_EXE",
    "MATCH",
    "ITEM",
    "KEY",
    "CHECKSUM",
    "TIMESTAMP",
];

/// A YAML double-quoted scalar (JSON's string syntax is YAML's).
pub(crate) fn quoted(text: &str) -> String {
    serde_json::to_string(text).unwrap_or_default()
}

pub(crate) fn key(name: &str) -> String {
    if !name.is_empty()
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '-' | '.' | ':'))
        && !name.starts_with(|c: char| c.is_ascii_digit() || c == '-')
    {
        name.to_owned()
    } else {
        quoted(name)
    }
}

pub(crate) fn migrate(file: &Taskfile) -> Migration {
    let mut m = Migrator {
        file,
        renames: HashMap::new(),
        kept: Vec::new(),
        defined: file.vars.iter().map(|(n, _)| n.clone()).collect(),
        task_vars: Vec::new(),
        sh_vars: Vec::new(),
        later: Vec::new(),
        notes: std::cell::RefCell::new(Vec::new()),
    };
    // go-task's templates see the Taskfile's `env:` values; hoist's see
    // `vars:` only: an env value a template reads becomes a var as well.
    let text = std::fs::read_to_string(&file.path).unwrap_or_default();
    let env_as_vars: Vars = file
        .env
        .iter()
        .filter(|(name, def)| {
            !m.defined.contains(name)
                && !matches!(def, VarDef::Sh(c) if builtin_for(c).is_some())
                && reads_var(&text, name)
        })
        .cloned()
        .collect();
    m.defined.extend(env_as_vars.iter().map(|(n, _)| n.clone()));
    for (name, def) in file.vars.iter().chain(&file.env) {
        if let VarDef::Sh(command) = def {
            if let Some(builtin) = builtin_for(command) {
                m.renames.insert(name.clone(), builtin);
            }
        }
    }
    let mut out = format!(
        "# Migrated from {} by `hoist --migrate`.\n",
        file.path
            .file_name()
            .map_or_else(String::new, |n| n.to_string_lossy().into_owned())
    );
    if file.silent {
        out.push_str("silent: true\n");
    }
    if let Some((style, _)) = &file.output {
        let _ = writeln!(out, "output: {}", format!("{style:?}").to_lowercase());
    }
    if !file.dotenv.is_empty() {
        out.push_str("dotenv:\n");
        for d in &file.dotenv {
            let _ = writeln!(out, "  - {}", quoted(&m.template(d, "dotenv")));
        }
    }
    let mut vars = file.vars.clone();
    vars.extend(env_as_vars.iter().cloned());
    m.vars_block(&mut out, "vars", &vars, "", false);
    let env: Vars = file
        .env
        .iter()
        .map(|(name, def)| {
            if env_as_vars.iter().any(|(n, _)| n == name) {
                (
                    name.clone(),
                    VarDef::Static(Node::Str(format!("{{{{.{name}}}}}"))),
                )
            } else {
                (name.clone(), def.clone())
            }
        })
        .collect();
    m.vars_block(&mut out, "env", &env, "", true);
    for what in [("set", &file.set), ("shopt", &file.shopt)] {
        if !what.1.is_empty() {
            m.kept.push(format!(
                "`{}:` ({}): hoist runs commands with `sh -e`",
                what.0,
                what.1.join(", ")
            ));
        }
    }
    out.push_str("tasks:\n");
    for task in file.tasks.values() {
        if !task.origin.namespace.is_empty() {
            m.kept.push(format!(
                "task {}: from an included Taskfile; migrate {} on its own",
                task.name,
                task.origin.path.display()
            ));
            continue;
        }
        m.task(&mut out, task);
    }
    Migration::new(out, m.kept)
}

impl Migrator<'_> {
    /// A go-task variable's name in hoist: the built-in it became, itself
    /// when the file defines it or hoist has it too, else the environment
    /// variable go-task would have read (unless the command line sets it).
    fn rename(&self, name: &str) -> String {
        if let Some(builtin) = self.renames.get(name) {
            return (*builtin).to_owned();
        }
        if self.later.iter().any(|l| l == name) {
            self.notes.borrow_mut().push(format!(
                "`{name}` is read before it is defined: go-task renders it empty, and so does this file"
            ));
            return "\"\"".to_owned();
        }
        if self
            .defined
            .iter()
            .chain(&self.task_vars)
            .any(|d| d == name)
            || crate::vars::BUILTINS.contains(&name)
        {
            if self.sh_vars.iter().any(|v| v == name) {
                self.notes.borrow_mut().push(format!(
                    "`{name}` comes from `sh:`; hoist quotes such output as one word in commands (add `| safe` to keep it raw)"
                ));
            }
            return name.to_owned();
        }
        if GO_TASK_ONLY.contains(&name) {
            self.notes.borrow_mut().push(format!(
                "go-task's `{name}` has no hoist equivalent; it renders empty"
            ));
            return format!("({name} | default(\"\"))");
        }
        // go-task reads it from the caller, the command line or the
        // environment, and renders nothing when none has it.
        format!("({name} | default(env.{name} | default(\"\")))")
    }

    /// A Go template as minijinja, or as it was (and noted) when it cannot be.
    fn template(&mut self, text: &str, place: &str) -> String {
        let translated = crate::gotmpl::to_minijinja(text, &|n| self.rename(n));
        for note in self.notes.take() {
            self.kept.push(format!("{place}: {note}"));
        }
        match translated {
            Ok(t) => t,
            Err(why) => {
                self.kept
                    .push(format!("{place}: `{text}` uses {why}; left as written"));
                text.to_owned()
            }
        }
    }

    fn vars_block(&mut self, out: &mut String, name: &str, vars: &Vars, indent: &str, env: bool) {
        let mut lines = Vec::new();
        for (i, (var, def)) in vars.iter().enumerate() {
            let place = format!("{name} {var}");
            let before = self.kept.len();
            // go-task resolves vars in order: one defined further down reads
            // as empty here (hoist would see it).
            self.later = if env {
                Vec::new()
            } else {
                vars[i..]
                    .iter()
                    .map(|(n, _)| n.clone())
                    .filter(|n| indent.is_empty() || !self.defined.contains(n))
                    .collect()
            };
            let value = match def {
                VarDef::Sh(command) => match builtin_for(command) {
                    // The built-in replaces it; the environment still gets it.
                    Some(builtin) if env => quoted(&format!("{{{{ {builtin} }}}}")),
                    Some(_) => continue,
                    None => format!("{{sh: {}}}", quoted(&self.template(command, &place))),
                },
                VarDef::Static(Node::Str(s)) => quoted(&self.template(s, &place)),
                VarDef::Static(node) | VarDef::Map(node) => self.value(node, &place),
                VarDef::Ref(expr) => {
                    self.kept.push(format!(
                        "{place}: `ref: {expr}` has no hoist equivalent; left as a string"
                    ));
                    quoted(&format!("{{{{ {expr} }}}}"))
                }
            };
            lines.push(format!(
                "{}{indent}  {}: {value}\n",
                self.comments(before, &format!("{indent}  ")),
                key(var)
            ));
        }
        self.later.clear();
        if !lines.is_empty() {
            let _ = writeln!(out, "{indent}{name}:");
            for line in lines {
                out.push_str(&line);
            }
        }
    }

    /// YAML comments for what was noted since `before`, at `indent`.
    fn comments(&self, before: usize, indent: &str) -> String {
        let mut out = String::new();
        for note in &self.kept[before..] {
            let _ = writeln!(
                out,
                "{indent}# hoist --migrate: {}",
                note.replace('\n', " ")
            );
        }
        out
    }

    /// A value that is no string, as go-task prints it: numbers in Go's
    /// form (`1.0` prints `1`), lists and maps noted (Go prints `[a b]`).
    fn value(&mut self, node: &Node, place: &str) -> String {
        match node {
            Node::Null => quoted(""),
            Node::Int(i) => i.to_string(),
            Node::Bool(b) => b.to_string(),
            Node::Float(_) => quoted(&node.scalar_text().unwrap_or_default()),
            Node::Str(s) => quoted(s),
            Node::List(_) | Node::Map(_) => {
                self.kept.push(format!(
                    "{place}: a list or map prints as hoist prints it (go-task: `[a b]`, `map[k:v]`)"
                ));
                serde_json::to_string(&node_json(node)).unwrap_or_default()
            }
        }
    }

    /// Notes a `task:`/`deps:` target that is no task of this file (go-task
    /// fails when it is reached; hoist refuses the file).
    fn check_target(&mut self, task: &Task, name: &str) {
        if !crate::gotmpl::is_template(name)
            && !self
                .file
                .tasks
                .get(name)
                .is_some_and(|t| t.origin.namespace.is_empty())
            && !self
                .file
                .tasks
                .values()
                .any(|t| t.aliases.iter().any(|a| a == name))
        {
            self.kept.push(format!(
                "task {}: calls {name:?}, which is no task of this file (hoist checks calls before running)",
                task.name
            ));
        }
    }

    fn task(&mut self, out: &mut String, task: &Task) {
        let t = &task.name;
        self.task_vars = task.vars.iter().map(|(n, _)| n.clone()).collect();
        self.sh_vars = self
            .file
            .vars
            .iter()
            .chain(&task.vars)
            .filter(|(_, d)| matches!(d, VarDef::Sh(c) if builtin_for(c).is_none()))
            .map(|(n, _)| n.clone())
            .collect();
        let _ = writeln!(out, "  {}:", key(t));
        self.task_header(out, task);
        self.unsupported(task);
        self.list(out, task, "sources", &task.sources);
        self.list(out, task, "generates", &task.generates);
        self.list(out, task, "status", &task.status);
        self.task_checks(out, task);
        self.vars_block(out, "vars", &task.vars, "    ", false);
        self.vars_block(out, "env", &task.env, "    ", true);
        if !task.deps.is_empty() {
            out.push_str("    deps:\n");
            for dep in &task.deps {
                self.dep(out, task, dep);
            }
        }
        let steps = self.steps(task);
        if !steps.is_empty() {
            out.push_str("    cmds:\n");
            for step in steps {
                out.push_str(&step);
            }
        }
    }

    /// A task's descriptive fields and flags.
    fn task_header(&mut self, out: &mut String, task: &Task) {
        let t = &task.name;
        let text_field = |m: &mut Self, out: &mut String, field: &str, value: &str| {
            if !value.is_empty() {
                let v = m.template(value, &format!("task {t} {field}"));
                let _ = writeln!(out, "    {field}: {}", quoted(&v));
            }
        };
        text_field(self, out, "desc", &task.desc);
        text_field(self, out, "summary", &task.summary);
        if let Some(dir) = &task.dir {
            text_field(self, out, "dir", dir);
        }
        if let Some(label) = &task.label {
            text_field(self, out, "label", label);
        }
        if let Some(prefix) = &task.prefix {
            text_field(self, out, "prefix", prefix);
        }
        for (flag, on) in [
            ("silent", task.silent),
            ("internal", task.internal),
            ("ignore_error", task.ignore_error),
        ] {
            if on {
                let _ = writeln!(out, "    {flag}: true");
            }
        }
        let policy = task
            .run
            .or((self.file.run != super::model::RunPolicy::Always).then_some(self.file.run));
        if let Some(run) = policy {
            let _ = writeln!(
                out,
                "    run: {}",
                format!("{run:?}")
                    .to_lowercase()
                    .replace("whenchanged", "when_changed")
            );
        }
        let aliases: Vec<&String> = task
            .aliases
            .iter()
            .filter(|a| {
                let taken = self.file.tasks.contains_key(a.as_str());
                if taken {
                    self.kept.push(format!(
                        "task {t}: alias {a:?} names another task (hoist refuses that); dropped"
                    ));
                }
                !taken
            })
            .collect();
        if !aliases.is_empty() {
            let list: Vec<String> = aliases.iter().map(|a| quoted(a)).collect();
            let _ = writeln!(out, "    aliases: [{}]", list.join(", "));
        }
    }

    /// A task's preconditions and requirements.
    fn task_checks(&mut self, out: &mut String, task: &Task) {
        let t = &task.name;
        if !task.preconditions.is_empty() {
            out.push_str("    preconditions:\n");
            for p in &task.preconditions {
                let sh = self.template(&p.sh, &format!("task {t} precondition"));
                match &p.msg {
                    Some(msg) => {
                        let msg = self.template(msg, &format!("task {t} precondition"));
                        let _ = writeln!(
                            out,
                            "      - {{sh: {}, msg: {}}}",
                            quoted(&sh),
                            quoted(&msg)
                        );
                    }
                    None => {
                        let _ = writeln!(out, "      - {}", quoted(&sh));
                    }
                }
            }
        }
        if !task.requires.is_empty() {
            let names: Vec<String> = task.requires.iter().map(|r| quoted(&r.name)).collect();
            let _ = writeln!(out, "    requires: {{vars: [{}]}}", names.join(", "));
            let enums = task.requires.iter().any(|r| r.allowed.is_some());
            self.kept.push(format!(
                "task {t}: `requires`: hoist also refuses an empty value{}",
                if enums {
                    ", and `enum:` is not kept"
                } else {
                    ""
                }
            ));
        }
    }

    fn unsupported(&mut self, task: &Task) {
        let t = &task.name;
        let mut note = |what: &str| self.kept.push(format!("task {t}: {what}"));
        if !task.platforms.is_empty() {
            note("`platforms:` is not migrated (the task runs everywhere)");
        }
        if task.condition.is_some() {
            note("`if:` is not migrated (the task always runs)");
        }
        if !task.prompt.is_empty() {
            note("`prompt:` is not migrated");
        }
        if task.interactive {
            note("`interactive:` is not migrated");
        }
        if !task.set.is_empty() || !task.shopt.is_empty() {
            note("`set:`/`shopt:`: hoist runs commands with `sh -e`");
        }
        if !task.dotenv.is_empty() {
            note("a task-level `dotenv:` is not migrated");
        }
        if task.method.as_deref().is_some_and(|m| m != "checksum") {
            note("`method:` other than checksum: hoist compares checksums");
        }
    }

    fn list(&mut self, out: &mut String, task: &Task, field: &str, items: &[String]) {
        if items.is_empty() {
            return;
        }
        let _ = writeln!(out, "    {field}:");
        for item in items {
            let v = self.template(item, &format!("task {} {field}", task.name));
            let _ = writeln!(out, "      - {}", quoted(&v));
        }
    }

    fn call_vars(&mut self, vars: &Vars, place: &str) -> String {
        let mut parts = Vec::new();
        for (name, def) in vars {
            let value = match def {
                VarDef::Static(Node::Str(s)) => quoted(&self.template(s, place)),
                VarDef::Static(node) | VarDef::Map(node) => self.value(node, place),
                VarDef::Sh(c) => format!("{{sh: {}}}", quoted(&self.template(c, place))),
                VarDef::Ref(expr) => {
                    self.kept
                        .push(format!("{place}: `ref: {expr}` left as a string"));
                    quoted(&format!("{{{{ {expr} }}}}"))
                }
            };
            parts.push(format!("{}: {value}", key(name)));
        }
        parts.join(", ")
    }

    fn dep(&mut self, out: &mut String, task: &Task, dep: &Dep) {
        let place = format!("task {} dep {}", task.name, dep.task);
        if dep.looping.is_some() {
            self.kept.push(format!("{place}: `for:` is not migrated"));
        }
        self.check_target(task, &dep.task);
        let name = self.template(&dep.task, &place);
        if dep.vars.is_empty() && !dep.silent {
            let _ = writeln!(out, "      - {}", quoted(&name));
        } else {
            let vars = self.call_vars(&dep.vars, &place);
            let _ = writeln!(
                out,
                "      - {{task: {}{}{}}}",
                quoted(&name),
                if vars.is_empty() {
                    String::new()
                } else {
                    format!(", vars: {{{vars}}}")
                },
                if dep.silent { ", silent: true" } else { "" }
            );
        }
    }

    /// The task's commands as hoist steps (YAML list items, indented).
    fn steps(&mut self, task: &Task) -> Vec<String> {
        let images = super::migrate_docker::recognise(task, self.file);
        let mut steps = Vec::new();
        for (i, cmd) in task.cmds.iter().enumerate() {
            match images.at(i) {
                super::migrate_docker::Slot::Step(step) => {
                    steps.push(self.image_step(task, step));
                    continue;
                }
                super::migrate_docker::Slot::Absorbed => continue,
                super::migrate_docker::Slot::Shell => {}
            }
            let before = self.kept.len();
            let step = self.cmd(task, cmd);
            // Say beside the command what it lost, as well as at the top.
            steps.push(format!("{}{step}", self.comments(before, "      ")));
        }
        if let Some(why) = &images.refused {
            self.kept.push(format!(
                "task {}: docker lines kept as shell commands: {why}",
                task.name
            ));
        }
        steps
    }

    fn image_step(&mut self, task: &Task, step: &super::migrate_docker::ImageStep) -> String {
        let place = format!("task {} image step", task.name);
        super::migrate_docker::step_yaml(step, &mut |s| quoted(&self.template(s, &place)))
    }

    fn cmd(&mut self, task: &Task, cmd: &Cmd) -> String {
        let place = format!("task {} command", task.name);
        if cmd.looping.is_some() || cmd.condition.is_some() || !cmd.platforms.is_empty() {
            self.kept.push(format!(
                "{place}: `for:`/`if:`/`platforms:` on a command is not migrated"
            ));
        }
        let (body, kind) = match &cmd.action {
            Action::Shell(text) => (quoted(&self.template(text, &place)), "cmd"),
            Action::Call { task: name, vars } => {
                self.check_target(task, name);
                let name = self.template(name, &place);
                let vars = self.call_vars(vars, &place);
                let body = if vars.is_empty() {
                    quoted(&name)
                } else {
                    format!("{}, vars: {{{vars}}}", quoted(&name))
                };
                (body, "task")
            }
        };
        let mut flags = String::new();
        if cmd.silent {
            flags.push_str(", silent: true");
        }
        if cmd.ignore_error {
            flags.push_str(", ignore_error: true");
        }
        if cmd.defer {
            match kind {
                "cmd" => format!("      - defer: {body}\n"),
                _ => format!("      - defer: {{task: {body}}}\n"),
            }
        } else if flags.is_empty() && kind == "cmd" {
            format!("      - {body}\n")
        } else {
            format!("      - {{{kind}: {body}{flags}}}\n")
        }
    }
}

fn node_json(node: &Node) -> serde_json::Value {
    match node {
        Node::Null => serde_json::Value::Null,
        Node::Bool(b) => serde_json::Value::Bool(*b),
        Node::Int(i) => serde_json::Value::from(*i),
        Node::Float(f) => serde_json::Value::from(*f),
        Node::Str(s) => serde_json::Value::String(s.clone()),
        Node::List(items) => serde_json::Value::Array(items.iter().map(node_json).collect()),
        Node::Map(m) => {
            serde_json::Value::Object(m.iter().map(|(k, v)| (k.clone(), node_json(v))).collect())
        }
    }
}

/// Whether a Go template in `text` reads `.NAME`.
fn reads_var(text: &str, name: &str) -> bool {
    let needle = format!(".{name}");
    text.match_indices(&needle).any(|(at, _)| {
        let after = text[at + needle.len()..].chars().next();
        !after.is_some_and(|c| c.is_ascii_alphanumeric() || c == '_')
    })
}
