//! GNU make's syntax, as far as `--migrate` reads it: logical lines (with
//! backslash continuations), comments, assignments, rules with their
//! recipes, `define` blocks, `export`, and the constructs it leaves out
//! (conditionals, `include`, pattern rules), each with its line.

/// A parse error: what is wrong, at which line (1-based).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct ParseError {
    pub line: usize,
    pub message: String,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Op {
    /// `=`: expanded where it is used.
    Recursive,
    /// `:=`, `::=`, `:::=`: expanded where it is defined.
    Simple,
    /// `?=`: only when not defined yet (the environment counts).
    Conditional,
    /// `+=`
    Append,
    /// `!=`: a shell command's output.
    Shell,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Assign {
    pub name: String,
    pub op: Op,
    pub value: String,
    pub export: bool,
    pub overrides: bool,
    pub line: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct RecipeLine {
    /// The text after the recipe tab, continuations joined.
    pub text: String,
    pub line: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Rule {
    pub targets: Vec<String>,
    pub prereqs: Vec<String>,
    pub order_only: Vec<String>,
    pub recipe: Vec<RecipeLine>,
    /// `target: ## text` on the rule line.
    pub inline_doc: Option<String>,
    /// The `#` comment line right above the rule.
    pub comment_above: Option<String>,
    pub line: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Item {
    Assign(Assign),
    /// `target: NAME = value` (or `target: export NAME = value`).
    TargetVar {
        targets: Vec<String>,
        assign: Assign,
    },
    Rule(Rule),
    Define {
        name: String,
        body: Vec<String>,
        line: usize,
    },
    /// `export NAME...` without a value; empty names: export everything.
    Export {
        names: Vec<String>,
        line: usize,
    },
    /// `## name: text`
    Doc {
        name: String,
        text: String,
        line: usize,
    },
    /// What the migration leaves out, with the reason.
    Skipped {
        line: usize,
        text: String,
        why: String,
    },
}

/// One logical line: its text and the line it starts on.
struct Logical {
    text: String,
    line: usize,
}

pub(crate) fn parse(text: &str) -> Result<Vec<Item>, ParseError> {
    let lines: Vec<&str> = text.lines().collect();
    let mut parser = Parser {
        lines: &lines,
        at: 0,
        items: Vec::new(),
        comment: None,
        in_rule: false,
        rule_at: None,
    };
    while parser.at < lines.len() {
        parser.step()?;
    }
    Ok(parser.items)
}

struct Parser<'a> {
    lines: &'a [&'a str],
    at: usize,
    items: Vec<Item>,
    /// The comment line just read, for the rule that may follow.
    comment: Option<String>,
    /// Whether tab-indented lines are a rule's recipe here.
    in_rule: bool,
    /// The index in `items` of the rule they go to (`None`: a rule left
    /// out, whose recipe goes too).
    rule_at: Option<usize>,
}

impl Parser<'_> {
    fn step(&mut self) -> Result<(), ParseError> {
        let raw = self.lines[self.at];
        if let Some(recipe) = raw.strip_prefix('\t') {
            if self.in_rule {
                let line = self.recipe_line(recipe);
                if let Some(Item::Rule(rule)) = self.rule_at.and_then(|i| self.items.get_mut(i)) {
                    rule.recipe.push(line);
                }
                return Ok(());
            }
            if !recipe.trim().is_empty() && !recipe.trim_start().starts_with('#') {
                return Err(ParseError {
                    line: self.at + 1,
                    message: "recipe commences before first target".into(),
                });
            }
        }
        let logical = self.logical_line();
        let trimmed = logical.text.trim();
        if trimmed.is_empty() {
            self.comment = None;
            return Ok(());
        }
        if let Some(comment) = trimmed.strip_prefix('#') {
            self.comment_line(comment, logical.line);
            return Ok(());
        }
        let comment = self.comment.take();
        self.statement(&logical, comment)
    }

    /// A recipe line starting at `self.at`, its continuations joined as
    /// the shell reads them (`\` and newline dropped, the next line's
    /// recipe tab too).
    fn recipe_line(&mut self, first: &str) -> RecipeLine {
        let line = self.at + 1;
        let mut text = first.to_owned();
        self.at += 1;
        while text.ends_with('\\') && !text.ends_with("\\\\") && self.at < self.lines.len() {
            text.pop();
            let next = self.lines[self.at];
            let next = next.strip_prefix('\t').unwrap_or(next);
            if text.ends_with([' ', '\t']) || next.starts_with([' ', '\t']) {
                text = format!("{} {}", text.trim_end(), next.trim_start());
            } else {
                text.push_str(next);
            }
            self.at += 1;
        }
        RecipeLine { text, line }
    }

    /// A non-recipe line and its continuations (make joins them with one
    /// space), with its comment removed.
    fn logical_line(&mut self) -> Logical {
        let line = self.at + 1;
        let mut text = String::new();
        loop {
            let raw = self.lines[self.at];
            self.at += 1;
            match raw.strip_suffix('\\') {
                Some(part) if !raw.ends_with("\\\\") && self.at < self.lines.len() => {
                    text.push_str(part.trim_end());
                    text.push(' ');
                    // The next line continues this one even when blank.
                    if self.lines[self.at].trim().is_empty() {
                        self.at += 1;
                        break;
                    }
                }
                _ => {
                    text.push_str(if text.is_empty() {
                        raw
                    } else {
                        raw.trim_start()
                    });
                    break;
                }
            }
        }
        Logical { text, line }
    }

    fn comment_line(&mut self, comment: &str, line: usize) {
        if let Some(doc) = comment.strip_prefix('#') {
            let doc = doc.trim();
            if let Some((name, text)) = doc.split_once(':') {
                let name = name.trim();
                if !name.is_empty() && !name.contains(char::is_whitespace) {
                    self.items.push(Item::Doc {
                        name: name.to_owned(),
                        text: text.trim().to_owned(),
                        line,
                    });
                    self.comment = None;
                    return;
                }
            }
            self.comment = Some(doc.to_owned());
        } else {
            self.comment = Some(comment.trim().to_owned());
        }
    }

    fn statement(&mut self, logical: &Logical, comment: Option<String>) -> Result<(), ParseError> {
        let line = logical.line;
        let (code, inline_doc) = split_comment(&logical.text);
        let code = code.trim();
        let first = code.split_whitespace().next().unwrap_or("");
        match first {
            "define" => return self.define(code, line),
            "ifeq" | "ifneq" | "ifdef" | "ifndef" => return self.conditional(code, line),
            "else" | "endif" => {
                return Err(ParseError {
                    line,
                    message: format!("`{first}` without a conditional before it"),
                })
            }
            "endef" => {
                return Err(ParseError {
                    line,
                    message: "`endef` without a `define` before it".into(),
                })
            }
            "include" | "-include" | "sinclude" => {
                self.skip(
                    line,
                    code,
                    "`include`: migrate the included file on its own",
                );
                return Ok(());
            }
            "vpath" | "unexport" | "undefine" => {
                self.skip(line, code, &format!("`{first}` has no hoist equivalent"));
                return Ok(());
            }
            _ => {}
        }
        if first == "override" {
            let rest = code["override".len()..].trim();
            return self.assignment_or_rule(rest, line, true, comment, inline_doc);
        }
        self.assignment_or_rule(code, line, false, comment, inline_doc)
    }

    fn assignment_or_rule(
        &mut self,
        code: &str,
        line: usize,
        overrides: bool,
        comment: Option<String>,
        inline_doc: Option<String>,
    ) -> Result<(), ParseError> {
        let (export, code) = strip_export(code);
        if let Some(mut assign) = assignment(code, line) {
            assign.export = export;
            assign.overrides = overrides;
            self.in_rule = false;
            self.items.push(Item::Assign(assign));
            return Ok(());
        }
        if export {
            let names = code.split_whitespace().map(str::to_owned).collect();
            self.items.push(Item::Export { names, line });
            return Ok(());
        }
        let Some(colon) = top_level_find(code, ':') else {
            return Err(ParseError {
                line,
                message: format!("missing separator: `{code}` is no rule, assignment or directive"),
            });
        };
        self.rule(code, colon, line, comment, inline_doc);
        Ok(())
    }

    fn rule(
        &mut self,
        code: &str,
        colon: usize,
        line: usize,
        comment: Option<String>,
        inline_doc: Option<String>,
    ) {
        let targets: Vec<String> = code[..colon]
            .split_whitespace()
            .map(str::to_owned)
            .collect();
        let mut rest = &code[colon + 1..];
        let double = rest.starts_with(':');
        if double {
            rest = &rest[1..];
        }
        if targets.iter().any(|t| t.contains('%')) || is_suffix_rule(&targets, rest) {
            self.skip(line, code, "a pattern rule: hoist has no pattern rules");
            self.in_rule = true;
            self.rule_at = None;
            return;
        }
        let (export, rest) = strip_export(rest.trim_start());
        if let Some(mut assign) = assignment(rest, line) {
            assign.export = export;
            self.in_rule = false;
            self.items.push(Item::TargetVar { targets, assign });
            return;
        }
        let (prereqs, inline_recipe) = match top_level_find(rest, ';') {
            Some(at) => (&rest[..at], Some(rest[at + 1..].trim().to_owned())),
            None => (rest, None),
        };
        let (normal, order_only) = prereqs.split_once('|').unwrap_or((prereqs, ""));
        let words = |s: &str| s.split_whitespace().map(str::to_owned).collect::<Vec<_>>();
        let mut recipe = Vec::new();
        if let Some(text) = inline_recipe.filter(|t| !t.is_empty()) {
            recipe.push(RecipeLine { text, line });
        }
        if double {
            self.skip(line, code, "a double-colon rule: read as an ordinary rule");
        }
        self.in_rule = true;
        self.rule_at = Some(self.items.len());
        self.items.push(Item::Rule(Rule {
            targets,
            prereqs: words(normal),
            order_only: words(order_only),
            recipe,
            inline_doc,
            comment_above: comment,
            line,
        }));
    }

    fn define(&mut self, code: &str, line: usize) -> Result<(), ParseError> {
        let name = code["define".len()..]
            .trim()
            .trim_end_matches(['=', ':', '?', '+', '!'])
            .trim()
            .to_owned();
        let mut body = Vec::new();
        let mut depth = 1;
        while self.at < self.lines.len() {
            let raw = self.lines[self.at];
            self.at += 1;
            let word = raw.split_whitespace().next().unwrap_or("");
            if word == "define" {
                depth += 1;
            } else if word == "endef" {
                depth -= 1;
                if depth == 0 {
                    self.in_rule = false;
                    self.items.push(Item::Define { name, body, line });
                    return Ok(());
                }
            }
            body.push(raw.to_owned());
        }
        Err(ParseError {
            line,
            message: format!("`define {name}` has no `endef`"),
        })
    }

    /// A conditional block, left out whole (both branches): which one make
    /// takes depends on values only known when it runs.
    fn conditional(&mut self, code: &str, line: usize) -> Result<(), ParseError> {
        let mut depth = 1;
        while self.at < self.lines.len() {
            let raw = self.lines[self.at].trim_start();
            self.at += 1;
            let word = raw.split_whitespace().next().unwrap_or("");
            match word {
                "ifeq" | "ifneq" | "ifdef" | "ifndef" => depth += 1,
                "endif" => {
                    depth -= 1;
                    if depth == 0 {
                        let why = format!(
                            "a conditional (lines {line}-{}): hoist.yml has none; left out",
                            self.at
                        );
                        self.skip(line, code, &why);
                        return Ok(());
                    }
                }
                _ => {}
            }
        }
        Err(ParseError {
            line,
            message: format!("`{code}` has no `endif`"),
        })
    }

    fn skip(&mut self, line: usize, text: &str, why: &str) {
        self.items.push(Item::Skipped {
            line,
            text: text.to_owned(),
            why: why.to_owned(),
        });
    }
}

/// `export NAME = value` is an exported assignment; `export` alone exports all.
fn strip_export(code: &str) -> (bool, &str) {
    match code.strip_prefix("export") {
        Some(rest) if rest.is_empty() || rest.starts_with([' ', '\t']) => (true, rest.trim()),
        _ => (false, code),
    }
}

/// `.c.o:` and `.c:` (old-fashioned suffix rules).
fn is_suffix_rule(targets: &[String], prereqs: &str) -> bool {
    targets.len() == 1
        && prereqs.trim().is_empty()
        && targets[0].starts_with('.')
        && targets[0][1..].contains('.')
}

/// The code of a line and its comment: a `## text` comment is returned as
/// a description (the `target: ## text` style). `\#` is no comment.
fn split_comment(text: &str) -> (String, Option<String>) {
    let mut code = String::new();
    let mut chars = text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        match c {
            '\\' if chars.peek().map(|(_, c)| *c) == Some('#') => {
                code.push('#');
                chars.next();
            }
            '#' => {
                let doc = text[i..]
                    .strip_prefix("##")
                    .map(|d| d.trim().to_owned())
                    .filter(|d| !d.is_empty());
                return (code, doc);
            }
            _ => code.push(c),
        }
    }
    (code, None)
}

