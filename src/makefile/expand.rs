//! make's `$(...)` references as minijinja: a text becomes pieces (literal
//! text, template expressions, `$(shell ...)` commands), which render as a
//! template (`{{ VAR }}`) or as one expression (for `?=` defaults). What
//! has no faithful translation stays as written and is noted.

use std::collections::{HashMap, HashSet};

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Piece {
    Lit(String),
    /// A minijinja expression.
    Expr(String),
    /// `$(shell ...)`: the command's pieces.
    Shell(Vec<Piece>),
}

/// What a reference may see: the file's variables and defines, and in a
/// recipe its target and prerequisites (for `$@`, `$<`, `$^`).
pub(crate) struct Scope<'a> {
    /// Variable names the hoist.yml defines (make name -> hoist name).
    pub vars: &'a HashMap<String, String>,
    pub defines: &'a HashMap<String, Vec<String>>,
    pub makefile: &'a str,
    pub rule: Option<(&'a str, &'a [String])>,
    /// The variable being assigned and what it held before (`X += $(X)`,
    /// `X := $(X) y` read the old value, not themselves).
    pub assigning: Option<(&'a str, &'a [Piece])>,
}

pub(crate) struct Expander<'a> {
    scope: Scope<'a>,
    /// What stayed as written, and why.
    pub notes: Vec<String>,
    /// `$(call f,a,b)` arguments while `f` is expanded.
    params: Vec<Vec<Vec<Piece>>>,
    /// Defines being expanded (a recursive one would never end).
    active: HashSet<String>,
}

/// `$(shell CMD)` commands whose output is a hoist built-in.
pub(crate) fn builtin_for_shell(command: &str) -> Option<&'static str> {
    let words: Vec<&str> = command.split_whitespace().collect();
    let words = match words.as_slice() {
        [rest @ .., "2>/dev/null"] | [rest @ .., "2>", "/dev/null"] => rest,
        all => all,
    };
    match words {
        ["git", "describe", "--tags", "--always"] | ["git", "describe", "--always", "--tags"] => {
            Some("VERSION")
        }
        ["git", "rev-parse", "--abbrev-ref", "HEAD"] | ["git", "branch", "--show-current"] => {
            Some("GIT_BRANCH")
        }
        ["git", "rev-parse", "HEAD"] => Some("GIT_COMMIT"),
        ["git", "rev-parse", "--short", "HEAD"] => Some("GIT_SHORT_COMMIT"),
        ["pwd"] => Some("ROOT_DIR"),
        _ => None,
    }
}

/// make's own variables that have a fixed value here.
fn make_default(name: &str, makefile: &str) -> Option<String> {
    Some(
        match name {
            "SHELL" => "/bin/sh",
            "RM" => "rm -f",
            "CC" => "cc",
            "CXX" => "g++",
            "AR" => "ar",
            "MAKE" => "make",
            "MAKEFILE_LIST" => return Some(format!(" {makefile}")),
            _ => return None,
        }
        .to_owned(),
    )
}

/// A make name as a minijinja identifier (`my-var` becomes `my_var`).
pub(crate) fn identifier(name: &str) -> String {
    let mut out: String = name
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    if out.starts_with(|c: char| c.is_ascii_digit()) || out.is_empty() {
        out.insert(0, '_');
    }
    out
}

/// A variable nobody defines: make reads the command line or the
/// environment, else it is empty.
pub(crate) fn from_outside(name: &str) -> String {
    format!("({name} | default(env.{name} | default('')))")
}

