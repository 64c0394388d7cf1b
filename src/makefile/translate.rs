//! A parsed Makefile written as a native `hoist.yml`: variables with make's
//! precedence (`?=` lets the environment win), targets as tasks in file
//! order, recipes as commands, the docker lines
//! [`crate::gotask::migrate_docker`] recognises as image steps. Whatever
//! has no faithful translation is kept as written or left out, with a
//! comment beside it and a line in the summary.

use super::expand::{self, identifier, Expander, Piece, Scope};
use super::parse::{Assign, Item, Op, RecipeLine, Rule};
use crate::gotask::migrate::{key, quoted, Migration};
use crate::gotask::migrate_docker::{self as docker, Slot};
use indexmap::IndexMap;
use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;

/// One target, its rules merged.
#[derive(Default)]
struct Target {
    prereqs: Vec<String>,
    recipe: Vec<RecipeLine>,
    desc: Option<String>,
    vars: Vec<Assign>,
    line: usize,
}

/// A task's own variables and its commands.
type TaskParts = (Vec<(String, Vec<Piece>)>, Vec<Cmd>);

/// A recipe line as hoist runs it.
struct Cmd {
    text: String,
    silent: bool,
    ignore_error: bool,
    /// `$(MAKE) a b` of this file's targets: calls instead.
    calls: Vec<String>,
    notes: Vec<String>,
    line: usize,
}

struct Translator {
    file: String,
    kept: Vec<String>,
    /// Global vars: hoist name -> pieces (a sole `Shell` is an `sh:` var).
    vars: IndexMap<String, Vec<Piece>>,
    /// make name -> hoist name, for every variable the file assigns.
    names: HashMap<String, String>,
    defines: HashMap<String, Vec<String>>,
    exported: Vec<String>,
    export_all: bool,
    targets: IndexMap<String, Target>,
    phony: HashSet<String>,
    silent: Option<Vec<String>>,
    default_goal: Option<String>,
    docs: HashMap<String, String>,
    /// The `help` target left out in favour of `hoist --list`.
    dropped: Option<String>,
}

/// Special targets that change nothing here (no suffix rule is translated).
const HARMLESS_SPECIALS: &[&str] = &[".SUFFIXES"];

pub(crate) fn translate(file: &str, items: &[Item]) -> Migration {
    let mut t = Translator {
        file: file.to_owned(),
        kept: Vec::new(),
        vars: IndexMap::new(),
        names: HashMap::new(),
        defines: HashMap::new(),
        exported: Vec::new(),
        export_all: false,
        targets: IndexMap::new(),
        phony: HashSet::new(),
        silent: None,
        default_goal: None,
        docs: HashMap::new(),
        dropped: None,
    };
    t.collect_names(items);
    for item in items {
        t.item(item);
    }
    t.write()
}

impl Translator {
    fn note(&mut self, line: usize, text: &str) {
        self.kept.push(format!("{}:{line}: {text}", self.file));
    }

    /// Every assigned name and define first: `A = $(B)` may come before `B = x`.
    fn collect_names(&mut self, items: &[Item]) {
        for item in items {
            match item {
                Item::Assign(a) if !a.name.starts_with('.') => {
                    self.names.insert(a.name.clone(), identifier(&a.name));
                }
                Item::Define { name, body, .. } => {
                    self.defines.insert(name.clone(), body.clone());
                }
                Item::Doc { name, text, .. } => {
                    self.docs.insert(name.clone(), text.clone());
                }
                _ => {}
            }
        }
    }

    fn item(&mut self, item: &Item) {
        match item {
            Item::Assign(a) => self.assign(a),
            Item::TargetVar { targets, assign } => {
                for name in targets {
                    let target = self.target_entry(name, assign.line);
                    target.vars.push(assign.clone());
                }
            }
            Item::Rule(rule) => self.rule(rule),
            Item::Export { names, line } => {
                if names.is_empty() {
                    self.export_all = true;
                } else {
                    for name in names {
                        if self.names.contains_key(name) {
                            self.exported.push(identifier(name));
                        } else {
                            self.note(*line, &format!("`export {name}`: not set in the file, so the environment's value passes as it is"));
                        }
                    }
                }
            }
            Item::Skipped { line, text, why } => {
                self.note(*line, &format!("`{text}`: {why}"));
            }
            Item::Define { .. } | Item::Doc { .. } => {}
        }
    }