/// The byte offset of `wanted` outside `$(...)`/`${...}`.
pub(crate) fn top_level_find(text: &str, wanted: char) -> Option<usize> {
    let mut depth = 0usize;
    let mut prev = '\0';
    for (i, c) in text.char_indices() {
        match c {
            '(' | '{' if prev == '$' || depth > 0 => depth += 1,
            ')' | '}' if depth > 0 => depth -= 1,
            _ if c == wanted && depth == 0 => return Some(i),
            _ => {}
        }
        prev = if prev == '$' && c == '$' { '\0' } else { c };
    }
    None
}

/// `NAME op value`, when `code` is an assignment: the operator comes
/// before any `:` that makes a rule.
fn assignment(code: &str, line: usize) -> Option<Assign> {
    let eq = top_level_find(code, '=')?;
    if top_level_find(&code[..eq], ':').is_some_and(|c| !code[c..eq].trim_matches(':').is_empty()) {
        return None;
    }
    let head = &code[..eq];
    let (name, op) = if let Some(n) = head.strip_suffix(":::") {
        (n, Op::Simple)
    } else if let Some(n) = head.strip_suffix("::") {
        (n, Op::Simple)
    } else if let Some(n) = head.strip_suffix(':') {
        (n, Op::Simple)
    } else if let Some(n) = head.strip_suffix('?') {
        (n, Op::Conditional)
    } else if let Some(n) = head.strip_suffix('+') {
        (n, Op::Append)
    } else if let Some(n) = head.strip_suffix('!') {
        (n, Op::Shell)
    } else {
        (head, Op::Recursive)
    };
    let name = name.trim();
    if name.is_empty() || name.contains(char::is_whitespace) {
        return None;
    }
    Some(Assign {
        name: name.to_owned(),
        op,
        value: code[eq + 1..].trim_start().to_owned(),
        export: false,
        overrides: false,
        line,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn items(text: &str) -> Vec<Item> {
        parse(text).unwrap()
    }

    #[test]
    fn assignments_of_every_flavour() {
        let got = items("A := 1\nB = $(A) x\nC ?= $(shell git describe)\nD += y\nE != date\n");
        let ops: Vec<(String, Op, String)> = got
            .into_iter()
            .map(|i| match i {
                Item::Assign(a) => (a.name, a.op, a.value),
                other => panic!("{other:?}"),
            })
            .collect();
        assert_eq!(
            ops,
            [
                ("A".into(), Op::Simple, "1".into()),
                ("B".into(), Op::Recursive, "$(A) x".into()),
                ("C".into(), Op::Conditional, "$(shell git describe)".into()),
                ("D".into(), Op::Append, "y".into()),
                ("E".into(), Op::Shell, "date".into()),
            ]
        );
    }

    #[test]
    fn rules_recipes_and_continuations() {
        let got = items(
            "# Build it.\nbuild: dep1 dep2 | dir\n\t@go build \\\n\t\t-o x .\n\n\t-rm y\nclean: ; rm -f x\n",
        );
        let Item::Rule(build) = &got[0] else {
            panic!("{got:?}")
        };
        assert_eq!(build.targets, ["build"]);
        assert_eq!(build.prereqs, ["dep1", "dep2"]);
        assert_eq!(build.order_only, ["dir"]);
        assert_eq!(build.comment_above.as_deref(), Some("Build it."));
        let recipe: Vec<&str> = build.recipe.iter().map(|r| r.text.as_str()).collect();
        assert_eq!(recipe, ["@go build -o x .", "-rm y"]);
        assert_eq!(build.recipe[1].line, 6);
        let Item::Rule(clean) = &got[1] else {
            panic!("{got:?}")
        };
        assert_eq!(clean.recipe[0].text, "rm -f x");
    }

    #[test]
    fn docs_defines_target_vars_and_skipped_parts() {
        let got = items(
            "## build: Build the binary.\ndefine log\n\techo $(1)\nendef\nbuild: GOOS = linux\n\
             ifdef X\nY = 1\nendif\n%.o: %.c\n\tcc $<\ninclude other.mk\n",
        );
        assert!(
            matches!(&got[0], Item::Doc { name, text, .. } if name == "build" && text == "Build the binary.")
        );
        assert!(
            matches!(&got[1], Item::Define { name, body, .. } if name == "log" && body == &["\techo $(1)"])
        );
        assert!(
            matches!(&got[2], Item::TargetVar { targets, assign } if targets == &["build"] && assign.name == "GOOS")
        );
        assert!(matches!(&got[3], Item::Skipped { line: 6, .. }));
        assert!(matches!(&got[4], Item::Skipped { line: 9, .. }));
        assert!(matches!(&got[5], Item::Skipped { line: 11, .. }));
        assert_eq!(got.len(), 6, "{got:?}");
    }

    #[test]
    fn errors_name_their_line() {
        let err = parse("A = 1\n\techo before any rule\n").unwrap_err();
        assert_eq!(err.line, 2);
        let err = parse("x: y\n\ndefine f\n\techo\n").unwrap_err();
        assert_eq!(
            (err.line, err.message.as_str()),
            (3, "`define f` has no `endef`")
        );
        let err = parse("just some words\n").unwrap_err();
        assert!(err.message.starts_with("missing separator"), "{err:?}");
        assert_eq!(parse("ifeq (a,b)\nx = 1\n").unwrap_err().line, 1);
    }
}
