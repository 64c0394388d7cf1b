//! Go templates rewritten as minijinja, for `hoist --migrate`: the subset
//! Taskfiles use in values and commands (fields, string/number/bool literals,
//! `if`/`else`, comparisons, and functions with a minijinja filter of the
//! same meaning). Anything else is refused with the reason, so the caller
//! can keep the line as it was and say so.

use super::parse::{self, Arg, ArgKind, Cmd, Node, Pipe};

/// Translates `source`; `rename` maps a variable name to hoist's (a go-task
/// variable that became a built-in, such as `GIT_COMMIT_HASH` to
/// `GIT_COMMIT`).
pub(crate) fn to_minijinja(
    source: &str,
    rename: &dyn Fn(&str) -> String,
) -> Result<String, String> {
    if !super::is_template(source) {
        return Ok(escape_text(source));
    }
    let tree = parse::parse(source).map_err(|e| e.message)?;
    if !tree.defines.is_empty() {
        return Err("`define`/`template` blocks".into());
    }
    let mut out = String::new();
    let cx = Cx { source, rename };
    cx.nodes(&tree.root, &mut out)?;
    Ok(out)
}

struct Cx<'a> {
    source: &'a str,
    rename: &'a dyn Fn(&str) -> String,
}

impl Cx<'_> {
    fn nodes(&self, nodes: &[Node], out: &mut String) -> Result<(), String> {
        for node in nodes {
            match node {
                Node::Text(start, end) => {
                    out.push_str(&escape_text(&self.source[*start as usize..*end as usize]));
                }
                Node::Action(pipe) => {
                    out.push_str("{{ ");
                    out.push_str(&self.pipe(pipe)?);
                    out.push_str(" }}");
                }
                Node::If(control) => {
                    out.push_str("{% if ");
                    out.push_str(&self.pipe(&control.pipe)?);
                    out.push_str(" %}");
                    self.nodes(&control.list, out)?;
                    if let Some(else_list) = &control.else_list {
                        out.push_str("{% else %}");
                        self.nodes(else_list, out)?;
                    }
                    out.push_str("{% endif %}");
                }
                Node::With(_) => return Err("`with` blocks".into()),
                Node::Range(_) => return Err("`range` loops".into()),
                Node::Break(_) | Node::Continue(_) => return Err("`break`/`continue`".into()),
                Node::Template { .. } => return Err("`template` calls".into()),
            }
        }
        Ok(())
    }

    fn pipe(&self, pipe: &Pipe) -> Result<String, String> {
        if !pipe.decl.is_empty() {
            return Err("template variables (`$x := ...`)".into());
        }
        let mut value: Option<String> = None;
        for cmd in &pipe.cmds {
            value = Some(self.cmd(cmd, value)?);
        }
        value.ok_or_else(|| "an empty action".into())
    }

    /// One command of a pipeline; `piped` is the previous command's value,
    /// which Go passes as the last argument.
    fn cmd(&self, cmd: &Cmd, piped: Option<String>) -> Result<String, String> {
        let (head, rest) = cmd.args.split_first().ok_or("an empty command")?;
        let ArgKind::Func(_, name) = &head.kind else {
            if rest.is_empty() && piped.is_none() {
                return self.arg(head);
            }
            return Err("a value applied to arguments".into());
        };
        let mut args = rest
            .iter()
            .map(|a| self.arg(a))
            .collect::<Result<Vec<_>, _>>()?;
        args.extend(piped);
        let arity = |n: usize| -> Result<(), String> {
            if args.len() == n {
                Ok(())
            } else {
                Err(format!("`{name}` with {} arguments", args.len()))
            }
        };
        Ok(match &**name {
            "upper" | "lower" | "trim" | "title" => {
                arity(1)?;
                format!("({} | {name})", args[0])
            }
            "len" => {
                arity(1)?;
                format!("({} | length)", args[0])
            }
            "quote" | "shellQuote" | "q" => {
                arity(1)?;
                format!("({} | quote)", args[0])
            }
            "default" => {
                arity(2)?;
                // sprig's default also replaces empty values.
                format!("({} | default({}, true))", args[1], args[0])
            }
            "replace" => {
                arity(3)?;
                format!("({} | replace({}, {}))", args[2], args[0], args[1])
            }
            "join" => {
                arity(2)?;
                format!("({} | join({}))", args[1], args[0])
            }
            "printf" => {
                let (format, values) = args.split_first().ok_or("`printf` without a format")?;
                let plain = rest.first().is_some_and(|a| match &a.kind {
                    ArgKind::String(f, _) => printf_verbs_ok(f),
                    _ => false,
                });
                if !plain {
                    return Err("`printf` with a format other than %s/%d/%v".into());
                }
                let format = format.replace("%v", "%s");
                format!("({format} | format({}))", values.join(", "))
            }
            "eq" | "ne" | "lt" | "le" | "gt" | "ge" => {
                arity(2)?;
                let op = match &**name {
                    "eq" => "==",
                    "ne" => "!=",
                    "lt" => "<",
                    "le" => "<=",
                    "gt" => ">",
                    _ => ">=",
                };
                format!("({} {op} {})", args[0], args[1])
            }
            "and" | "or" => {
                if args.len() < 2 {
                    return Err(format!("`{name}` with one argument"));
                }
                format!("({})", args.join(&format!(" {name} ")))
            }
            "not" => {
                arity(1)?;
                format!("(not {})", args[0])
            }
            "OS" | "ARCH" => {
                arity(0)?;
                name.to_string()
            }
            "env" => {
                arity(1)?;
                format!("env[{}]", args[0])
            }
            other => return Err(format!("the function `{other}`")),
        })
    }

    fn arg(&self, arg: &Arg) -> Result<String, String> {
        Ok(match &arg.kind {
            ArgKind::Field(path) => {
                let (first, rest) = path.split_first().ok_or("`.` alone")?;
                let mut text = (self.rename)(first);
                for key in rest {
                    text.push('.');
                    text.push_str(key);
                }
                text
            }
            ArgKind::String(value, _) => serde_json::to_string(value).map_err(|e| e.to_string())?,
            ArgKind::Number(number) => number.text.clone(),
            ArgKind::Bool(b) => b.to_string(),
            ArgKind::Nil => "none".to_owned(),
            ArgKind::Pipe(pipe) => format!("({})", self.pipe(pipe)?),
            ArgKind::Func(..) => self.cmd(
                &Cmd {
                    pos: arg.pos,
                    args: vec![Arg {
                        pos: arg.pos,
                        kind: clone_func(&arg.kind),
                    }],
                },
                None,
            )?,
            ArgKind::Dot => return Err("`.` (the whole data)".into()),
            ArgKind::Var(..) => return Err("template variables (`$x`)".into()),
            ArgKind::Chain(..) => return Err("fields of a pipeline's result".into()),
        })
    }
}

