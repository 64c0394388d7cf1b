//! A go-task Taskfile read into tasks: the file's YAML nodes interpreted with
//! go-task's shorthand forms, and local includes merged under their
//! namespaces (or flattened), each task remembering the file it came from.

use super::node::Node;
use super::{Code, Failure};
use indexmap::IndexMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

/// The names go-task looks for, in its order of preference.
pub(crate) const FILE_NAMES: &[&str] = &[
    "Taskfile.yml",
    "taskfile.yml",
    "Taskfile.yaml",
    "taskfile.yaml",
    "Taskfile.dist.yml",
    "taskfile.dist.yml",
    "Taskfile.dist.yaml",
    "taskfile.dist.yaml",
];

/// How a variable is defined.
#[derive(Debug, Clone)]
pub(crate) enum VarDef {
    /// A value as written; strings in it are templates.
    Static(Node),
    /// `sh: COMMAND`: the command's output, less one trailing newline.
    Sh(String),
    /// `ref: EXPR`: the value the expression evaluates to.
    Ref(String),
    /// `map: {...}`: a map taken as written.
    Map(Node),
}

pub(crate) type Vars = Vec<(String, VarDef)>;

#[derive(Debug, Clone)]
pub(crate) enum For {
    List(Vec<Node>),
    Var { name: String, split: Option<String> },
    Matrix(IndexMap<String, Node>),
    Sources,
    Generates,
}

#[derive(Debug, Clone)]
pub(crate) struct Looping {
    pub over: For,
    pub as_name: Option<String>,
}

#[derive(Debug, Clone)]
pub(crate) enum Action {
    Shell(String),
    Call { task: String, vars: Vars },
}

#[derive(Debug, Clone)]
pub(crate) struct Cmd {
    pub action: Action,
    pub silent: bool,
    pub ignore_error: bool,
    pub defer: bool,
    pub looping: Option<Looping>,
    pub platforms: Vec<String>,
    pub condition: Option<String>,
    pub set: Vec<String>,
    pub shopt: Vec<String>,
}

#[derive(Debug, Clone)]
pub(crate) struct Dep {
    pub task: String,
    pub vars: Vars,
    pub silent: bool,
    pub looping: Option<Looping>,
}

#[derive(Debug, Clone)]
pub(crate) struct Precondition {
    pub sh: String,
    pub msg: Option<String>,
}

#[derive(Debug, Clone)]
pub(crate) struct Requirement {
    pub name: String,
    pub allowed: Option<Vec<String>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum RunPolicy {
    Always,
    Once,
    WhenChanged,
}

/// The file a task came from, and how it was included.
#[derive(Debug)]
pub(crate) struct Origin {
    pub path: PathBuf,
    pub dir: PathBuf,
    /// The include's `dir:`, resolved; `None` for the root file and for an
    /// include without one (its tasks run in the root's directory).
    pub run_dir: Option<PathBuf>,
    /// `namespace:` with its trailing colon, empty for the root.
    pub namespace: String,
    /// The include's `vars:`, then the included file's own `vars:`.
    pub include_vars: Vars,
    pub file_vars: Vars,
    pub parent: Option<Arc<Origin>>,
}

#[derive(Debug)]
pub(crate) struct Task {
    pub name: String,
    pub desc: String,
    pub summary: String,
    pub aliases: Vec<String>,
    pub cmds: Vec<Cmd>,
    pub deps: Vec<Dep>,
    pub vars: Vars,
    pub env: Vars,
    pub dotenv: Vec<String>,
    pub dir: Option<String>,
    pub sources: Vec<String>,
    pub generates: Vec<String>,
    pub status: Vec<String>,
    pub preconditions: Vec<Precondition>,
    pub requires: Vec<Requirement>,
    pub silent: bool,
    pub interactive: bool,
    pub internal: bool,
    pub method: Option<String>,
    pub prefix: Option<String>,
    pub ignore_error: bool,
    pub run: Option<RunPolicy>,
    pub platforms: Vec<String>,
    pub set: Vec<String>,
    pub shopt: Vec<String>,
    pub label: Option<String>,
    pub condition: Option<String>,
    pub prompt: Vec<String>,
    pub origin: Arc<Origin>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum OutputStyle {
    Interleaved,
    Prefixed,
    Group,
}

#[derive(Debug, Clone, Default)]
pub(crate) struct GroupMarks {
    pub begin: Option<String>,
    pub end: Option<String>,
    pub error_only: bool,
}

#[derive(Debug)]
pub(crate) struct Taskfile {
    pub path: PathBuf,
    pub dir: PathBuf,
    pub vars: Vars,
    /// Included files' own `vars:`, in include order: go-task merges them
    /// into the Taskfile's vars, for every task.
    pub included_vars: Vars,
    pub env: Vars,
    pub dotenv: Vec<String>,
    pub silent: bool,
    pub output: Option<(OutputStyle, GroupMarks)>,
    pub run: RunPolicy,
    pub set: Vec<String>,
    pub shopt: Vec<String>,
    pub method: Option<String>,
    pub tasks: IndexMap<String, Arc<Task>>,
}

impl Taskfile {
    /// The task a name or alias means (a namespace alone means its
    /// `default`), without wildcards.
    pub(crate) fn find(&self, name: &str) -> Option<&Arc<Task>> {
        if let Some(task) = self.tasks.get(name) {
            return Some(task);
        }
        if let Some(task) = self
            .tasks
            .values()
            .find(|t| t.aliases.iter().any(|a| a == name))
        {
            return Some(task);
        }
        self.tasks.get(&format!("{name}:default"))
    }