    fn target_entry(&mut self, name: &str, line: usize) -> &mut Target {
        self.targets
            .entry(name.to_owned())
            .or_insert_with(|| Target {
                line,
                ..Target::default()
            })
    }

    fn expander<'a>(
        names: &'a HashMap<String, String>,
        defines: &'a HashMap<String, Vec<String>>,
        file: &'a str,
        rule: Option<(&'a str, &'a [String])>,
        assigning: Option<(&'a str, &'a [Piece])>,
    ) -> Expander<'a> {
        Expander::new(Scope {
            vars: names,
            defines,
            makefile: file,
            rule,
            assigning,
        })
    }

    /// A value's pieces: `value` expanded, `before` the variable's value so
    /// far (read by `X := $(X) y`).
    fn value(&mut self, name: &str, value: &str, before: &[Piece], line: usize) -> Vec<Piece> {
        let mut e = Self::expander(
            &self.names,
            &self.defines,
            &self.file,
            None,
            Some((name, before)),
        );
        let pieces = e.expand(value.trim_end());
        let notes = std::mem::take(&mut e.notes);
        for n in notes {
            self.note(line, &format!("variable {name}: {n}"));
        }
        pieces
    }

    fn assign(&mut self, a: &Assign) {
        if a.name.starts_with('.') {
            return self.special_var(a);
        }
        let id = identifier(&a.name);
        if id != a.name {
            self.note(
                a.line,
                &format!(
                    "variable `{}` is `{id}` in hoist.yml (a template name)",
                    a.name
                ),
            );
        }
        if a.overrides {
            self.note(
                a.line,
                &format!(
                    "`override {}`: in hoist the command line always wins",
                    a.name
                ),
            );
        }
        if matches!(a.name.as_str(), "SHELL" | ".SHELLFLAGS" | "MAKEFLAGS") {
            self.note(
                a.line,
                &format!(
                    "`{}`: hoist runs every command with `sh -e -c`; left out",
                    a.name
                ),
            );
            self.names.remove(&a.name);
            return;
        }
        if a.export {
            self.exported.push(id.clone());
        }
        let before = self.vars.get(&id).cloned();
        if a.op == Op::Conditional && before.is_some() {
            return; // make keeps the value it has
        }
        let before_pieces = before.clone().unwrap_or_default();
        let pieces = self.value(&a.name, &a.value, &before_pieces, a.line);
        let is_builtin =
            pieces == [Piece::Expr(id.clone())] && crate::vars::BUILTINS.contains(&id.as_str());
        if is_builtin && matches!(a.op, Op::Recursive | Op::Simple | Op::Conditional) {
            // `VERSION ?= $(shell git describe ...)`: the built-in, which
            // the command line and the environment override.
            self.vars.shift_remove(&id);
            return;
        }
        let pieces = self.combine(&id, a.op, pieces, before);
        let pieces = self.settle_shells(&id, pieces, true);
        self.vars.insert(id, pieces);
    }

    /// A new value under make's operator: `before` is what the variable held
    /// (`None`: nothing in the file, so the environment's, if any).
    fn combine(
        &mut self,
        id: &str,
        op: Op,
        pieces: Vec<Piece>,
        before: Option<Vec<Piece>>,
    ) -> Vec<Piece> {
        match op {
            Op::Recursive | Op::Simple => pieces,
            Op::Shell => vec![Piece::Shell(pieces)],
            Op::Conditional => {
                let pieces = self.settle_shells(id, pieces, false);
                vec![Piece::Expr(format!(
                    "env.{id} | default({})",
                    expand::expression(&pieces)
                ))]
            }
            Op::Append => {
                let mut all = match before {
                    Some(b) => {
                        let mut b = self.settle_shells(id, b, false);
                        b.push(Piece::Lit(" ".into()));
                        b
                    }
                    None => vec![Piece::Expr(format!(
                        "(env.{id} ~ ' ') if env.{id} is defined else ''"
                    ))],
                };
                all.extend(pieces);
                all
            }
        }
    }

    /// `$(shell ...)` inside a longer value becomes a helper `sh:` variable
    /// (hoist runs it once); a value that is only a command stays one.
    fn settle_shells(&mut self, id: &str, pieces: Vec<Piece>, sole_ok: bool) -> Vec<Piece> {
        if sole_ok && matches!(pieces.as_slice(), [Piece::Shell(_)]) {
            return pieces;
        }
        pieces
            .into_iter()
            .map(|p| match p {
                Piece::Shell(command) => {
                    let mut n = 1;
                    let name = loop {
                        let candidate = if n == 1 {
                            format!("{id}_SH")
                        } else {
                            format!("{id}_SH{n}")
                        };
                        if !self.vars.contains_key(&candidate)
                            && !self.names.values().any(|v| *v == candidate)
                        {
                            break candidate;
                        }
                        n += 1;
                    };
                    self.vars.insert(name.clone(), vec![Piece::Shell(command)]);
                    Piece::Expr(name)
                }
                other => other,
            })
            .collect()
    }

    fn special_var(&mut self, a: &Assign) {
        if a.name == ".DEFAULT_GOAL" {
            self.default_goal = Some(a.value.trim().to_owned());
        } else {
            self.note(
                a.line,
                &format!("`{}` has no hoist equivalent; left out", a.name),
            );
        }
    }

    fn rule(&mut self, rule: &Rule) {
        let Some(targets) = self.static_words(&rule.targets, rule.line) else {
            return;
        };
        let Some(prereqs) = self.static_words(&rule.prereqs, rule.line) else {
            return;
        };
        let order_only = self
            .static_words(&rule.order_only, rule.line)
            .unwrap_or_default();
        for name in &targets {
            if name.starts_with('.') && name[1..].starts_with(|c: char| c.is_ascii_uppercase()) {
                self.special_target(name, &prereqs, rule);
                continue;
            }
            let desc = self
                .docs
                .get(name)
                .cloned()
                .or_else(|| rule.inline_doc.clone())
                .or_else(|| rule.comment_above.clone());
            let file = self.file.clone();
            let target = self.target_entry(name, rule.line);
            target
                .prereqs
                .extend(prereqs.iter().chain(&order_only).cloned());
            if target.desc.is_none() {
                target.desc = desc;
            }
            if !rule.recipe.is_empty() {
                if !target.recipe.is_empty() {
                    let line = rule.line;
                    self.kept.push(format!("{file}:{line}: a second recipe for `{name}` replaces the first, as make does"));
                    self.targets[name.as_str()].recipe.clear();
                }
                self.targets[name.as_str()].recipe.clone_from(&rule.recipe);
            }
        }
    }

    fn special_target(&mut self, name: &str, prereqs: &[String], rule: &Rule) {
        match name {
            ".PHONY" => self.phony.extend(prereqs.iter().cloned()),
            ".SILENT" => self
                .silent
                .get_or_insert_with(Vec::new)
                .extend(prereqs.iter().cloned()),
            ".EXPORT_ALL_VARIABLES" => self.export_all = true,
            n if HARMLESS_SPECIALS.contains(&n) => {}
            _ => self.note(
                rule.line,
                &format!("`{name}` has no hoist equivalent; left out"),
            ),
        }
    }

    /// Target or prerequisite names with their references expanded, when
    /// that gives plain text; `None` (and a note) when it does not.
    fn static_words(&mut self, words: &[String], line: usize) -> Option<Vec<String>> {
        let mut out = Vec::new();
        for word in words {
            if !word.contains('$') {
                out.push(word.clone());
                continue;
            }
            let mut e = Self::expander(&self.names, &self.defines, &self.file, None, None);
            let pieces = e.expand(word);
            match self.literal(&pieces, 0) {
                Some(text) if e.notes.is_empty() => {
                    out.extend(text.split_whitespace().map(str::to_owned));
                }
                _ => {
                    self.note(line, &format!("a rule whose target or prerequisite `{word}` is known only when make runs; left out"));
                    return None;
                }
            }
        }
        Some(out)
    }

    /// Pieces that are plain text once the file's variables are filled in.
    fn literal(&self, pieces: &[Piece], depth: usize) -> Option<String> {
        let mut out = String::new();
        for p in pieces {
            match p {
                Piece::Lit(text) => out.push_str(text),
                Piece::Expr(name) if depth < 20 => {
                    out.push_str(&self.literal(self.vars.get(name)?, depth + 1)?);
                }
                _ => return None,
            }
        }
        Some(out)
    }
}

