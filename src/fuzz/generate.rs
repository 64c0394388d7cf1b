//! Generators of nasty input for the fuzz suites. Large inputs are described
//! by a small recipe (`Input`) and built when a case runs, so a failing case
//! prints as its recipe, not as megabytes of bytes.

use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::select;

/// Keys and words hoist knows, so generated files reach the model's
/// deserializers instead of stopping at the first unknown key.
const WORDS: &[&str] = &[
    "version",
    "vars",
    "env",
    "dotenv",
    "output",
    "silent",
    "tasks",
    "desc",
    "summary",
    "deps",
    "cmds",
    "cmd",
    "dir",
    "sources",
    "generates",
    "status",
    "preconditions",
    "internal",
    "aliases",
    "ignore_error",
    "requires",
    "label",
    "prefix",
    "run",
    "method",
    "sh",
    "msg",
    "task",
    "defer",
    "build",
    "push",
    "tag",
    "image",
    "tags",
    "to",
    "as",
    "latest",
    "context",
    "dockerfile",
    "target",
    "args",
    "labels",
    "no_cache",
    "pull",
    "network",
    "platform",
    "default",
    "once",
    "when_changed",
    "checksum",
    "none",
    "auto",
    "always",
    "never",
    "group",
    "prefixed",
    "interleaved",
    "true",
    "false",
    "null",
    "~",
    "3",
    "-1",
    "0x1F",
    "1e400",
    ".nan",
    "VERSION",
    "GIT_BRANCH",
    "TASK",
    "<<",
];

/// Fragments that stress a YAML scanner or a template parser.
const SPECIALS: &[&str] = &[
    "\0",
    "\u{feff}",
    "\t",
    "\r\n",
    "\r",
    "\n",
    ": ",
    "- ",
    "? ",
    "&a ",
    "*a",
    "&b ",
    "*b",
    "!!str ",
    "!!binary ",
    "!!map ",
    "!custom ",
    "<<: *a",
    "---\n",
    "...\n",
    "%YAML 1.1\n",
    "%TAG ! tag:x,2000:\n",
    "{",
    "}",
    "[",
    "]",
    ",",
    "'",
    "\"",
    "|",
    "|-\n",
    ">+\n",
    "#",
    "@",
    "`",
    "\\",
    "\\x",
    "\\u",
    "{{",
    "}}",
    "{%",
    "%}",
    "{#",
    "#}",
    "\u{85}",
    "\u{2028}",
    "\u{fffe}",
    "\u{10ffff}",
    "\u{1b}[31m",
    "é",
    "İ",
    "\u{212a}",
    "99999999999999999999999",
    "    ",
    "  - ",
    "\n  ",
    "\n    ",
    "\n- ",
    ":",
    "-",
    "?",
    "!",
    "&",
    "*",
    "%",
];

/// A YAML node, rendered in block or flow style.
#[derive(Debug, Clone)]
pub(super) enum Node {
    Scalar(String),
    Seq(Vec<Node>, bool),
    Map(Vec<(String, Node)>, bool),
    Anchor(String, Box<Node>),
    Alias(String),
}

fn word() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => select(WORDS).prop_map(str::to_owned),
        2 => "[a-z_][a-z0-9_-]{0,8}",
        1 => select(SPECIALS).prop_map(str::to_owned),
        1 => any::<String>().prop_map(|s| s.chars().take(12).collect()),
    ]
}

fn scalar() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => word(),
        2 => template().prop_map(|t| quoted(&t)),
        1 => template(),
        1 => vec(select(SPECIALS), 1..6).prop_map(|v| v.concat()),
        1 => any::<String>().prop_map(|s| quoted(&s)),
        1 => "'[^']{0,10}'",
        1 => "[0-9.eE+-]{1,12}",
    ]
}

/// A double-quoted YAML scalar (JSON's escapes are YAML's).
pub(super) fn quoted(s: &str) -> String {
    serde_json::to_string(s).unwrap_or_default()
}