    /// The task a name means, wildcard names included (`build-*` matches
    /// `build-web`), with what the wildcards matched (go-task's `MATCH`).
    pub(crate) fn resolve(&self, name: &str) -> Option<(&Arc<Task>, Option<Vec<String>>)> {
        if let Some(task) = self.find(name) {
            return Some((task, None));
        }
        self.tasks.values().find_map(|task| {
            if !task.name.contains('*') {
                return None;
            }
            wildcard_match(&task.name, name).map(|m| (task, Some(m)))
        })
    }
}

/// Matches `name` against a pattern whose `*`s match any text (each
/// at least one character); returns what each `*` matched.
fn wildcard_match(pattern: &str, name: &str) -> Option<Vec<String>> {
    let parts: Vec<&str> = pattern.split('*').collect();
    let mut source = String::from("^");
    for (i, part) in parts.iter().enumerate() {
        if i > 0 {
            source.push_str("(.+)");
        }
        source.push_str(&regex::escape(part));
    }
    source.push('$');
    let re = regex::Regex::new(&source).ok()?;
    let caps = re.captures(name)?;
    Some(
        caps.iter()
            .skip(1)
            .map(|m| m.map_or(String::new(), |m| m.as_str().to_owned()))
            .collect(),
    )
}

/// A path with `.` and `dir/..` removed, as Go's filepath.Clean does.
pub(crate) fn clean(path: &Path) -> PathBuf {
    use std::path::Component;
    let mut out = PathBuf::new();
    for component in path.components() {
        match component {
            Component::CurDir => {}
            Component::ParentDir => {
                if !out.pop() {
                    out.push("..");
                }
            }
            other => out.push(other.as_os_str()),
        }
    }
    out
}

fn decode(path: &Path, message: impl Into<String>) -> Failure {
    Failure::new(
        Code::TaskfileDecode,
        format!("{}: {}", path.display(), message.into()),
    )
}

/// The go-task file in `dir` (the first of its names that exists).
pub(crate) fn file_in(dir: &Path) -> Option<PathBuf> {
    FILE_NAMES.iter().map(|n| dir.join(n)).find(|p| p.is_file())
}

/// Reads the root Taskfile and its includes.
pub(crate) fn load(path: &Path) -> Result<Taskfile, Failure> {
    let path = clean(&std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf()));
    let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
    let root = read_node(&path)?;
    check_version(&path, &root, Code::TaskfileVersion)?;
    let origin = Arc::new(Origin {
        path: path.clone(),
        dir: dir.clone(),
        run_dir: None,
        namespace: String::new(),
        include_vars: Vec::new(),
        file_vars: Vec::new(),
        parent: None,
    });
    let output = match root.get("output") {
        None => None,
        Some(node) => Some(output_style(&path, node)?),
    };
    let mut file = Taskfile {
        vars: vars(&path, root.get("vars"))?,
        included_vars: Vec::new(),
        env: vars(&path, root.get("env"))?,
        dotenv: strings(&path, root.get("dotenv"))?,
        silent: root.get("silent").is_some_and(Node::truthy),
        output,
        run: run_policy(&path, root.get("run"))?.unwrap_or(RunPolicy::Always),
        set: strings(&path, root.get("set"))?,
        shopt: strings(&path, root.get("shopt"))?,
        method: root.get("method").and_then(Node::scalar_text),
        path: path.clone(),
        dir,
        tasks: IndexMap::new(),
    };
    add_tasks(&mut file, &root, &origin, &[], 0)?;
    Ok(file)
}

fn read_node(path: &Path) -> Result<Node, Failure> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        Failure::new(
            Code::TaskfileNotFound,
            format!("cannot read {}: {e}", path.display()),
        )
    })?;
    let node = Node::parse(&text).map_err(|e| {
        Failure::new(
            Code::TaskfileInvalid,
            format!("{}: invalid YAML: {e}", path.display()),
        )
    })?;
    match node {
        Node::Map(_) => Ok(node),
        Node::Null => Ok(Node::Map(IndexMap::new())),
        other => Err(decode(
            path,
            format!("the file must be a mapping, not a {}", other.kind()),
        )),
    }
}