impl Translator {
    fn write(mut self) -> Migration {
        self.dropped = self.dropped_help();
        let help = self.dropped.clone();
        let default = self.default_task(help.as_deref());
        let mut cmds: IndexMap<String, TaskParts> = IndexMap::new();
        let names: Vec<String> = self.targets.keys().cloned().collect();
        for name in &names {
            if Some(name.as_str()) != help.as_deref() {
                let list = self.recipe(name);
                let vars = self.task_vars(name);
                cmds.insert(name.clone(), (vars, list));
            }
        }
        self.note_shell_outputs(cmds.values().flat_map(|(_, list)| list));
        let built = docker::built_tags(
            cmds.values()
                .flat_map(|(_, list)| list)
                .map(|c| strip_failure_wrapper(&c.text)),
        );
        let mut out = format!("# Migrated from {} by `hoist --migrate`.\n", self.file);
        if self.silent.as_ref().is_some_and(Vec::is_empty) {
            out.push_str("silent: true\n");
        }
        self.write_vars(&mut out);
        out.push_str(if cmds.is_empty() {
            "tasks: {}\n"
        } else {
            "tasks:\n"
        });
        for (name, (vars, list)) in &cmds {
            let default = default.as_deref() == Some(name.as_str());
            self.write_task(&mut out, name, (vars, list), &built, default);
        }
        if let Some(help) = &help {
            let _ = writeln!(out, "  # `{help}` (it printed the `##` comments) is left out: `hoist --list` lists the tasks with their descriptions.");
        }
        Migration::new(out, self.kept)
    }