pub(super) fn node() -> impl Strategy<Value = Node> {
    let leaf = prop_oneof![
        8 => scalar().prop_map(Node::Scalar),
        1 => select(&["a", "b"][..]).prop_map(|a| Node::Alias(a.to_owned())),
    ];
    leaf.prop_recursive(6, 48, 6, |inner| {
        prop_oneof![
            3 => (vec((word(), inner.clone()), 0..6), any::<bool>())
                .prop_map(|(m, flow)| Node::Map(m, flow)),
            2 => (vec(inner.clone(), 0..6), any::<bool>()).prop_map(|(s, flow)| Node::Seq(s, flow)),
            1 => (select(&["a", "b"][..]), inner).prop_map(|(a, n)| Node::Anchor(a.to_owned(), Box::new(n))),
        ]
    })
}

impl Node {
    fn is_block(&self) -> bool {
        match self {
            Node::Seq(items, false) => !items.is_empty(),
            Node::Map(entries, false) => !entries.is_empty(),
            Node::Anchor(_, inner) => inner.is_block(),
            _ => false,
        }
    }

    fn flow(&self, out: &mut String) {
        match self {
            Node::Scalar(s) => out.push_str(s),
            Node::Alias(a) => {
                out.push('*');
                out.push_str(a);
            }
            Node::Anchor(a, inner) => {
                out.push('&');
                out.push_str(a);
                out.push(' ');
                inner.flow(out);
            }
            Node::Seq(items, _) => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    item.flow(out);
                }
                out.push(']');
            }
            Node::Map(entries, _) => {
                out.push('{');
                for (i, (k, v)) in entries.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    out.push_str(k);
                    out.push_str(": ");
                    v.flow(out);
                }
                out.push('}');
            }
        }
    }

    /// Block style at `indent`; the caller has written the key or `-`.
    fn block(&self, indent: usize, out: &mut String) {
        let pad = " ".repeat(indent);
        match self {
            Node::Anchor(a, inner) if inner.is_block() => {
                out.push_str(" &");
                out.push_str(a);
                inner.block(indent, out);
            }
            Node::Seq(items, false) if !items.is_empty() => {
                for item in items {
                    out.push('\n');
                    out.push_str(&pad);
                    out.push('-');
                    item.block(indent + 2, out);
                }
            }
            Node::Map(entries, false) if !entries.is_empty() => {
                for (k, v) in entries {
                    out.push('\n');
                    out.push_str(&pad);
                    out.push_str(k);
                    out.push(':');
                    v.block(indent + 2, out);
                }
            }
            other => {
                out.push(' ');
                other.flow(out);
            }
        }
    }

    pub(super) fn render(&self) -> String {
        let mut out = String::new();
        match self {
            Node::Map(entries, false) => {
                for (k, v) in entries {
                    out.push_str(k);
                    out.push(':');
                    v.block(2, &mut out);
                    out.push('\n');
                }
            }
            other => other.flow(&mut out),
        }
        out
    }
}

/// A task file shaped like the ones hoist reads, with the values left random.
pub(super) fn hoist_file() -> impl Strategy<Value = String> {
    let var = (
        "[A-Z_]{1,6}",
        prop_oneof![
            3 => template().prop_map(|t| quoted(&t)),
            1 => node().prop_map(|n| { let mut s = String::new(); n.flow(&mut s); s }),
        ],
    );
    let step = prop_oneof![
        3 => template().prop_map(|t| quoted(&t)),
        1 => "[a-z]{1,6}".prop_map(|t| format!("{{task: {t}}}")),
        1 => template().prop_map(|t| format!("{{defer: {}}}", quoted(&t))),
        1 => (template(), template()).prop_map(|(i, t)| format!(
            "{{build: {{image: {}, tags: [{}]}}}}", quoted(&i), quoted(&t))),
        1 => (template(), template()).prop_map(|(i, t)| format!(
            "{{push: {{image: {}, to: {}}}}}", quoted(&i), quoted(&t))),
        1 => node().prop_map(|n| { let mut s = String::new(); n.flow(&mut s); s }),
    ];
    let task = (
        "[a-z]{1,6}",
        vec(var.clone(), 0..3),
        vec(step, 0..4),
        vec("[a-z]{1,6}", 0..3),
        vec("[a-z]{1,6}", 0..2),
    );
    (vec(var, 0..6), vec(task, 0..4)).prop_map(|(vars, tasks)| {
        let mut out = String::from("vars:\n");
        for (k, v) in vars {
            out.push_str(&format!("  {k}: {v}\n"));
        }
        out.push_str("tasks:\n");
        for (name, vars, steps, deps, aliases) in tasks {
            out.push_str(&format!("  {name}:\n    vars:\n"));
            for (k, v) in vars {
                out.push_str(&format!("      {k}: {v}\n"));
            }
            out.push_str(&format!("    deps: [{}]\n", deps.join(", ")));
            out.push_str(&format!("    aliases: [{}]\n", aliases.join(", ")));
            out.push_str("    cmds:\n");
            for step in steps {
                out.push_str(&format!("      - {step}\n"));
            }
        }
        out
    })
}