fn check_version(path: &Path, root: &Node, code: Code) -> Result<(), Failure> {
    let version = match root.get("version") {
        None => {
            return Err(Failure::new(
                code,
                format!(
                    "{}: no `version:`; go-task files say `version: '3'`",
                    path.display()
                ),
            ))
        }
        Some(v) => v.scalar_text().unwrap_or_default(),
    };
    let major = version.split('.').next().unwrap_or("");
    if major != "3" {
        return Err(Failure::new(
            code,
            format!(
                "{}: version {version:?} is not supported: hoist runs go-task version 3 files",
                path.display()
            ),
        ));
    }
    Ok(())
}

/// Adds a file's tasks, then its includes' (as go-task lists them).
fn add_tasks(
    file: &mut Taskfile,
    node: &Node,
    origin: &Arc<Origin>,
    excludes: &[String],
    depth: usize,
) -> Result<(), Failure> {
    let path = &origin.path;
    if let Some(tasks) = node.get("tasks") {
        let Some(tasks) = tasks.as_map() else {
            return Err(decode(path, "`tasks:` must be a mapping of task names"));
        };
        for (local, body) in tasks {
            if excludes.iter().any(|e| e == local) {
                continue;
            }
            let name = format!("{}{local}", origin.namespace);
            let task = task(path, &name, body, origin)?;
            if file.tasks.contains_key(&name) {
                return Err(Failure::new(
                    Code::TaskNameConflict,
                    format!(
                        "task \"{name}\" is defined twice (by {} and an include); rename one or drop `flatten`",
                        path.display()
                    ),
                ));
            }
            file.tasks.insert(name, Arc::new(task));
        }
    }
    let Some(includes) = node.get("includes") else {
        return Ok(());
    };
    let Some(includes) = includes.as_map() else {
        return Err(decode(path, "`includes:` must be a mapping"));
    };
    if depth > 20 {
        return Err(decode(path, "includes nest more than 20 deep (a cycle?)"));
    }
    for (namespace, spec) in includes {
        include(file, origin, namespace, spec, depth)?;
    }
    Ok(())
}