    /// Whether a variable's value holds a command's output.
    fn holds_output(&self, name: &str, depth: usize) -> bool {
        self.vars.get(name).is_some_and(|pieces| {
            pieces.iter().any(|p| match p {
                Piece::Shell(_) => true,
                Piece::Expr(n) => depth < 20 && self.holds_output(n, depth + 1),
                Piece::Lit(_) => false,
            })
        })
    }

    /// make splits a command's output into words; hoist quotes it as one
    /// word when it holds spaces or shell characters (it may come from
    /// anywhere): say so where a command reads one.
    fn note_shell_outputs<'c>(&mut self, cmds: impl Iterator<Item = &'c Cmd> + Clone) {
        let names: Vec<String> = self
            .vars
            .keys()
            .filter(|n| self.holds_output(n, 0))
            .cloned()
            .collect();
        for name in names {
            let needle = format!("{{{{ {name} }}}}");
            if let Some(cmd) = cmds.clone().find(|c| c.text.contains(&needle)) {
                let line = cmd.line;
                self.note(line, &format!("`{name}` holds a command's output: where that output has spaces or shell characters, a command gets it quoted as one word (make splits it); write `{{{{ {name} | safe }}}}` where words are wanted"));
            }
        }
    }

    fn write_vars(&self, out: &mut String) {
        if !self.vars.is_empty() {
            out.push_str("vars:\n");
            for (name, pieces) in &self.vars {
                let _ = writeln!(out, "  {}: {}", key(name), value_yaml(pieces));
            }
        }
        let mut env: Vec<&String> = if self.export_all {
            self.vars
                .keys()
                .filter(|n| self.names.values().any(|v| v == *n))
                .collect()
        } else {
            self.exported.iter().collect()
        };
        // Once each; a variable that became a built-in is exported as that.
        let mut seen = HashSet::new();
        env.retain(|n| {
            (self.vars.contains_key(*n) || crate::vars::BUILTINS.contains(&n.as_str()))
                && seen.insert(*n)
        });
        if !env.is_empty() {
            out.push_str("env:\n");
            for name in env {
                let _ = writeln!(
                    out,
                    "  {}: {}",
                    key(name),
                    quoted(&format!("{{{{ {name} }}}}"))
                );
            }
        }
    }

    /// A `help` target that only prints the file's `##` comments: `--list` does that.
    fn dropped_help(&self) -> Option<String> {
        let target = self.targets.get("help")?;
        let prints = |line: &RecipeLine| {
            let text = line.text.trim_start_matches(['@', '-', '+', ' ', '\t']);
            let first = text.split_whitespace().next().unwrap_or("");
            matches!(
                first,
                "echo" | "printf" | "sed" | "grep" | "awk" | "cat" | "egrep"
            ) && !text.contains("docker")
        };
        let reads_comments = target.recipe.iter().any(|l| l.text.contains("##"));
        (reads_comments && target.recipe.iter().all(prints)).then(|| "help".to_owned())
    }

    /// The task `hoist` runs with no name: make's default goal.
    fn default_task(&mut self, help: Option<&str>) -> Option<String> {
        let goal = self
            .default_goal
            .clone()
            .or_else(|| self.targets.keys().find(|n| !n.starts_with('.')).cloned())?;
        if self.targets.contains_key("default") || Some(goal.as_str()) == help {
            if goal != "default" {
                let line = self.targets.get(&goal).map_or(0, |t| t.line);
                self.note(
                    line,
                    &format!("make's default goal `{goal}` is not hoist's default task"),
                );
            }
            return None;
        }
        Some(goal)
    }
}