/// Variables that use each other in a chain `n` long, closed into a cycle or not.
pub(super) fn var_chain() -> impl Strategy<Value = String> {
    (
        prop_oneof![1..120usize, 1..3_000usize],
        any::<bool>(),
        "[a-z|~ ]{0,8}",
    )
        .prop_map(|(n, cycle, extra)| {
            let mut out = String::from("vars:\n");
            for i in 0..n {
                out.push_str(&format!("  V{i}: \"{{{{ V{} {extra} }}}}\"\n", i + 1));
            }
            let last = if cycle { "\"{{ V0 }}\"" } else { "end" };
            out.push_str(&format!(
                "  V{n}: {last}\ntasks:\n  t: {{vars: {{T: \"{{{{ V0 }}}}\"}}}}\n"
            ));
            out
        })
}

/// How a deeply nested document is written.
#[derive(Debug, Clone, Copy)]
pub(super) enum Nesting {
    FlowSeq,
    FlowMap,
    /// `- - - x`: block sequences nested on one line.
    BlockSeq,
    /// `a:\n  a:\n    a: x`, one level per line.
    BlockMap,
    /// `[{a: [{a: ...`
    Mixed,
    /// `defer: {defer: ...}` inside a task's steps.
    Defer,
}

/// Where the nested value sits in the file.
#[derive(Debug, Clone, Copy)]
pub(super) enum Place {
    Top,
    Var,
    Step,
    Task,
}

/// One generated task-file input.
#[derive(Debug, Clone)]
pub(super) enum Input {
    Text(String),
    Bytes(Vec<u8>),
    Mutated(String, Vec<Mutation>),
    Deep {
        depth: usize,
        nesting: Nesting,
        place: Place,
        closed: bool,
    },
    /// Each level's anchor is a list of `fan` aliases of the level below.
    AliasBomb {
        levels: usize,
        fan: usize,
        place: Place,
        merge: bool,
    },
    /// Many aliases of one anchored scalar of `bytes` bytes.
    WideAlias {
        bytes: usize,
        aliases: usize,
        dummies: usize,
    },
    /// One line of `bytes` bytes of `fragment`, as the given kind of YAML.
    HugeLine {
        bytes: usize,
        fragment: String,
        kind: u8,
    },
}

#[derive(Debug, Clone)]
pub(super) enum Mutation {
    Insert(usize, Vec<u8>),
    Delete(usize, usize),
    Duplicate(usize, usize),
    Truncate(usize),
}

/// A stray continuation byte, an overlong `/`, a surrogate, a code point past
/// U+10FFFF and a truncated sequence.
const INVALID_UTF8: &[&[u8]] = &[
    &[0xff],
    &[0xc0, 0xaf],
    &[0xed, 0xa0, 0x80],
    &[0xf4, 0x90, 0x80, 0x80],
    &[0xe2, 0x82],
];

fn mutation() -> impl Strategy<Value = Mutation> {
    let bytes = prop_oneof![
        3 => select(SPECIALS).prop_map(|s| s.as_bytes().to_vec()),
        1 => vec(any::<u8>(), 1..4),
        1 => select(INVALID_UTF8).prop_map(<[u8]>::to_vec),
    ];
    prop_oneof![
        4 => (any::<usize>(), bytes).prop_map(|(at, b)| Mutation::Insert(at, b)),
        2 => (any::<usize>(), 1..8usize).prop_map(|(at, n)| Mutation::Delete(at, n)),
        1 => (any::<usize>(), 1..40usize).prop_map(|(at, n)| Mutation::Duplicate(at, n)),
        1 => any::<usize>().prop_map(Mutation::Truncate),
    ]
}