impl<'a> Expander<'a> {
    pub(crate) fn new(scope: Scope<'a>) -> Expander<'a> {
        Expander {
            scope,
            notes: Vec::new(),
            params: Vec::new(),
            active: HashSet::new(),
        }
    }

    pub(crate) fn expand(&mut self, text: &str) -> Vec<Piece> {
        let mut out = Vec::new();
        let chars: Vec<char> = text.chars().collect();
        let mut i = 0;
        while i < chars.len() {
            if chars[i] != '$' || i + 1 == chars.len() {
                push_lit(&mut out, &chars[i].to_string());
                i += 1;
                continue;
            }
            let next = chars[i + 1];
            match next {
                '$' => {
                    push_lit(&mut out, "$");
                    i += 2;
                }
                '(' | '{' => {
                    let close = if next == '(' { ')' } else { '}' };
                    let Some(end) = matching(&chars, i + 1, next, close) else {
                        self.notes.push(format!("`{text}`: an unclosed `$(`"));
                        push_lit(&mut out, &chars[i..].iter().collect::<String>());
                        return out;
                    };
                    let inner: String = chars[i + 2..end].iter().collect();
                    let raw: String = chars[i..=end].iter().collect();
                    self.reference(&inner, &raw, &mut out);
                    i = end + 1;
                }
                c => {
                    self.reference(&c.to_string(), &format!("${c}"), &mut out);
                    i += 2;
                }
            }
        }
        out
    }

    fn reference(&mut self, inner: &str, raw: &str, out: &mut Vec<Piece>) {
        let (word, args) = match inner.find([' ', '\t']) {
            Some(at) => (&inner[..at], inner[at..].trim_start()),
            None => (inner, ""),
        };
        if inner.contains([' ', '\t']) && !word.contains([':', '=']) {
            self.function(word, args, raw, out);
            return;
        }
        if inner.contains(':') && inner.contains('=') || inner.contains('$') {
            return self.keep(raw, "a substitution reference or computed name", out);
        }
        self.variable(inner.trim(), raw, out);
    }

    fn function(&mut self, name: &str, args: &str, raw: &str, out: &mut Vec<Piece>) {
        match name {
            "shell" => {
                if let Some(builtin) = builtin_for_shell(args) {
                    out.push(Piece::Expr(builtin.to_owned()));
                } else {
                    let command = self.expand(args);
                    out.push(Piece::Shell(command));
                }
            }
            "call" => {
                let parts = split_args(args);
                let fname = parts[0].trim();
                let plain = self.scope.defines.contains_key(fname);
                if !plain {
                    return self.keep(raw, "`call` of something that is no `define`", out);
                }
                let params = parts[1..].iter().map(|a| self.expand(a)).collect();
                self.params.push(params);
                self.define(fname, raw, out);
                self.params.pop();
            }
            _ => self.keep(raw, &format!("make's `{name}` function"), out),
        }
    }

    fn variable(&mut self, name: &str, raw: &str, out: &mut Vec<Piece>) {
        if let Ok(n) = name.parse::<usize>() {
            if let Some(params) = self.params.last() {
                if n == 0 {
                    return push_lit(out, "");
                }
                if let Some(p) = params.get(n - 1) {
                    out.extend(p.iter().cloned());
                }
                return;
            }
        }
        if let Some(text) = self.automatic(name) {
            return push_lit(out, &text);
        }
        if matches!(
            name.chars().next(),
            Some('@' | '<' | '^' | '+' | '*' | '?' | '%' | '|')
        ) {
            return self.keep(
                raw,
                "an automatic variable outside a rule's recipe, or one hoist has no value for",
                out,
            );
        }
        if let Some((assigned, before)) = self.scope.assigning {
            if assigned == name {
                if before.is_empty() {
                    out.push(Piece::Expr(format!(
                        "env.{} | default('')",
                        identifier(name)
                    )));
                } else {
                    out.extend(before.iter().cloned());
                }
                return;
            }
        }
        if name == "CURDIR" {
            return out.push(Piece::Expr("ROOT_DIR".into()));
        }
        if let Some(hoist) = self.scope.vars.get(name) {
            return out.push(Piece::Expr(hoist.clone()));
        }
        if self.scope.defines.contains_key(name) {
            return self.define(name, raw, out);
        }
        if let Some(value) = make_default(name, self.scope.makefile) {
            return push_lit(out, &value);
        }
        out.push(Piece::Expr(from_outside(&identifier(name))));
    }

    /// `$@`, `$<`, `$^`, `$+`, `$(@D)`, `$(@F)` of an explicit rule: known
    /// when the file is migrated.
    fn automatic(&self, name: &str) -> Option<String> {
        let (target, prereqs) = self.scope.rule?;
        let (var, part) = match name.len() {
            1 => (name, None),
            2 if name.ends_with(['D', 'F']) => (&name[..1], name.chars().nth(1)),
            _ => return None,
        };
        let values: Vec<String> = match var {
            "@" => vec![target.to_owned()],
            "<" => prereqs.first().cloned().into_iter().collect(),
            "^" => {
                let mut seen = Vec::new();
                for p in prereqs {
                    if !seen.contains(p) {
                        seen.push(p.clone());
                    }
                }
                seen
            }
            "+" => prereqs.to_vec(),
            _ => return None,
        };
        let part = |v: &String| {
            let path = std::path::Path::new(v);
            match part {
                Some('D') => path
                    .parent()
                    .map(|p| p.to_string_lossy().into_owned())
                    .filter(|p| !p.is_empty())
                    .unwrap_or_else(|| ".".into()),
                Some('F') => path
                    .file_name()
                    .map_or_else(String::new, |f| f.to_string_lossy().into_owned()),
                _ => v.clone(),
            }
        };
        Some(values.iter().map(part).collect::<Vec<_>>().join(" "))
    }

    fn define(&mut self, name: &str, raw: &str, out: &mut Vec<Piece>) {
        if !self.active.insert(name.to_owned()) {
            return self.keep(raw, "a define that expands itself", out);
        }
        let body = self.scope.defines[name].join("\n");
        let pieces = self.expand(&body);
        out.extend(pieces);
        self.active.remove(name);
    }

    fn keep(&mut self, raw: &str, why: &str, out: &mut Vec<Piece>) {
        self.notes
            .push(format!("`{raw}` ({why}) is kept as written"));
        push_lit(out, raw);
    }
}

fn push_lit(out: &mut Vec<Piece>, text: &str) {
    if let Some(Piece::Lit(last)) = out.last_mut() {
        last.push_str(text);
    } else if !text.is_empty() {
        out.push(Piece::Lit(text.to_owned()));
    }
}

/// The index of the bracket closing the one at `open_at`.
fn matching(chars: &[char], open_at: usize, open: char, close: char) -> Option<usize> {
    let mut depth = 0;
    for (i, &c) in chars.iter().enumerate().skip(open_at) {
        if c == open {
            depth += 1;
        } else if c == close {
            depth -= 1;
            if depth == 0 {
                return Some(i);
            }
        }
    }
    None
}

/// A function's arguments split at the commas outside nested references.
fn split_args(args: &str) -> Vec<String> {
    let mut out = vec![String::new()];
    let mut depth = 0usize;
    for c in args.chars() {
        match c {
            '(' | '{' => depth += 1,
            ')' | '}' => depth = depth.saturating_sub(1),
            ',' if depth == 0 => {
                out.push(String::new());
                continue;
            }
            _ => {}
        }
        out.last_mut().expect("never empty").push(c);
    }
    out
}

/// Pieces as a minijinja template. Literal text that holds `{{`, `{%` or
/// `{#` (or ends in `{` before an expression) goes in a raw block.
pub(crate) fn template(pieces: &[Piece]) -> String {
    let mut out = String::new();
    for (i, piece) in pieces.iter().enumerate() {
        match piece {
            Piece::Lit(text) => {
                let before_expr = text.ends_with('{') && i + 1 < pieces.len();
                if before_expr || ["{{", "{%", "{#"].iter().any(|m| text.contains(m)) {
                    out.push_str("{% raw %}");
                    out.push_str(text);
                    out.push_str("{% endraw %}");
                } else {
                    out.push_str(text);
                }
            }
            Piece::Expr(expr) => out.push_str(&format!("{{{{ {expr} }}}}")),
            Piece::Shell(command) => {
                out.push_str("$(");
                out.push_str(&template(command));
                out.push(')');
            }
        }
    }
    out
}

/// Pieces as one minijinja expression (`'a-' ~ (VERSION)`).
pub(crate) fn expression(pieces: &[Piece]) -> String {
    let parts: Vec<String> = pieces
        .iter()
        .map(|p| match p {
            Piece::Lit(text) => format!("'{}'", text.replace('\\', "\\\\").replace('\'', "\\'")),
            Piece::Expr(expr) => format!("({expr})"),
            Piece::Shell(command) => format!("'$(' ~ {} ~ ')'", expression(command)),
        })
        .collect();
    if parts.is_empty() {
        "''".to_owned()
    } else {
        parts.join(" ~ ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn expand(text: &str, rule: Option<(&str, &[String])>) -> (String, Vec<String>) {
        let vars: HashMap<String, String> = [("NAME".to_owned(), "NAME".to_owned())].into();
        let defines: HashMap<String, Vec<String>> =
            [("log".to_owned(), vec!["echo \"==> $(1)\"".to_owned()])].into();
        let mut e = Expander::new(Scope {
            vars: &vars,
            defines: &defines,
            makefile: "Makefile",
            rule,
            assigning: None,
        });
        let pieces = e.expand(text);
        (template(&pieces), e.notes)
    }

    #[test]
    fn references_become_template_expressions() {
        assert_eq!(
            expand("a $(NAME) ${NAME} $$HOME", None).0,
            "a {{ NAME }} {{ NAME }} $HOME"
        );
        assert_eq!(
            expand("$(UNSET)", None).0,
            "{{ (UNSET | default(env.UNSET | default(''))) }}"
        );
        assert_eq!(
            expand("$(shell git describe --tags --always)", None).0,
            "{{ VERSION }}"
        );
        assert_eq!(expand("$(CURDIR)/bin", None).0, "{{ ROOT_DIR }}/bin");
        assert_eq!(
            expand("docker inspect -f '{{.Id}}'", None).0,
            "{% raw %}docker inspect -f '{{.Id}}'{% endraw %}"
        );
    }

    #[test]
    fn calls_of_defines_and_automatic_variables() {
        assert_eq!(
            expand("$(call log,building $(NAME))", None).0,
            "echo \"==> building {{ NAME }}\""
        );
        let prereqs = [
            "main.go".to_owned(),
            "go.mod".to_owned(),
            "main.go".to_owned(),
        ];
        let (text, notes) = expand("go build -o $@ $^ # $< $(@D)", Some(("bin/app", &prereqs)));
        assert_eq!(text, "go build -o bin/app main.go go.mod # main.go bin");
        assert!(notes.is_empty());
    }

    #[test]
    fn untranslatable_functions_stay_and_are_noted() {
        let (text, notes) = expand("ls $(wildcard *.go) $*", None);
        assert_eq!(text, "ls $(wildcard *.go) $*");
        assert_eq!(notes.len(), 2, "{notes:?}");
        assert!(notes[0].contains("`wildcard` function"), "{notes:?}");
    }

    #[test]
    fn expressions_quote_literals() {
        let pieces = vec![Piece::Lit("it's ".into()), Piece::Expr("VERSION".into())];
        assert_eq!(expression(&pieces), "'it\\'s ' ~ (VERSION)");
    }
}