impl Translator {
    /// A target's recipe lines as hoist commands.
    fn recipe(&mut self, name: &str) -> Vec<Cmd> {
        let target = &self.targets[name];
        let (recipe, prereqs) = (target.recipe.clone(), target.prereqs.clone());
        let mut scope_names = self.names.clone();
        for v in &target.vars {
            scope_names.insert(v.name.clone(), identifier(&v.name));
        }
        let mut cmds = Vec::new();
        for line in &recipe {
            let (silent0, ignore0, body) = prefix(&line.text);
            let mut e = Self::expander(
                &scope_names,
                &self.defines,
                &self.file,
                Some((name, &prereqs)),
                None,
            );
            let pieces = e.expand(body);
            let mut here = std::mem::take(&mut e.notes);
            if line
                .text
                .trim_start_matches(['@', '-', ' '])
                .starts_with('+')
            {
                here.push("`+` (run even under `make -n`): `hoist --dry` runs nothing".into());
            }
            let here: Vec<String> = here
                .iter()
                .map(|n| format!("{}:{}: {n}", self.file, line.line))
                .collect();
            self.kept.extend(here.iter().cloned());
            // make runs a recipe's `$(shell ...)` before the recipe: so does
            // an `sh:` variable (and `--dry` shows its value, as `make -n`).
            let pieces = self.settle_shells(&identifier(name).to_uppercase(), pieces, false);
            let text = expand::template(&pieces);
            for (i, sub) in text.split('\n').enumerate() {
                let (silent, ignore_error, sub) = prefix(sub.trim_start());
                if sub.trim().is_empty() {
                    continue;
                }
                cmds.push(Cmd {
                    calls: self.make_calls(sub),
                    text: sub.to_owned(),
                    silent: silent || silent0,
                    ignore_error: ignore_error || ignore0,
                    notes: if i == 0 { here.clone() } else { Vec::new() },
                    line: line.line,
                });
            }
        }
        cmds
    }

    /// Whether `name` is a target that became a task.
    fn is_task(&self, name: &str) -> bool {
        self.targets.contains_key(name) && self.dropped.as_deref() != Some(name)
    }

    /// `make a b` (from `$(MAKE) a b`) of this file's own targets.
    fn make_calls(&self, text: &str) -> Vec<String> {
        let words: Vec<&str> = text.split_whitespace().collect();
        match words.split_first() {
            Some((&"make", rest)) if !rest.is_empty() && rest.iter().all(|w| self.is_task(w)) => {
                rest.iter().map(|w| (*w).to_owned()).collect()
            }
            _ => Vec::new(),
        }
    }

    fn write_task(
        &mut self,
        out: &mut String,
        name: &str,
        (vars, cmds): (&[(String, Vec<Piece>)], &[Cmd]),
        built: &[(String, String)],
        default: bool,
    ) {
        let target = &self.targets[name];
        let _ = writeln!(out, "  {}:", key(name));
        if let Some(desc) = &target.desc {
            let _ = writeln!(out, "    desc: {}", quoted(desc));
        }
        if default {
            out.push_str("    aliases: [default]\n");
        }
        if self
            .silent
            .as_ref()
            .is_some_and(|s| s.iter().any(|t| t == name))
        {
            out.push_str("    silent: true\n");
        }
        let prereqs = target.prereqs.clone();
        let line = target.line;
        Self::write_task_vars(out, vars);
        self.task_prereqs(out, name, &prereqs);
        let commands: Vec<docker::Command<'_>> = cmds
            .iter()
            .map(|c| docker::Command {
                text: if c.calls.is_empty() {
                    strip_failure_wrapper(&c.text)
                } else {
                    ""
                },
                plain: !c.ignore_error,
            })
            .collect();
        let images = docker::recognise_commands(&commands, built);
        if let Some(why) = &images.refused {
            self.note(
                line,
                &format!("target {name}: docker lines kept as shell commands: {why}"),
            );
        }
        if !cmds.is_empty() {
            out.push_str("    cmds:\n");
        }
        for (i, cmd) in cmds.iter().enumerate() {
            match images.at(i) {
                Slot::Step(step) => out.push_str(&docker::step_yaml(step, &mut |s| quoted(s))),
                Slot::Absorbed => {}
                Slot::Shell => out.push_str(&cmd_yaml(cmd)),
            }
        }
    }