fn place() -> impl Strategy<Value = Place> {
    prop_oneof![
        Just(Place::Top),
        Just(Place::Var),
        Just(Place::Step),
        Just(Place::Task)
    ]
}

pub(super) fn input() -> impl Strategy<Value = Input> {
    let nesting = prop_oneof![
        Just(Nesting::FlowSeq),
        Just(Nesting::FlowMap),
        Just(Nesting::BlockSeq),
        Just(Nesting::BlockMap),
        Just(Nesting::Mixed),
        Just(Nesting::Defer),
    ];
    prop_oneof![
        6 => hoist_file().prop_map(Input::Text),
        4 => node().prop_map(|n| Input::Text(n.render())),
        6 => (prop_oneof![hoist_file(), node().prop_map(|n| n.render())], vec(mutation(), 1..6))
            .prop_map(|(t, m)| Input::Mutated(t, m)),
        1 => vec(any::<u8>(), 0..200).prop_map(Input::Bytes),
        2 => (prop_oneof![1..100usize, 1..12_000usize], nesting, place(), any::<bool>())
            .prop_map(|(depth, nesting, place, closed)| Input::Deep { depth, nesting, place, closed }),
        2 => (1..14usize, 2..12usize, place(), any::<bool>())
            .prop_map(|(levels, fan, place, merge)| Input::AliasBomb { levels, fan, place, merge }),
        1 => (prop_oneof![1..1000usize, 1..4_000_000usize], 1..60_000usize, 0..6_000usize)
            .prop_map(|(bytes, aliases, dummies)| Input::WideAlias { bytes, aliases, dummies }),
        1 => (prop_oneof![1..10_000usize, 1..10_500_000usize], prop_oneof![word(), select(SPECIALS).prop_map(str::to_owned)], 0..6u8)
            .prop_map(|(bytes, fragment, kind)| Input::HugeLine { bytes, fragment, kind }),
    ]
}

fn wrap(place: Place, value: &str) -> String {
    match place {
        Place::Top => value.to_owned(),
        Place::Var => format!("vars:\n  X: {value}\ntasks:\n  t: echo\n"),
        Place::Step => format!("tasks:\n  t:\n    cmds:\n      - {value}\n"),
        Place::Task => format!("tasks:\n  t: {value}\n"),
    }
}

impl Input {
    pub(super) fn bytes(&self) -> Vec<u8> {
        match self {
            Input::Text(t) => t.clone().into_bytes(),
            Input::Bytes(b) => b.clone(),
            Input::Mutated(text, mutations) => {
                let mut b = text.clone().into_bytes();
                for m in mutations {
                    let at = |i: &usize| if b.is_empty() { 0 } else { i % (b.len() + 1) };
                    match m {
                        Mutation::Insert(i, bytes) => {
                            let i = at(i);
                            b.splice(i..i, bytes.iter().copied());
                        }
                        Mutation::Delete(i, n) => {
                            let i = at(i);
                            let end = (i + n).min(b.len());
                            b.drain(i..end);
                        }
                        Mutation::Duplicate(i, n) => {
                            let i = at(i);
                            let end = (i + n).min(b.len());
                            let copy = b[i..end].to_vec();
                            b.splice(end..end, copy);
                        }
                        Mutation::Truncate(i) => {
                            let i = at(i);
                            b.truncate(i);
                        }
                    }
                }
                b
            }
            Input::Deep {
                depth,
                nesting,
                place,
                closed,
            } => deep(*depth, *nesting, *place, *closed).into_bytes(),
            Input::AliasBomb {
                levels,
                fan,
                place,
                merge,
            } => alias_bomb(*levels, *fan, *place, *merge).into_bytes(),
            Input::WideAlias {
                bytes,
                aliases,
                dummies,
            } => wide_alias(*bytes, *aliases, *dummies).into_bytes(),
            Input::HugeLine {
                bytes,
                fragment,
                kind,
            } => huge_line(*bytes, fragment, *kind).into_bytes(),
        }
    }
}