fn include(
    file: &mut Taskfile,
    origin: &Arc<Origin>,
    namespace: &str,
    spec: &Node,
    depth: usize,
) -> Result<(), Failure> {
    let path = &origin.path;
    let (target, fields) = match spec {
        Node::Str(s) => (s.clone(), None),
        Node::Map(m) => (
            m.get("taskfile")
                .and_then(Node::scalar_text)
                .ok_or_else(|| decode(path, format!("include {namespace:?} has no `taskfile:`")))?,
            Some(spec),
        ),
        other => {
            return Err(decode(
                path,
                format!(
                    "include {namespace:?} must be a path or a mapping, not a {}",
                    other.kind()
                ),
            ))
        }
    };
    if target.contains("://") {
        return Err(Failure::new(
            if target.starts_with("http://") { Code::TaskfileInsecure } else { Code::TaskfileFetch },
            format!(
                "include {namespace:?} is remote ({target}): hoist runs only local Taskfiles; download it and include the file"
            ),
        ));
    }
    let get = |key: &str| fields.and_then(|f| f.get(key));
    let optional = get("optional").is_some_and(Node::truthy);
    let base = &origin.dir;
    let Some(included) = include_file(base, namespace, &target, optional)? else {
        return Ok(());
    };
    let included = clean(&included);
    let node = read_node(&included)?;
    check_version(&included, &node, Code::General)?;
    let flatten = get("flatten").is_some_and(Node::truthy);
    let internal = get("internal").is_some_and(Node::truthy);
    let run_dir = match get("dir").and_then(Node::scalar_text) {
        Some(d) => Some(clean(&base.join(d))),
        None => origin.run_dir.clone(),
    };
    let namespace_prefix = if flatten {
        origin.namespace.clone()
    } else {
        format!("{}{namespace}:", origin.namespace)
    };
    let child = Arc::new(Origin {
        dir: included.parent().map(Path::to_path_buf).unwrap_or_default(),
        path: included.clone(),
        run_dir,
        namespace: namespace_prefix,
        include_vars: vars(path, get("vars"))?,
        file_vars: vars(&included, node.get("vars"))?,
        parent: Some(origin.clone()),
    });
    for (name, def) in &child.file_vars {
        match file.included_vars.iter_mut().find(|(n, _)| n == name) {
            Some(slot) => slot.1 = def.clone(),
            None => file.included_vars.push((name.clone(), def.clone())),
        }
    }
    let excludes = strings(path, get("excludes"))?;
    let aliases = strings(path, get("aliases"))?;
    let first = file.tasks.len();
    add_tasks(file, &node, &child, &excludes, depth + 1)?;
    // The include's aliases name its tasks too (`l:hello` for `lib:hello`),
    // and an include's env joins the root's.
    let new: Vec<String> = file.tasks.keys().skip(first).cloned().collect();
    for name in new {
        let task = file.tasks.get_mut(&name).expect("just added");
        let task = Arc::get_mut(task).expect("not shared yet");
        if internal {
            task.internal = true;
        }
        if !flatten {
            include_aliases(
                task,
                &child.namespace,
                &origin.namespace,
                namespace,
                &aliases,
            );
        }
    }
    for (k, v) in vars(&included, node.get("env"))? {
        if !file.env.iter().any(|(name, _)| *name == k) {
            file.env.push((k, v));
        }
    }
    Ok(())
}

/// The names an included task answers to besides its own: each include
/// alias with the task's name and its own aliases, as go-task lists them; a
/// `default` task also answers to the namespace and its aliases.
fn include_aliases(
    task: &mut Task,
    child_ns: &str,
    parent_ns: &str,
    namespace: &str,
    aliases: &[String],
) {
    let name = task.name.clone();
    let local = name.strip_prefix(child_ns).unwrap_or(&name).to_owned();
    let own: Vec<String> = task
        .aliases
        .iter()
        .map(|a| a.strip_prefix(child_ns).unwrap_or(a).to_owned())
        .collect();
    // As go-task lists them: each include alias with the task's name
    // and its own aliases; a `default` task also answers to the
    // namespace and its aliases.
    let mut extra = Vec::new();
    for alias in aliases {
        extra.push(format!("{parent_ns}{alias}:{local}"));
        for a in &own {
            extra.push(format!("{parent_ns}{alias}:{a}"));
        }
    }
    if local == "default" {
        extra.push(format!("{parent_ns}{namespace}"));
        for alias in aliases {
            extra.push(format!("{parent_ns}{alias}"));
        }
    }
    task.aliases.extend(extra);
}