    /// Target-specific variables: the task's `vars`, and its `env` (make
    /// hands them to the recipe's commands that read them).
    fn task_vars(&mut self, name: &str) -> Vec<(String, Vec<Piece>)> {
        let target = &self.targets[name];
        let (vars, has_prereqs) = (target.vars.clone(), !target.prereqs.is_empty());
        let mut lines: IndexMap<String, Vec<Piece>> = IndexMap::new();
        for a in &vars {
            let id = identifier(&a.name);
            // What the variable holds so far: an earlier `t: X = ..`, else the global.
            let before = lines.get(&id).cloned().or_else(|| {
                self.vars
                    .contains_key(&id)
                    .then(|| vec![Piece::Expr(id.clone())])
            });
            if a.op == Op::Conditional && before.is_some() {
                continue;
            }
            let pieces = self.value(
                &a.name,
                &a.value,
                before.as_deref().unwrap_or_default(),
                a.line,
            );
            let pieces = self.combine(&id, a.op, pieces, before);
            let pieces = self.settle_shells(&id, pieces, true);
            lines.insert(id, pieces);
        }
        if has_prereqs && !vars.is_empty() {
            let line = vars[0].line;
            self.note(line, &format!("target {name}: make also gives its target-specific variables to its prerequisites; hoist gives them to this task only"));
        }
        lines.into_iter().collect()
    }

    fn write_task_vars(out: &mut String, lines: &[(String, Vec<Piece>)]) {
        if lines.is_empty() {
            return;
        }
        out.push_str("    vars:\n");
        for (id, pieces) in lines {
            let _ = writeln!(out, "      {}: {}", key(id), value_yaml(pieces));
        }
        out.push_str("    env:\n");
        for (id, _) in lines {
            let _ = writeln!(
                out,
                "      {}: {}",
                key(id),
                quoted(&format!("{{{{ {id} }}}}"))
            );
        }
    }

    /// Prerequisites: other targets are `deps`; files are checked as make
    /// checks them (it fails when one is missing), and for a file target
    /// they are its `sources` (make remakes it when one is newer).
    fn task_prereqs(&mut self, out: &mut String, name: &str, prereqs: &[String]) {
        let mut deps: Vec<&String> = Vec::new();
        let mut files: Vec<&String> = Vec::new();
        for p in prereqs {
            let list = if self.is_task(p) {
                &mut deps
            } else {
                &mut files
            };
            if !list.contains(&p) {
                list.push(p);
            }
        }
        if deps.len() > 1 {
            let line = self.targets[name].line;
            let list: Vec<String> = deps.iter().map(|d| format!("`{d}`")).collect();
            self.note(line, &format!("target {name}: make runs {} one after another; hoist runs deps in parallel, as `make -j` does", list.join(", ")));
        }
        if !deps.is_empty() {
            let items: Vec<String> = deps.iter().map(|d| quoted(d)).collect();
            let _ = writeln!(out, "    deps: [{}]", items.join(", "));
        }
        if !files.is_empty() {
            out.push_str("    preconditions:\n");
            for f in &files {
                let _ = writeln!(
                    out,
                    "      - {{sh: {}, msg: {}}}",
                    quoted(&format!("test -e {}", shell_word(f))),
                    quoted(&format!("No rule to make target '{f}', needed by '{name}'"))
                );
            }
        }
        if self.phony.contains(name) || deps.iter().any(|d| self.phony.contains(*d)) {
            return;
        }
        if prereqs.is_empty() {
            let _ = writeln!(
                out,
                "    status: [{}]",
                quoted(&format!("test -e {}", shell_word(name)))
            );
        } else {
            let sources: Vec<String> = prereqs.iter().map(|p| quoted(&glob_literal(p))).collect();
            let _ = writeln!(out, "    sources: [{}]", sources.join(", "));
            let _ = writeln!(out, "    generates: [{}]", quoted(&glob_literal(name)));
        }
    }
}