pub(super) fn deep(depth: usize, nesting: Nesting, place: Place, closed: bool) -> String {
    let close = |s: &str| {
        if closed {
            s.repeat(depth)
        } else {
            String::new()
        }
    };
    let value = match nesting {
        Nesting::FlowSeq => format!("{}x{}", "[".repeat(depth), close("]")),
        Nesting::FlowMap => format!("{}x{}", "{a: ".repeat(depth), close("}")),
        Nesting::Mixed => format!("{}x{}", "[{a: ".repeat(depth), close("}]")),
        Nesting::BlockSeq => format!("\n{}x", "- ".repeat(depth)),
        Nesting::BlockMap => {
            // Indentation grows with depth: keep the file below ~4 MB.
            let depth = depth.min(2_000);
            let mut out = String::new();
            for level in 0..depth {
                out.push('\n');
                out.push_str(&" ".repeat(2 + level));
                out.push_str("a:");
            }
            out.push_str(" x");
            out
        }
        Nesting::Defer => format!("{}echo{}", "{defer: ".repeat(depth), close("}")),
    };
    match (nesting, place) {
        (Nesting::BlockSeq | Nesting::BlockMap, Place::Top) => value.trim_start().to_owned(),
        // Block values go on their own lines, indented past any wrapper's key.
        (Nesting::BlockSeq | Nesting::BlockMap, _) => {
            wrap(place, &value.replace('\n', "\n        "))
        }
        _ => wrap(place, &value),
    }
}

pub(super) fn alias_bomb(levels: usize, fan: usize, place: Place, merge: bool) -> String {
    let mut out = String::from("vars:\n");
    if merge {
        out.push_str("  l0: &l0 {a: x, b: y}\n");
        for level in 1..=levels {
            let merges = (0..fan)
                .map(|_| format!("*l{}", level - 1))
                .collect::<Vec<_>>()
                .join(", ");
            out.push_str(&format!(
                "  l{level}: &l{level} {{<<: [{merges}], k{level}: v}}\n"
            ));
        }
    } else {
        out.push_str("  l0: &l0 [x, x, x, x, x, x, x, x, x, x]\n");
        for level in 1..=levels {
            let items = (0..fan)
                .map(|_| format!("*l{}", level - 1))
                .collect::<Vec<_>>()
                .join(", ");
            out.push_str(&format!("  l{level}: &l{level} [{items}]\n"));
        }
    }
    let top = format!("*l{levels}");
    match place {
        Place::Top | Place::Var => out,
        Place::Step => format!("{out}tasks:\n  t:\n    cmds:\n      - {top}\n"),
        Place::Task => format!("{out}tasks:\n  t: {top}\n"),
    }
}

pub(super) fn wide_alias(bytes: usize, aliases: usize, dummies: usize) -> String {
    let mut out = format!("vars:\n  BIG: &big {}\n", "x".repeat(bytes));
    for d in 0..dummies {
        out.push_str(&format!("  D{d}: &d{d} d\n"));
    }
    out.push_str("  MANY: [");
    out.push_str(&vec!["*big"; aliases].join(", "));
    out.push_str("]\n");
    out
}

pub(super) fn huge_line(bytes: usize, fragment: &str, kind: u8) -> String {
    let fragment = if fragment.is_empty() { "x" } else { fragment };
    let body = fragment.repeat(bytes / fragment.len() + 1);
    match kind {
        0 => format!("tasks:\n  t: {body}\n"),
        1 => format!("tasks:\n  t: {}\n", quoted(&body)),
        2 => format!("# {body}\ntasks:\n  t: echo\n"),
        3 => format!("tasks:\n  {body}: echo\n"),
        4 => format!("vars:\n  V: \"{{{{ '{body}' }}}}\"\n"),
        _ => body,
    }
}

// ---------------------------------------------------------------- templates

const FILTERS: &[&str] = &[
    "tag",
    "quote",
    "upper",
    "lower",
    "trim",
    "length",
    "list",
    "first",
    "last",
    "reverse",
    "sort",
    "unique",
    "join",
    "join(',')",
    "split",
    "split('/')",
    "replace('/', '-')",
    "default('d')",
    "default",
    "d",
    "int",
    "float",
    "abs",
    "round",
    "string",
    "tojson",
    "tojson(indent=2)",
    "indent",
    "indent(2)",
    "title",
    "capitalize",
    "escape",
    "safe",
    "items",
    "dictsort",
    "batch(2)",
    "batch(3, 'x')",
    "slice(2)",
    "map('upper')",
    "select",
    "reject",
    "count",
    "min",
    "max",
    "bool",
    "urlencode",
    "pprint",
    "nosuchfilter",
    "attr('x')",
];