/// The file an include names (a directory means its Taskfile); `None` when
/// it is missing and `optional`.
fn include_file(
    base: &Path,
    namespace: &str,
    target: &str,
    optional: bool,
) -> Result<Option<PathBuf>, Failure> {
    let included = base.join(target);
    if included.is_dir() {
        return match file_in(&included) {
            Some(p) => Ok(Some(p)),
            None if optional => Ok(None),
            None => Err(Failure::new(
                Code::TaskfileNotFound,
                format!(
                    "include {namespace:?}: no Taskfile in {}",
                    included.display()
                ),
            )),
        };
    }
    if !included.is_file() {
        if optional {
            return Ok(None);
        }
        return Err(Failure::new(
            Code::TaskfileNotFound,
            format!(
                "include {namespace:?}: {} does not exist (add `optional: true` if it may be missing)",
                included.display()
            ),
        ));
    }
    Ok(Some(included))
}

fn task(path: &Path, name: &str, body: &Node, origin: &Arc<Origin>) -> Result<Task, Failure> {
    let mut task = Task {
        name: name.to_owned(),
        desc: String::new(),
        summary: String::new(),
        aliases: Vec::new(),
        cmds: Vec::new(),
        deps: Vec::new(),
        vars: Vec::new(),
        env: Vec::new(),
        dotenv: Vec::new(),
        dir: None,
        sources: Vec::new(),
        generates: Vec::new(),
        status: Vec::new(),
        preconditions: Vec::new(),
        requires: Vec::new(),
        silent: false,
        interactive: false,
        internal: false,
        method: None,
        prefix: None,
        ignore_error: false,
        run: None,
        platforms: Vec::new(),
        set: Vec::new(),
        shopt: Vec::new(),
        label: None,
        condition: None,
        prompt: Vec::new(),
        origin: origin.clone(),
    };
    let here = |what: &str| format!("task {name:?}: {what}");
    let m = match body {
        Node::Str(cmd) => {
            task.cmds.push(shell_cmd(cmd.clone()));
            return Ok(task);
        }
        Node::List(_) => {
            task.cmds = list_of(path, name, "cmds", body, cmd)?;
            return Ok(task);
        }
        Node::Null => return Ok(task),
        Node::Map(m) => m,
        other => {
            return Err(decode(
                path,
                here(&format!("a task must be a mapping, not a {}", other.kind())),
            ))
        }
    };
    for (key, value) in m {
        set_field(&mut task, path, name, origin, key, value)?;
    }
    Ok(task)
}

/// One key of a task's mapping.
fn set_field(
    task: &mut Task,
    path: &Path,
    name: &str,
    origin: &Origin,
    key: &str,
    value: &Node,
) -> Result<(), Failure> {
    match key {
        "desc" => task.desc = value.scalar_text().unwrap_or_default(),
        "summary" => task.summary = value.scalar_text().unwrap_or_default(),
        "aliases" => {
            task.aliases = strings(path, Some(value))?
                .into_iter()
                .map(|a| format!("{}{a}", origin.namespace))
                .collect();
        }
        "cmds" => task.cmds.extend(list_of(path, name, "cmds", value, cmd)?),
        "cmd" => task.cmds.push(cmd(path, name, value)?),
        "deps" => task.deps.extend(list_of(path, name, "deps", value, dep)?),
        "vars" => task.vars = vars(path, Some(value))?,
        "env" => task.env = vars(path, Some(value))?,
        "dotenv" => task.dotenv = strings(path, Some(value))?,
        "dir" => task.dir = value.scalar_text().filter(|d| !d.is_empty()),
        "sources" => task.sources = globs(path, value)?,
        "generates" => task.generates = globs(path, value)?,
        "status" => task.status = strings(path, Some(value))?,
        "preconditions" => task.preconditions = preconditions(path, value)?,
        "requires" => task.requires = requires(path, value)?,
        "silent" => task.silent = value.truthy(),
        "interactive" => task.interactive = value.truthy(),
        "internal" => task.internal = value.truthy(),
        "method" => task.method = value.scalar_text(),
        "prefix" => task.prefix = value.scalar_text(),
        "ignore_error" => task.ignore_error = value.truthy(),
        "run" => task.run = run_policy(path, Some(value))?,
        "platforms" => task.platforms = platforms(path, name, value)?,
        "set" => task.set = strings(path, Some(value))?,
        "shopt" => task.shopt = strings(path, Some(value))?,
        "label" => task.label = value.scalar_text(),
        "if" => task.condition = value.scalar_text(),
        "prompt" => task.prompt = strings(path, Some(value))?,
        // go-task ignores keys it does not know (watch, failfast, ...).
        _ => {}
    }
    Ok(())
}