/// A recipe line's `@`, `-` and `+` prefixes (in any order) and the rest.
fn prefix(text: &str) -> (bool, bool, &str) {
    let (mut silent, mut ignore) = (false, false);
    let mut rest = text;
    loop {
        let trimmed = rest.trim_start();
        match trimmed.chars().next() {
            Some('@') => silent = true,
            Some('-') => ignore = true,
            Some('+') => {}
            _ => return (silent, ignore, trimmed),
        }
        rest = &trimmed[1..];
    }
}

/// `CMD || ( LOG && false )` (or `|| (LOG; exit 1)`, `|| false`): CMD fails
/// either way, so an image step stands for the whole line.
fn strip_failure_wrapper(text: &str) -> &str {
    let Some(at) = text.find(" || ") else {
        return text;
    };
    let tail = text[at + 4..].trim();
    let fails = |inner: &str| {
        let inner = inner.trim().trim_end_matches(';').trim_end();
        inner.ends_with("&& false")
            || inner.ends_with("; false")
            || inner.ends_with("; exit 1")
            || inner.ends_with("&& exit 1")
    };
    let wrapped = tail == "false"
        || tail == "exit 1"
        || tail
            .strip_prefix('(')
            .and_then(|t| t.strip_suffix(')'))
            .is_some_and(fails)
        || tail
            .strip_prefix('{')
            .and_then(|t| t.strip_suffix('}'))
            .is_some_and(fails);
    if wrapped {
        text[..at].trim_end()
    } else {
        text
    }
}

fn value_yaml(pieces: &[Piece]) -> String {
    match pieces {
        [Piece::Shell(command)] => format!("{{sh: {}}}", quoted(&expand::template(command))),
        _ => quoted(&expand::template(pieces)),
    }
}

fn cmd_yaml(cmd: &Cmd) -> String {
    let mut out = String::new();
    for note in &cmd.notes {
        let _ = writeln!(out, "      # hoist --migrate: {note}");
    }
    if !cmd.calls.is_empty() {
        for call in &cmd.calls {
            let _ = writeln!(out, "      - task: {}", quoted(call));
        }
        return out;
    }
    let mut flags = String::new();
    if cmd.silent {
        flags.push_str(", silent: true");
    }
    if cmd.ignore_error {
        flags.push_str(", ignore_error: true");
    }
    if flags.is_empty() {
        let _ = writeln!(out, "      - {}", quoted(&cmd.text));
    } else {
        let _ = writeln!(out, "      - {{cmd: {}{flags}}}", quoted(&cmd.text));
    }
    out
}

/// A file name as one shell word.
fn shell_word(name: &str) -> String {
    if name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "._-/+@:,=%".contains(c))
    {
        name.to_owned()
    } else {
        format!("'{}'", name.replace('\'', "'\\''"))
    }
}

/// A file name as a glob that matches only itself.
fn glob_literal(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars() {
        if matches!(c, '*' | '?' | '[' | ']' | '{' | '}') {
            out.push('[');
            out.push(c);
            out.push(']');
        } else {
            out.push(c);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::{prefix, strip_failure_wrapper};

    #[test]
    fn prefixes_in_any_order() {
        assert_eq!(prefix("@-rm x"), (true, true, "rm x"));
        assert_eq!(prefix("- @ echo"), (true, true, "echo"));
        assert_eq!(prefix("+make"), (false, false, "make"));
        assert_eq!(prefix("echo -n"), (false, false, "echo -n"));
    }

    #[test]
    fn the_failure_wrapper_is_recognised() {
        assert_eq!(
            strip_failure_wrapper("docker build . || (printf 'x' && false)"),
            "docker build ."
        );
        assert_eq!(
            strip_failure_wrapper("docker push a || { echo no; exit 1; }"),
            "docker push a"
        );
        assert_eq!(strip_failure_wrapper("a || echo fine"), "a || echo fine");
    }
}