/// Names a template may read besides hoist's built-ins ([`crate::vars::BUILTINS`]).
const OTHER_NAMES: &[&str] = &[
    "LIST",
    "MAP",
    "NONE",
    "env",
    "env.HOME",
    "env.NOPE",
    "UNDEFINED",
    "loop",
    "A",
    "B",
    "C",
    "x",
    "range",
    "namespace",
    "dict",
    "self",
    "super",
];

const OPS: &[&str] = &[
    " + ", " - ", " * ", " / ", " // ", " % ", " ** ", " ~ ", " == ", " != ", " < ", " >= ",
    " and ", " or ", " in ", " not in ", " is ", " is not ",
];

fn literal() -> impl Strategy<Value = String> {
    prop_oneof![
        3 => "[a-zA-Z0-9 /_.-]{0,12}".prop_map(|s| format!("'{s}'")),
        2 => any::<i64>().prop_map(|i| i.to_string()),
        1 => select(&["0", "1", "-1", "2", "100000", "99999999999", "1e308", "0.5", "true", "false", "none", "18446744073709551616"][..]).prop_map(str::to_owned),
        1 => any::<String>().prop_map(|s| quoted(&s.chars().take(8).collect::<String>())),
    ]
}

pub(super) fn expr() -> impl Strategy<Value = String> {
    let leaf = prop_oneof![
        2 => select(crate::vars::BUILTINS).prop_map(str::to_owned),
        2 => select(OTHER_NAMES).prop_map(str::to_owned),
        3 => literal(),
    ];
    leaf.prop_recursive(5, 32, 4, |inner| {
        prop_oneof![
            3 => (inner.clone(), select(FILTERS)).prop_map(|(e, f)| format!("{e} | {f}")),
            2 => (inner.clone(), select(OPS), inner.clone()).prop_map(|(a, o, b)| format!("{a}{o}{b}")),
            1 => inner.clone().prop_map(|e| format!("({e})")),
            1 => inner.clone().prop_map(|e| format!("not {e}")),
            1 => (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("{a}[{b}]")),
            1 => (inner.clone(), "[a-z]{1,4}").prop_map(|(a, b)| format!("{a}.{b}")),
            1 => vec(inner.clone(), 0..4).prop_map(|v| format!("[{}]", v.join(", "))),
            1 => (inner.clone(), inner.clone(), inner.clone()).prop_map(|(a, b, c)| format!("{a} if {b} else {c}")),
            1 => (inner.clone(), inner.clone()).prop_map(|(a, b)| format!("range({a}, {b})")),
            1 => inner.clone().prop_map(|e| format!("{e} is defined")),
            1 => (inner.clone(), select(&["indent", "batch", "slice", "round", "join", "replace", "split", "default", "tojson"][..]), inner)
                .prop_map(|(a, f, b)| format!("{a} | {f}({b})")),
        ]
    })
}