/// Whether every verb of a printf format means the same to minijinja's
/// `format` (`%v` is written as `%s`).
fn printf_verbs_ok(format: &str) -> bool {
    let mut chars = format.chars();
    while let Some(c) = chars.next() {
        if c == '%' && !matches!(chars.next(), Some('s' | 'd' | 'v' | '%')) {
            return false;
        }
    }
    true
}

/// Literal text with minijinja's other delimiters (`{#` in bash's `${#a[@]}`,
/// `{%`) written as expressions, so they stay text.
fn escape_text(text: &str) -> String {
    text.replace("{#", "{{ \"{#\" | safe }}")
        .replace("{%", "{{ \"{%\" | safe }}")
}

fn clone_func(kind: &ArgKind) -> ArgKind {
    match kind {
        ArgKind::Func(id, name) => ArgKind::Func(*id, name.clone()),
        _ => unreachable!("only called on functions"),
    }
}

#[cfg(test)]
mod tests {
    use super::to_minijinja;

    fn same(name: &str) -> String {
        name.to_owned()
    }

    #[test]
    fn translates_what_taskfiles_write() {
        let cases = [
            ("plain", "plain"),
            ("{{.NAME}}", "{{ NAME }}"),
            ("a-{{.M.key}}-b", "a-{{ M.key }}-b"),
            ("{{.V | default \"x\"}}", "{{ (V | default(\"x\", true)) }}"),
            ("{{default \"x\" .V}}", "{{ (V | default(\"x\", true)) }}"),
            ("{{.V | upper}}", "{{ (V | upper) }}"),
            (
                "{{if eq .A \"b\"}}yes{{else}}no{{end}}",
                "{% if (A == \"b\") %}yes{% else %}no{% endif %}",
            ),
            (
                "{{printf \"%s-%s\" .A .B}}",
                "{{ (\"%s-%s\" | format(A, B)) }}",
            ),
            ("{{OS}}/{{ARCH}}", "{{ OS }}/{{ ARCH }}"),
            (
                "{{.S | replace \"/\" \"-\"}}",
                "{{ (S | replace(\"/\", \"-\")) }}",
            ),
        ];
        for (go, jinja) in cases {
            assert_eq!(to_minijinja(go, &same).as_deref(), Ok(jinja), "{go}");
        }
    }

    #[test]
    fn renames_variables_that_became_builtins() {
        let rename = |n: &str| {
            if n == "GIT_COMMIT_HASH" {
                "GIT_COMMIT".to_owned()
            } else {
                n.to_owned()
            }
        };
        assert_eq!(
            to_minijinja("{{.GIT_COMMIT_HASH}}", &rename).as_deref(),
            Ok("{{ GIT_COMMIT }}")
        );
    }

    #[test]
    fn refuses_what_it_cannot_keep_the_meaning_of() {
        for go in [
            "{{range .L}}{{.}}{{end}}",
            "{{with .X}}{{.}}{{end}}",
            "{{$x := 1}}{{$x}}",
            "{{splitList \",\" .L}}",
            "{{.}}",
        ] {
            assert!(to_minijinja(go, &same).is_err(), "{go}");
        }
    }
}