/// A task's `cmds:` or `deps:`: a list (or nothing), each item parsed by `item`.
fn list_of<T>(
    path: &Path,
    task: &str,
    field: &str,
    value: &Node,
    item: fn(&Path, &str, &Node) -> Result<T, Failure>,
) -> Result<Vec<T>, Failure> {
    match value {
        Node::List(items) => items.iter().map(|i| item(path, task, i)).collect(),
        Node::Null => Ok(Vec::new()),
        other => Err(decode(
            path,
            format!(
                "task {task:?}: `{field}:` must be a list, not a {}",
                other.kind()
            ),
        )),
    }
}

fn shell_cmd(text: String) -> Cmd {
    Cmd {
        action: Action::Shell(text),
        silent: false,
        ignore_error: false,
        defer: false,
        looping: None,
        platforms: Vec::new(),
        condition: None,
        set: Vec::new(),
        shopt: Vec::new(),
    }
}

fn cmd(path: &Path, task: &str, node: &Node) -> Result<Cmd, Failure> {
    let m = match node {
        Node::Map(m) => m,
        Node::List(_) => {
            return Err(decode(
                path,
                format!("task {task:?}: a command must be a string or a mapping, not a list"),
            ))
        }
        scalar => return Ok(shell_cmd(scalar.scalar_text().unwrap_or_default())),
    };
    let mut out = shell_cmd(String::new());
    if let Some(deferred) = m.get("defer") {
        out.defer = true;
        match deferred {
            Node::Map(d) => {
                out.action = call_action(path, task, d)?;
                out.silent = d.get("silent").is_some_and(Node::truthy);
            }
            scalar => out.action = Action::Shell(scalar.scalar_text().unwrap_or_default()),
        }
        return Ok(out);
    }
    if m.contains_key("task") {
        out.action = call_action(path, task, m)?;
    } else if let Some(c) = m.get("cmd") {
        out.action = Action::Shell(c.scalar_text().unwrap_or_default());
    } else if !m.contains_key("for") {
        let keys: Vec<&str> = m.keys().map(String::as_str).collect();
        return Err(decode(
            path,
            format!(
                "task {task:?}: a command mapping needs `cmd:`, `task:` or `defer:` (it has {}); quote a command that contains \": \"",
                keys.join(", ")
            ),
        ));
    }
    out.silent = m.get("silent").is_some_and(Node::truthy);
    out.ignore_error = m.get("ignore_error").is_some_and(Node::truthy);
    out.looping = match m.get("for") {
        Some(f) => Some(looping(path, task, f)?),
        None => None,
    };
    out.platforms = match m.get("platforms") {
        Some(p) => platforms(path, task, p)?,
        None => Vec::new(),
    };
    out.condition = m.get("if").and_then(Node::scalar_text);
    out.set = strings(path, m.get("set"))?;
    out.shopt = strings(path, m.get("shopt"))?;
    Ok(out)
}

fn call_action(path: &Path, task: &str, m: &IndexMap<String, Node>) -> Result<Action, Failure> {
    match m.get("task").and_then(Node::scalar_text) {
        Some(name) => Ok(Action::Call {
            task: name,
            vars: vars(path, m.get("vars"))?,
        }),
        None => match m.get("cmd").and_then(Node::scalar_text) {
            Some(c) => Ok(Action::Shell(c)),
            None => Err(decode(
                path,
                format!("task {task:?}: a `defer:` needs a command or `task:`"),
            )),
        },
    }
}

fn dep(path: &Path, task: &str, node: &Node) -> Result<Dep, Failure> {
    match node {
        Node::Map(m) => Ok(Dep {
            task: m
                .get("task")
                .and_then(Node::scalar_text)
                .unwrap_or_default(),
            vars: vars(path, m.get("vars"))?,
            silent: m.get("silent").is_some_and(Node::truthy),
            looping: match m.get("for") {
                Some(f) => Some(looping(path, task, f)?),
                None => None,
            },
        }),
        scalar => Ok(Dep {
            task: scalar.scalar_text().ok_or_else(|| {
                decode(
                    path,
                    format!("task {task:?}: a dep must be a task name or a mapping"),
                )
            })?,
            vars: Vec::new(),
            silent: false,
            looping: None,
        }),
    }
}