/// Random template source: mostly well-formed tags with random expressions,
/// with stray delimiters and garbage mixed in.
pub(super) fn template() -> impl Strategy<Value = String> {
    let text = prop_oneof![
        4 => "[a-z0-9 ./:_-]{0,10}",
        1 => select(SPECIALS).prop_map(str::to_owned),
    ];
    let piece = prop_oneof![
        4 => text.clone(),
        4 => expr().prop_map(|e| format!("{{{{ {e} }}}}")),
        1 => expr().prop_map(|e| format!("{{{{- {e} -}}}}")),
        1 => (expr(), text.clone()).prop_map(|(e, t)| format!("{{% if {e} %}}{t}{{% else %}}x{{% endif %}}")),
        1 => (expr(), expr()).prop_map(|(e, b)| format!("{{% for x in {e} %}}{{{{ x }}}}{{{{ {b} }}}}{{% else %}}-{{% endfor %}}")),
        1 => expr().prop_map(|e| format!("{{% set A = {e} %}}{{{{ A }}}}")),
        1 => expr().prop_map(|e| format!("{{% macro m(a, b=1) %}}{{{{ a }}}}{{{{ {e} }}}}{{% endmacro %}}{{{{ m({e}) }}}}")),
        1 => Just("{% macro r(n) %}{{ r(n + 1) }}{% endmacro %}{{ r(0) }}".to_owned()),
        1 => expr().prop_map(|e| format!("{{% filter upper %}}{{{{ {e} }}}}{{% endfilter %}}")),
        1 => expr().prop_map(|e| format!("{{% with y = {e} %}}{{{{ y }}}}{{% endwith %}}")),
        1 => Just("{% raw %}{{ not rendered }}{% endraw %}".to_owned()),
        1 => Just("{# comment #}".to_owned()),
        1 => select(&["{{", "}}", "{%", "%}", "{#", "#}", "{{ }}", "{% %}", "{% endif %}", "{% for %}", "{% include 'x' %}", "{% extends 'x' %}", "{% import 'x' as y %}", "{% block b %}", "{{ 1 +", "{{ (((", "{{ [[[", "{{ 'unclosed", "{% if x %}", "{{ x | }}", "{{ x | f( }}"][..]).prop_map(str::to_owned),
        1 => (1..2_000usize, select(&["(", "[", "{", "not ", "-", "x | upper | ", "[1] + ", "x ~ "][..]))
            .prop_map(|(n, open)| format!("{{{{ {}1 }}}}", open.repeat(n))),
        1 => (1..600usize).prop_map(|n| format!("{}x{}", "{% if true %}".repeat(n), "{% endif %}".repeat(n))),
    ];
    vec(piece, 0..6).prop_map(|p| p.concat())
}

// ---------------------------------------------------------------- dockerignore

fn pattern_piece() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => "[a-z.]{1,4}",
        2 => Just("/".to_owned()),
        2 => Just("*".to_owned()),
        2 => Just("**".to_owned()),
        1 => Just("**/".to_owned()),
        1 => Just("?".to_owned()),
        1 => Just("..".to_owned()),
        1 => Just(".".to_owned()),
        1 => select(&["[a-c]", "[^a]", "[!a]", "[]", "[", "]", "[a-]", "[\\]]", "[^]", "\\", "\\*", "\\d", "\\x", "\\w", "\\[", "\\\\", " ", "#", "!", "\r", "\t", "é", "\u{feff}"][..]).prop_map(str::to_owned),
        1 => any::<char>().prop_map(String::from),
    ]
}

pub(super) fn dockerignore_text() -> impl Strategy<Value = String> {
    let line = prop_oneof![
        6 => (any::<bool>(), vec(pattern_piece(), 1..8)).prop_map(|(not, p)| format!("{}{}", if not { "!" } else { "" }, p.concat())),
        1 => Just("# comment".to_owned()),
        1 => Just(String::new()),
        1 => (1..3_000usize, select(&["*", "**/", "a", "?", "*a", "**"][..])).prop_map(|(n, p)| p.repeat(n)),
    ];
    vec(line, 0..8).prop_map(|lines| lines.join("\n"))
}

pub(super) fn path() -> impl Strategy<Value = String> {
    prop_oneof![
        6 => vec("[a-z.]{1,4}", 1..6).prop_map(|p| p.join("/")),
        2 => vec(pattern_piece(), 1..8).prop_map(|p| p.concat()),
        1 => (1..3_000usize, select(&["a", "a/", "ab/", "/"][..])).prop_map(|(n, p)| p.repeat(n)),
    ]
}

// ---------------------------------------------------------------- tags

pub(super) fn tag_input() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => any::<String>(),
        2 => vec(select(&["feature/", "Containerise API", "-", ".", "_", "release/1.2", " ", "\u{130}", "\u{212a}", "ß", "\u{fb03}", "\u{1f600}", "\0", "\u{feff}", "ǅ", "--", ".."][..]), 0..12).prop_map(|v| v.concat()),
        1 => (1..20_000usize, select(&["a", "-", ".", "\u{130}", "/", "A-", "_"][..])).prop_map(|(n, s)| s.repeat(n)),
    ]
}