fn looping(path: &Path, task: &str, node: &Node) -> Result<Looping, Failure> {
    let over = match node {
        Node::List(items) => For::List(items.clone()),
        Node::Str(s) if s == "sources" => For::Sources,
        Node::Str(s) if s == "generates" => For::Generates,
        Node::Map(m) => {
            let as_name = m.get("as").and_then(Node::scalar_text);
            let over = if let Some(var) = m.get("var").and_then(Node::scalar_text) {
                For::Var {
                    name: var,
                    split: m.get("split").and_then(Node::scalar_text),
                }
            } else if let Some(Node::Map(matrix)) = m.get("matrix") {
                For::Matrix(matrix.clone())
            } else {
                return Err(decode(
                    path,
                    format!("task {task:?}: `for:` needs a list, `sources`, `generates`, `var:` or `matrix:`"),
                ));
            };
            return Ok(Looping { over, as_name });
        }
        other => {
            return Err(decode(
                path,
                format!("task {task:?}: `for:` cannot be a {}", other.kind()),
            ))
        }
    };
    Ok(Looping {
        over,
        as_name: None,
    })
}

/// `vars:`/`env:` in file order.
pub(crate) fn vars(path: &Path, node: Option<&Node>) -> Result<Vars, Failure> {
    let Some(node) = node else {
        return Ok(Vec::new());
    };
    let m = match node {
        Node::Map(m) => m,
        Node::Null => return Ok(Vec::new()),
        other => {
            return Err(decode(
                path,
                format!("variables must be a mapping, not a {}", other.kind()),
            ))
        }
    };
    let mut out = Vec::with_capacity(m.len());
    for (name, value) in m {
        let def = match value {
            Node::Map(inner) if inner.len() == 1 && inner.contains_key("sh") => {
                VarDef::Sh(inner["sh"].scalar_text().unwrap_or_default())
            }
            Node::Map(inner) if inner.len() == 1 && inner.contains_key("ref") => {
                VarDef::Ref(inner["ref"].scalar_text().unwrap_or_default())
            }
            Node::Map(inner) if inner.len() == 1 && inner.contains_key("map") => {
                VarDef::Map(inner["map"].clone())
            }
            Node::Map(inner) if inner.len() == 1 && inner.contains_key("value") => {
                VarDef::Static(inner["value"].clone())
            }
            other => VarDef::Static(other.clone()),
        };
        out.push((name.clone(), def));
    }
    Ok(out)
}

fn strings(path: &Path, node: Option<&Node>) -> Result<Vec<String>, Failure> {
    match node {
        None | Some(Node::Null) => Ok(Vec::new()),
        Some(Node::List(items)) => items
            .iter()
            .map(|i| {
                i.scalar_text()
                    .ok_or_else(|| decode(path, "expected a list of strings"))
            })
            .collect(),
        Some(scalar) => Ok(vec![scalar
            .scalar_text()
            .ok_or_else(|| decode(path, "expected a string or a list of strings"))?]),
    }
}

fn globs(path: &Path, node: &Node) -> Result<Vec<String>, Failure> {
    match node {
        Node::List(items) => {
            let mut out = Vec::new();
            for item in items {
                match item {
                    Node::Map(m) => {
                        if let Some(g) = m.get("exclude").and_then(Node::scalar_text) {
                            out.push(format!("!{g}"));
                        }
                    }
                    scalar => out.push(
                        scalar
                            .scalar_text()
                            .ok_or_else(|| decode(path, "expected a list of globs"))?,
                    ),
                }
            }
            Ok(out)
        }
        other => strings(path, Some(other)),
    }
}

fn preconditions(path: &Path, node: &Node) -> Result<Vec<Precondition>, Failure> {
    let Node::List(items) = node else {
        return Err(decode(path, "`preconditions:` must be a list"));
    };
    items
        .iter()
        .map(|item| match item {
            Node::Map(m) => Ok(Precondition {
                sh: m.get("sh").and_then(Node::scalar_text).unwrap_or_default(),
                msg: m.get("msg").and_then(Node::scalar_text),
            }),
            scalar => Ok(Precondition {
                sh: scalar.scalar_text().unwrap_or_default(),
                msg: None,
            }),
        })
        .collect()
}

fn requires(path: &Path, node: &Node) -> Result<Vec<Requirement>, Failure> {
    let Some(Node::List(items)) = node.get("vars") else {
        return Ok(Vec::new());
    };
    items
        .iter()
        .map(|item| match item {
            Node::Map(m) => Ok(Requirement {
                name: m
                    .get("name")
                    .and_then(Node::scalar_text)
                    .unwrap_or_default(),
                allowed: match m.get("enum") {
                    Some(e) => Some(strings(path, Some(e))?),
                    None => None,
                },
            }),
            scalar => Ok(Requirement {
                name: scalar.scalar_text().unwrap_or_default(),
                allowed: None,
            }),
        })
        .collect()
}

fn run_policy(path: &Path, node: Option<&Node>) -> Result<Option<RunPolicy>, Failure> {
    match node.and_then(Node::scalar_text).as_deref() {
        None | Some("") => Ok(None),
        Some("always") => Ok(Some(RunPolicy::Always)),
        Some("once") => Ok(Some(RunPolicy::Once)),
        Some("when_changed") => Ok(Some(RunPolicy::WhenChanged)),
        Some(other) => Err(decode(
            path,
            format!("`run: {other}` is not one of always, once, when_changed"),
        )),
    }
}

fn output_style(path: &Path, node: &Node) -> Result<(OutputStyle, GroupMarks), Failure> {
    match node {
        Node::Map(m) => {
            let Some(group) = m.get("group") else {
                return Err(decode(path, "`output:` as a mapping takes `group:`"));
            };
            Ok((
                OutputStyle::Group,
                GroupMarks {
                    begin: group.get("begin").and_then(Node::scalar_text),
                    end: group.get("end").and_then(Node::scalar_text),
                    error_only: group.get("error_only").is_some_and(Node::truthy),
                },
            ))
        }
        scalar => parse_output(&scalar.scalar_text().unwrap_or_default())
            .map(|s| (s, GroupMarks::default()))
            .ok_or_else(|| decode(path, "`output:` is one of interleaved, prefixed, group")),
    }
}

pub(crate) fn parse_output(name: &str) -> Option<OutputStyle> {
    match name {
        "interleaved" | "" => Some(OutputStyle::Interleaved),
        "prefixed" => Some(OutputStyle::Prefixed),
        "group" => Some(OutputStyle::Group),
        _ => None,
    }
}

const GO_OS: &[&str] = &[
    "aix",
    "android",
    "darwin",
    "dragonfly",
    "freebsd",
    "hurd",
    "illumos",
    "ios",
    "js",
    "linux",
    "nacl",
    "netbsd",
    "openbsd",
    "plan9",
    "solaris",
    "wasip1",
    "windows",
    "zos",
];
const GO_ARCH: &[&str] = &[
    "386",
    "amd64",
    "amd64p32",
    "arm",
    "arm64",
    "arm64be",
    "armbe",
    "loong64",
    "mips",
    "mips64",
    "mips64le",
    "mips64p32",
    "mips64p32le",
    "mipsle",
    "ppc",
    "ppc64",
    "ppc64le",
    "riscv",
    "riscv64",
    "s390",
    "s390x",
    "sparc",
    "sparc64",
    "wasm",
];

/// `platforms:` entries: an OS, an architecture, or `os/arch`, as Go names them.
fn platforms(path: &Path, task: &str, node: &Node) -> Result<Vec<String>, Failure> {
    let list = strings(path, Some(node))?;
    for p in &list {
        let valid = match p.split_once('/') {
            Some((os, arch)) => GO_OS.contains(&os) && GO_ARCH.contains(&arch),
            None => GO_OS.contains(&p.as_str()) || GO_ARCH.contains(&p.as_str()),
        };
        if !valid {
            return Err(decode(
                path,
                format!("task {task:?}: unknown platform {p:?} (use Go's names: linux, darwin, windows, amd64, arm64, linux/amd64, ...)"),
            ));
        }
    }
    Ok(list)
}
