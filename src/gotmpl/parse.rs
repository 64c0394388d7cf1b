//! Lexer and parser for Go's text/template syntax. One pass over the source
//! makes the tokens, one over the tokens makes the tree; both are linear.
//! Functions and variables are resolved here (a function table index, a
//! stack slot), so execution does no name lookups.

use super::funcs::{self, FuncId};
use super::ParseError;
use std::fmt;

/// Nesting deeper than this (parentheses, control structures) is refused so
/// that parsing and execution cannot exhaust the stack.
pub(super) const MAX_NESTING: usize = 100;

// ---------------------------------------------------------------- lexer

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Kind {
    Text,
    LeftDelim,
    RightDelim,
    Space,
    Bool,
    Char,
    CharConstant,
    Number,
    Complex,
    String,
    RawString,
    Field,
    Variable,
    Identifier,
    Dot,
    Nil,
    Assign,
    Declare,
    Pipe,
    LeftParen,
    RightParen,
    Block,
    Break,
    Continue,
    Define,
    Else,
    End,
    If,
    Range,
    Template,
    With,
    Eof,
    Error,
}

#[derive(Clone, Debug)]
struct Tok {
    kind: Kind,
    start: u32,
    end: u32,
    line: u32,
    /// The message of an `Error` token.
    msg: Option<Box<str>>,
}

fn is_space(b: u8) -> bool {
    matches!(b, b' ' | b'\t' | b'\r' | b'\n')
}

fn is_alnum(c: char) -> bool {
    c == '_' || c.is_alphanumeric()
}

enum Step {
    More,
    Done,
    Fail,
}

struct Lexer<'s> {
    src: &'s str,
    b: &'s [u8],
    pos: usize,
    start: usize,
    line: u32,
    start_line: u32,
    paren_depth: i64,
    toks: Vec<Tok>,
}

const LEFT: &str = "{{";
const RIGHT: &str = "}}";

fn lex(src: &str) -> Vec<Tok> {
    let mut l = Lexer {
        src,
        b: src.as_bytes(),
        pos: 0,
        start: 0,
        line: 1,
        start_line: 1,
        paren_depth: 0,
        toks: Vec::with_capacity(src.len() / 4 + 2),
    };
    l.run();
    l.toks
}

impl Lexer<'_> {
    fn emit(&mut self, kind: Kind) {
        self.toks.push(Tok {
            kind,
            start: self.start as u32,
            end: self.pos as u32,
            line: self.start_line,
            msg: None,
        });
        self.ignore();
    }

    /// Drops the pending bytes, counting their newlines.
    // The bytes between two tokens are few: no need for a byte-count crate.
    #[allow(clippy::naive_bytecount)]
    fn ignore(&mut self) {
        if self.pos > self.start {
            self.line += self.b[self.start..self.pos]
                .iter()
                .filter(|&&c| c == b'\n')
                .count() as u32;
        }
        self.start = self.pos;
        self.start_line = self.line;
    }

    fn error(&mut self, msg: String) -> Step {
        self.toks.push(Tok {
            kind: Kind::Error,
            start: self.start as u32,
            end: self.pos as u32,
            line: self.start_line,
            msg: Some(msg.into()),
        });
        Step::Fail
    }

    fn peek_char(&self) -> Option<char> {
        self.src[self.pos..].chars().next()
    }

    fn next_char(&mut self) -> Option<char> {
        let c = self.peek_char()?;
        self.pos += c.len_utf8();
        Some(c)
    }

    fn has_left_trim(&self, at: usize) -> bool {
        self.b.len() >= at + 2 && self.b[at] == b'-' && is_space(self.b[at + 1])
    }

    fn has_right_trim(&self, at: usize) -> bool {
        self.b.len() >= at + 2 && is_space(self.b[at]) && self.b[at + 1] == b'-'
    }

    /// At `}}` or ` -}}`: (is a delimiter, trims).
    fn at_right_delim(&self) -> (bool, bool) {
        if self.has_right_trim(self.pos) && self.src[self.pos + 2..].starts_with(RIGHT) {
            return (true, true);
        }
        (self.src[self.pos..].starts_with(RIGHT), false)
    }

    fn run(&mut self) {
        loop {
            let Some(x) = self.src[self.pos..].find(LEFT) else {
                self.pos = self.b.len();
                if self.pos > self.start {
                    self.emit(Kind::Text);
                }
                self.emit(Kind::Eof);
                return;
            };
            self.pos += x;
            if x > 0 {
                let trim = if self.has_left_trim(self.pos + LEFT.len()) {
                    let text = &self.src[self.start..self.pos];
                    text.len() - text.trim_end_matches([' ', '\t', '\r', '\n']).len()
                } else {
                    0
                };
                let delim = self.pos;
                self.pos -= trim;
                if self.pos > self.start {
                    self.emit(Kind::Text);
                }
                self.pos = delim;
                self.ignore();
            }
            if !self.lex_left_delim() {
                return;
            }
        }
    }

    /// From `{{` through its `}}`; false after an error.
    fn lex_left_delim(&mut self) -> bool {
        self.pos += LEFT.len();
        let after = if self.has_left_trim(self.pos) { 2 } else { 0 };
        if self.src[self.pos + after..].starts_with("/*") {
            self.pos += after;
            self.ignore();
            return self.lex_comment();
        }
        self.emit(Kind::LeftDelim);
        self.pos += after;
        self.ignore();
        self.paren_depth = 0;
        loop {
            match self.step_action() {
                Step::More => {}
                Step::Done => return true,
                Step::Fail => return false,
            }
        }
    }

    fn lex_comment(&mut self) -> bool {
        self.pos += 2;
        let Some(x) = self.src[self.pos..].find("*/") else {
            self.error("unclosed comment".into());
            return false;
        };
        self.pos += x + 2;
        let (delim, trim) = self.at_right_delim();
        if !delim {
            self.error("comment ends before closing delimiter".into());
            return false;
        }
        if trim {
            self.pos += 2;
        }
        self.pos += RIGHT.len();
        if trim {
            self.skip_space();
        }
        self.ignore();
        true
    }

    fn skip_space(&mut self) {
        while self.pos < self.b.len() && is_space(self.b[self.pos]) {
            self.pos += 1;
        }
    }

    fn lex_right_delim(&mut self) -> Step {
        let (_, trim) = self.at_right_delim();
        if trim {
            self.pos += 2;
            self.ignore();
        }
        self.pos += RIGHT.len();
        self.emit(Kind::RightDelim);
        if trim {
            self.skip_space();
            self.ignore();
        }
        Step::Done
    }

    fn at_terminator(&self) -> bool {
        match self.b.get(self.pos) {
            None => true,
            Some(&c) if is_space(c) => true,
            Some(b'.' | b',' | b'|' | b':' | b')' | b'(') => true,
            _ => self.src[self.pos..].starts_with(RIGHT),
        }
    }

    fn emit_more(&mut self, kind: Kind) -> Step {
        self.emit(kind);
        Step::More
    }

    fn step_action(&mut self) -> Step {
        let (delim, _) = self.at_right_delim();
        if delim {
            if self.paren_depth == 0 {
                return self.lex_right_delim();
            }
            return self.error("unclosed left paren".into());
        }
        let Some(r) = self.next_char() else {
            return self.error("unclosed action".into());
        };
        match r {
            ' ' | '\t' | '\r' | '\n' => {
                self.pos -= 1;
                self.lex_space()
            }
            '=' => self.emit_more(Kind::Assign),
            ':' => {
                if self.next_char() != Some('=') {
                    return self.error("expected :=".into());
                }
                self.emit_more(Kind::Declare)
            }
            '|' => self.emit_more(Kind::Pipe),
            '"' => self.lex_quote(),
            '`' => self.lex_raw_quote(),
            '$' => self.lex_variable(),
            '\'' => self.lex_char(),
            '.' if self.b.get(self.pos).is_none_or(|c| !c.is_ascii_digit()) => {
                self.lex_field_or_var(Kind::Field)
            }
            '.' | '+' | '-' | '0'..='9' => {
                self.pos -= 1;
                self.lex_number()
            }
            c if is_alnum(c) => {
                self.pos -= c.len_utf8();
                self.lex_identifier()
            }
            '(' => {
                self.paren_depth += 1;
                self.emit_more(Kind::LeftParen)
            }
            ')' => {
                self.paren_depth -= 1;
                if self.paren_depth < 0 {
                    return self.error("unexpected right paren".into());
                }
                self.emit_more(Kind::RightParen)
            }
            c if c.is_ascii() && (' '..='~').contains(&c) => self.emit_more(Kind::Char),
            c => self.error(format!(
                "unrecognized character in action: {}",
                go_char_u(c)
            )),
        }
    }

    fn lex_space(&mut self) -> Step {
        let mut n = 0;
        while self.pos < self.b.len() && is_space(self.b[self.pos]) {
            self.pos += 1;
            n += 1;
        }
        // " -}}": the last space belongs to the trim marker.
        if self.has_right_trim(self.pos - 1) && self.src[self.pos + 1..].starts_with(RIGHT) {
            self.pos -= 1;
            if n == 1 {
                return self.lex_right_delim();
            }
        }
        self.emit_more(Kind::Space)
    }

    fn lex_identifier(&mut self) -> Step {
        while let Some(c) = self.peek_char() {
            if !is_alnum(c) {
                break;
            }
            self.pos += c.len_utf8();
        }
        if !self.at_terminator() {
            let r = self.next_char().unwrap_or('\0');
            return self.error(format!("bad character {}", go_char_u(r)));
        }
        let kind = match &self.src[self.start..self.pos] {
            "block" => Kind::Block,
            "break" => Kind::Break,
            "continue" => Kind::Continue,
            "define" => Kind::Define,
            "else" => Kind::Else,
            "end" => Kind::End,
            "if" => Kind::If,
            "range" => Kind::Range,
            "nil" => Kind::Nil,
            "template" => Kind::Template,
            "with" => Kind::With,
            "true" | "false" => Kind::Bool,
            _ => Kind::Identifier,
        };
        self.emit_more(kind)
    }

    fn lex_variable(&mut self) -> Step {
        if self.at_terminator() {
            return self.emit_more(Kind::Variable);
        }
        self.lex_field_or_var(Kind::Variable)
    }

    fn lex_field_or_var(&mut self, kind: Kind) -> Step {
        if self.at_terminator() {
            return self.emit_more(if kind == Kind::Variable {
                Kind::Variable
            } else {
                Kind::Dot
            });
        }
        while let Some(c) = self.peek_char() {
            if !is_alnum(c) {
                break;
            }
            self.pos += c.len_utf8();
        }
        if !self.at_terminator() {
            let r = self.next_char().unwrap_or('\0');
            return self.error(format!("bad character {}", go_char_u(r)));
        }
        self.emit_more(kind)
    }

    fn lex_escaped_until(&mut self, close: char, what: &str) -> Step {
        loop {
            match self.next_char() {
                Some('\\') => {
                    if matches!(self.next_char(), Some('\n') | None) {
                        return self.error(format!("unterminated {what}"));
                    }
                }
                Some('\n') | None => return self.error(format!("unterminated {what}")),
                Some(c) if c == close => return Step::More,
                _ => {}
            }
        }
    }

    fn lex_char(&mut self) -> Step {
        match self.lex_escaped_until('\'', "character constant") {
            Step::More => self.emit_more(Kind::CharConstant),
            s => s,
        }
    }

    fn lex_quote(&mut self) -> Step {
        match self.lex_escaped_until('"', "quoted string") {
            Step::More => self.emit_more(Kind::String),
            s => s,
        }
    }

    fn lex_raw_quote(&mut self) -> Step {
        if let Some(x) = self.src[self.pos..].find('`') {
            self.pos += x + 1;
            self.emit_more(Kind::RawString)
        } else {
            self.pos = self.b.len();
            self.error("unterminated raw quoted string".into())
        }
    }

    fn accept(&mut self, set: &[u8]) -> bool {
        if self.pos < self.b.len() && set.contains(&self.b[self.pos]) {
            self.pos += 1;
            return true;
        }
        false
    }

    fn accept_run(&mut self, set: &[u8]) {
        while self.accept(set) {}
    }

    fn scan_number(&mut self) -> bool {
        self.accept(b"+-");
        let mut digits: &[u8] = b"0123456789_";
        if self.accept(b"0") {
            if self.accept(b"xX") {
                digits = b"0123456789abcdefABCDEF_";
            } else if self.accept(b"oO") {
                digits = b"01234567_";
            } else if self.accept(b"bB") {
                digits = b"01_";
            }
        }
        self.accept_run(digits);
        if self.accept(b".") {
            self.accept_run(digits);
        }
        if digits.len() == 11 && self.accept(b"eE") {
            self.accept(b"+-");
            self.accept_run(b"0123456789_");
        }
        if digits.len() == 23 && self.accept(b"pP") {
            self.accept(b"+-");
            self.accept_run(b"0123456789_");
        }
        self.accept(b"i");
        if self.peek_char().is_some_and(is_alnum) {
            self.next_char();
            return false;
        }
        true
    }

    fn lex_number(&mut self) -> Step {
        if !self.scan_number() {
            let t = self.src[self.start..self.pos].to_string();
            return self.error(format!("bad number syntax: {}", super::gofmt::quote(&t)));
        }
        if matches!(self.b.get(self.pos), Some(b'+' | b'-')) {
            if !self.scan_number() || self.b[self.pos - 1] != b'i' {
                let t = self.src[self.start..self.pos].to_string();
                return self.error(format!("bad number syntax: {}", super::gofmt::quote(&t)));
            }
            return self.emit_more(Kind::Complex);
        }
        self.emit_more(Kind::Number)
    }
}

/// Go's `%#U` of a rune: `U+0027 '''`.
fn go_char_u(c: char) -> String {
    if super::gofmt::is_print(c) {
        format!("U+{:04X} '{}'", c as u32, c)
    } else {
        format!("U+{:04X}", c as u32)
    }
}

// ---------------------------------------------------------------- tree

/// A node of a template body.
#[derive(Debug)]
pub(super) enum Node {
    /// Literal text: a byte range of the source.
    Text(u32, u32),
    Action(Pipe),
    If(Box<Control>),
    With(Box<Control>),
    Range(Box<Control>),
    Break(u32),
    Continue(u32),
    Template {
        pos: u32,
        name: String,
        pipe: Option<Pipe>,
    },
}

#[derive(Debug)]
pub(super) struct Control {
    pub pos: u32,
    pub pipe: Pipe,
    pub list: Vec<Node>,
    pub else_list: Option<Vec<Node>>,
}

/// A variable declared or assigned by a pipeline: its stack slot.
#[derive(Debug, Clone)]
pub(super) struct Decl {
    pub name: String,
    pub slot: u32,
}

#[derive(Debug)]
pub(super) struct Pipe {
    pub pos: u32,
    pub decl: Vec<Decl>,
    pub is_assign: bool,
    pub cmds: Vec<Cmd>,
}

#[derive(Debug)]
pub(super) struct Cmd {
    pub pos: u32,
    pub args: Vec<Arg>,
}

#[derive(Debug)]
pub(super) struct Arg {
    pub pos: u32,
    pub kind: ArgKind,
}

/// A slot that names a variable declared by the pipeline being evaluated,
/// which does not exist yet when its own right-hand side runs.
pub(super) const UNBOUND: u32 = u32::MAX;

#[derive(Debug)]
pub(super) enum ArgKind {
    Dot,
    Nil,
    Bool(bool),
    Number(Box<Number>),
    /// Unquoted text, and the literal as written.
    String(String, Box<str>),
    /// `.A.B`
    Field(Vec<String>),
    /// `$x.A.B`: name, slot, fields.
    Var(String, u32, Vec<String>),
    Func(FuncId, Box<str>),
    Pipe(Box<Pipe>),
    /// `(pipe).A.B`
    Chain(Box<Arg>, Vec<String>),
}

#[derive(Debug)]
pub(super) struct Number {
    pub text: String,
    pub int: Option<i64>,
    pub float: Option<f64>,
    /// Fits only in a uint64.
    pub uint_only: bool,
}

pub(super) struct Tree {
    pub root: Vec<Node>,
    pub defines: Vec<(String, Vec<Node>)>,
}

// ---------------------------------------------------------------- parser

struct Parser<'s> {
    src: &'s str,
    toks: Vec<Tok>,
    i: usize,
    /// Furthest token looked at: its line is the one errors report.
    seen: usize,
    vars: Vec<String>,
    pending: Vec<String>,
    range_depth: usize,
    depth: usize,
    action_line: u32,
    defines: Vec<(String, Vec<Node>)>,
}

type PResult<T> = Result<T, ParseError>;

pub(super) fn parse(src: &str) -> PResult<Tree> {
    if src.len() >= u32::MAX as usize {
        return Err(ParseError {
            offset: 0,
            line: 1,
            message: "template too large".into(),
        });
    }
    let mut p = Parser {
        src,
        toks: lex(src),
        i: 0,
        seen: 0,
        vars: vec!["$".to_string()],
        pending: Vec::new(),
        range_depth: 0,
        depth: 0,
        action_line: 0,
        defines: Vec::new(),
    };
    let root = p.parse_top()?;
    Ok(Tree {
        root,
        defines: p.defines,
    })
}

/// End of a list: `{{end}}` or `{{else}}` (pos of the else keyword's
/// follower and whether `if`/`with` follows).
enum ListEnd {
    End,
    Else,
}

impl<'s> Parser<'s> {
    fn tok(&self, i: usize) -> &Tok {
        &self.toks[i.min(self.toks.len() - 1)]
    }

    fn peek(&mut self) -> Tok {
        self.seen = self.seen.max(self.i.min(self.toks.len() - 1));
        self.tok(self.i).clone()
    }

    fn next(&mut self) -> Tok {
        let t = self.peek();
        self.i += 1;
        t
    }

    fn backup(&mut self) {
        self.i -= 1;
    }

    fn next_non_space(&mut self) -> Tok {
        loop {
            let t = self.next();
            if t.kind != Kind::Space {
                return t;
            }
        }
    }

    fn peek_non_space(&mut self) -> Tok {
        let t = self.next_non_space();
        self.backup();
        t
    }

    fn val(&self, t: &Tok) -> &'s str {
        &self.src[t.start as usize..t.end as usize]
    }

    fn errorf(&self, msg: String) -> ParseError {
        let t = self.tok(self.seen);
        ParseError {
            offset: t.start as usize,
            line: t.line as usize,
            message: msg,
        }
    }

    fn tok_string(&self, t: &Tok) -> String {
        match t.kind {
            Kind::Eof => "EOF".into(),
            Kind::Error => t.msg.as_deref().unwrap_or("").to_string(),
            Kind::Block
            | Kind::Break
            | Kind::Continue
            | Kind::Define
            | Kind::Else
            | Kind::End
            | Kind::If
            | Kind::Range
            | Kind::Template
            | Kind::With
            | Kind::Nil => format!("<{}>", self.val(t)),
            _ => {
                let v = self.val(t);
                if v.chars().count() > 10 {
                    let cut: String = v.chars().take(10).collect();
                    // Go's %.10q quotes the first ten runes.
                    format!("{}...", super::gofmt::quote(&cut))
                } else {
                    super::gofmt::quote(v)
                }
            }
        }
    }

    fn unexpected(&self, t: &Tok, context: &str) -> ParseError {
        if t.kind == Kind::Error {
            let mut extra = String::new();
            if self.action_line != 0 && self.action_line != t.line {
                extra = format!(" in action started at :{}", self.action_line);
                if t.msg.as_deref().is_some_and(|m| m.ends_with(" action")) {
                    extra = extra[" in action".len()..].to_string();
                }
            }
            return self.errorf(format!("{}{}", self.tok_string(t), extra));
        }
        self.errorf(format!("unexpected {} in {}", self.tok_string(t), context))
    }

    fn expect(&mut self, kind: Kind, context: &str) -> PResult<Tok> {
        let t = self.next_non_space();
        if t.kind != kind {
            return Err(self.unexpected(&t, context));
        }
        Ok(t)
    }

    fn enter(&mut self) -> PResult<()> {
        self.depth += 1;
        if self.depth > MAX_NESTING {
            return Err(self.errorf(format!("nesting too deep (more than {MAX_NESTING} levels)")));
        }
        Ok(())
    }

    fn leave(&mut self) {
        self.depth -= 1;
    }

    fn parse_top(&mut self) -> PResult<Vec<Node>> {
        let mut root = Vec::new();
        loop {
            let t = self.peek();
            if t.kind == Kind::Eof {
                return Ok(root);
            }
            if t.kind == Kind::LeftDelim {
                let save = self.i;
                self.next();
                if self.next_non_space().kind == Kind::Define {
                    self.parse_definition()?;
                    continue;
                }
                self.i = save;
            }
            match self.text_or_action()? {
                Item::Node(n) => root.push(n),
                Item::End => return Err(self.errorf("unexpected {{end}}".into())),
                Item::Else => return Err(self.errorf("unexpected {{else}}".into())),
                Item::None => {}
            }
        }
    }

    fn parse_definition(&mut self) -> PResult<()> {
        const CONTEXT: &str = "define clause";
        let t = self.next_non_space();
        if !matches!(t.kind, Kind::String | Kind::RawString) {
            return Err(self.unexpected(&t, CONTEXT));
        }
        let name = self.unquote_tok(&t)?;
        self.expect(Kind::RightDelim, CONTEXT)?;
        let saved = std::mem::replace(&mut self.vars, vec!["$".to_string()]);
        let (list, end) = self.item_list()?;
        self.vars = saved;
        if !matches!(end, ListEnd::End) {
            return Err(self.errorf(format!("unexpected {{{{else}}}} in {CONTEXT}")));
        }
        self.add_define(name, list)
    }

    fn is_empty_tree(&self, list: &[Node]) -> bool {
        list.iter().all(|n| match n {
            Node::Text(s, e) => self.src[*s as usize..*e as usize]
                .trim_matches([' ', '\t', '\r', '\n'])
                .is_empty(),
            _ => false,
        })
    }

    /// A body of only spaces neither replaces a definition nor clashes
    /// with one; two real bodies for one name are an error.
    fn add_define(&mut self, name: String, list: Vec<Node>) -> PResult<()> {
        let empty = self.is_empty_tree(&list);
        match self.defines.iter().position(|d| d.0 == name) {
            None => self.defines.push((name, list)),
            Some(i) => {
                if self.is_empty_tree(&self.defines[i].1) {
                    self.defines[i].1 = list;
                } else if !empty {
                    return Err(self.errorf(format!(
                        "template: multiple definition of template {}",
                        super::gofmt::quote(&name)
                    )));
                }
            }
        }
        Ok(())
    }

    /// Nodes until `{{end}}` or `{{else}}`.
    fn item_list(&mut self) -> PResult<(Vec<Node>, ListEnd)> {
        let mut list = Vec::new();
        loop {
            if self.peek_non_space().kind == Kind::Eof {
                return Err(self.errorf("unexpected EOF".into()));
            }
            match self.text_or_action()? {
                Item::Node(n) => list.push(n),
                Item::None => {}
                Item::End => return Ok((list, ListEnd::End)),
                Item::Else => return Ok((list, ListEnd::Else)),
            }
        }
    }

    fn text_or_action(&mut self) -> PResult<Item> {
        let t = self.next_non_space();
        match t.kind {
            Kind::Text => Ok(Item::Node(Node::Text(t.start, t.end))),
            Kind::LeftDelim => {
                self.action_line = t.line;
                let r = self.action();
                self.action_line = 0;
                r
            }
            _ => Err(self.unexpected(&t, "input")),
        }
    }

    fn action(&mut self) -> PResult<Item> {
        let t = self.next_non_space();
        match t.kind {
            Kind::Block => return self.block_control().map(Item::Node),
            Kind::Break | Kind::Continue => {
                let what = if t.kind == Kind::Break {
                    "break"
                } else {
                    "continue"
                };
                let n = self.next_non_space();
                if n.kind != Kind::RightDelim {
                    return Err(self.unexpected(&n, &format!("{{{{{what}}}}}")));
                }
                if self.range_depth == 0 {
                    return Err(self.errorf(format!("{{{{{what}}}}} outside {{{{range}}}}")));
                }
                return Ok(Item::Node(if t.kind == Kind::Break {
                    Node::Break(t.start)
                } else {
                    Node::Continue(t.start)
                }));
            }
            Kind::Else => {
                let p = self.peek_non_space();
                if !matches!(p.kind, Kind::If | Kind::With) {
                    self.expect(Kind::RightDelim, "else")?;
                }
                return Ok(Item::Else);
            }
            Kind::End => {
                self.expect(Kind::RightDelim, "end")?;
                return Ok(Item::End);
            }
            Kind::If => {
                return self
                    .control(Kind::If)
                    .map(|c| Item::Node(Node::If(Box::new(c))))
            }
            Kind::Range => {
                return self
                    .control(Kind::Range)
                    .map(|c| Item::Node(Node::Range(Box::new(c))))
            }
            Kind::With => {
                return self
                    .control(Kind::With)
                    .map(|c| Item::Node(Node::With(Box::new(c))))
            }
            Kind::Template => return self.template_control().map(Item::Node),
            _ => {}
        }
        self.backup();
        let pipe = self.pipeline("command", Kind::RightDelim)?;
        Ok(Item::Node(Node::Action(pipe)))
    }

    fn control(&mut self, kind: Kind) -> PResult<Control> {
        let context = match kind {
            Kind::If => "if",
            Kind::Range => "range",
            _ => "with",
        };
        self.enter()?;
        let mark = self.vars.len();
        let pipe = self.pipeline(context, Kind::RightDelim)?;
        let after_decl = self.vars.len();
        if kind == Kind::Range {
            self.range_depth += 1;
        }
        let (list, end) = self.item_list()?;
        if kind == Kind::Range {
            self.range_depth -= 1;
        }
        self.vars.truncate(after_decl);
        let mut else_list = None;
        if let ListEnd::Else = end {
            let p = self.peek();
            if (kind == Kind::If && p.kind == Kind::If)
                || (kind == Kind::With && p.kind == Kind::With)
            {
                self.next();
                let inner = self.control(kind)?;
                let pos = inner.pos;
                let _ = pos;
                else_list = Some(vec![if kind == Kind::If {
                    Node::If(Box::new(inner))
                } else {
                    Node::With(Box::new(inner))
                }]);
            } else {
                let (l, end) = self.item_list()?;
                if !matches!(end, ListEnd::End) {
                    return Err(self.errorf("expected end; found {{else}}".into()));
                }
                else_list = Some(l);
            }
        }
        self.vars.truncate(mark);
        self.leave();
        Ok(Control {
            pos: pipe.pos,
            pipe,
            list,
            else_list,
        })
    }

    fn block_control(&mut self) -> PResult<Node> {
        const CONTEXT: &str = "block clause";
        let t = self.next_non_space();
        let name = self.template_name(&t, CONTEXT)?;
        let pipe = self.pipeline(CONTEXT, Kind::RightDelim)?;
        self.enter()?;
        let saved = std::mem::replace(&mut self.vars, vec!["$".to_string()]);
        let saved_range = std::mem::replace(&mut self.range_depth, 0);
        let (list, end) = self.item_list()?;
        self.vars = saved;
        self.range_depth = saved_range;
        self.leave();
        if !matches!(end, ListEnd::End) {
            return Err(self.errorf(format!("unexpected {{{{else}}}} in {CONTEXT}")));
        }
        self.add_define(name.clone(), list)?;
        Ok(Node::Template {
            pos: t.start,
            name,
            pipe: Some(pipe),
        })
    }

    fn template_control(&mut self) -> PResult<Node> {
        const CONTEXT: &str = "template clause";
        let t = self.next_non_space();
        let name = self.template_name(&t, CONTEXT)?;
        let pipe = if self.next_non_space().kind == Kind::RightDelim {
            None
        } else {
            self.backup();
            Some(self.pipeline(CONTEXT, Kind::RightDelim)?)
        };
        Ok(Node::Template {
            pos: t.start,
            name,
            pipe,
        })
    }

    fn template_name(&mut self, t: &Tok, context: &str) -> PResult<String> {
        match t.kind {
            Kind::String | Kind::RawString => self.unquote_tok(t),
            _ => Err(self.unexpected(t, context)),
        }
    }

    fn unquote_tok(&self, t: &Tok) -> PResult<String> {
        unquote(self.val(t)).ok_or_else(|| self.errorf("invalid syntax".into()))
    }

    fn lookup_var(&self, name: &str) -> Option<u32> {
        self.vars.iter().rposition(|v| v == name).map(|i| i as u32)
    }

    fn pipeline(&mut self, context: &str, end: Kind) -> PResult<Pipe> {
        let start = self.peek_non_space();
        let mut pipe = Pipe {
            pos: start.start,
            decl: Vec::new(),
            is_assign: false,
            cmds: Vec::new(),
        };
        let mut decl_names: Vec<(String, u32)> = Vec::new();
        loop {
            let v = self.peek_non_space();
            if v.kind != Kind::Variable {
                break;
            }
            let save = self.i;
            self.next_non_space();
            let after = self.peek();
            let next = self.peek_non_space();
            match next.kind {
                Kind::Assign | Kind::Declare => {
                    pipe.is_assign = next.kind == Kind::Assign;
                    self.next_non_space();
                    decl_names.push((self.val(&v).to_string(), v.start));
                    break;
                }
                Kind::Char if self.val(&next) == "," => {
                    self.next_non_space();
                    decl_names.push((self.val(&v).to_string(), v.start));
                    if context == "range" && decl_names.len() < 2 {
                        match self.peek_non_space().kind {
                            Kind::Variable | Kind::RightDelim | Kind::RightParen => continue,
                            _ => {
                                return Err(
                                    self.errorf("range can only initialize variables".into())
                                )
                            }
                        }
                    }
                    return Err(self.errorf(format!("too many declarations in {context}")));
                }
                _ => {
                    let _ = after;
                    self.i = save;
                    break;
                }
            }
        }
        // The declared names are in scope for checking, but not bound yet:
        // their own right-hand side must not see them.
        let pending_mark = self.pending.len();
        for (n, _) in &decl_names {
            self.pending.push(n.clone());
        }
        loop {
            let t = self.next_non_space();
            if t.kind == end {
                break;
            }
            match t.kind {
                Kind::Bool
                | Kind::CharConstant
                | Kind::Complex
                | Kind::Dot
                | Kind::Field
                | Kind::Identifier
                | Kind::Number
                | Kind::Nil
                | Kind::RawString
                | Kind::String
                | Kind::Variable
                | Kind::LeftParen => {
                    self.backup();
                    let cmd = self.command()?;
                    pipe.cmds.push(cmd);
                }
                _ => {
                    self.pending.truncate(pending_mark);
                    return Err(self.unexpected(&t, context));
                }
            }
        }
        self.pending.truncate(pending_mark);
        // Bind the declarations.
        for (name, _pos) in decl_names {
            let slot = if pipe.is_assign {
                // Go finds an undefined target only when it assigns.
                self.lookup_var(&name).unwrap_or(UNBOUND)
            } else {
                self.vars.push(name.clone());
                (self.vars.len() - 1) as u32
            };
            pipe.decl.push(Decl { name, slot });
        }
        self.check_pipeline(&pipe, context)?;
        Ok(pipe)
    }

    fn check_pipeline(&self, pipe: &Pipe, context: &str) -> PResult<()> {
        if pipe.cmds.is_empty() {
            return Err(self.errorf(format!("missing value for {context}")));
        }
        for (i, c) in pipe.cmds.iter().enumerate().skip(1) {
            if matches!(
                c.args[0].kind,
                ArgKind::Bool(_)
                    | ArgKind::Dot
                    | ArgKind::Nil
                    | ArgKind::Number(_)
                    | ArgKind::String(..)
            ) {
                return Err(self.errorf(format!(
                    "non executable command in pipeline stage {}",
                    i + 1
                )));
            }
        }
        Ok(())
    }

    fn command(&mut self) -> PResult<Cmd> {
        let mut cmd = Cmd {
            pos: self.peek_non_space().start,
            args: Vec::new(),
        };
        loop {
            self.peek_non_space();
            if let Some(a) = self.operand()? {
                cmd.args.push(a);
            }
            let t = self.next();
            match t.kind {
                Kind::Space => continue,
                Kind::RightDelim | Kind::RightParen => self.backup(),
                Kind::Pipe => {}
                _ => return Err(self.unexpected(&t, "operand")),
            }
            break;
        }
        if cmd.args.is_empty() {
            return Err(self.errorf("empty command".into()));
        }
        Ok(cmd)
    }

    fn operand(&mut self) -> PResult<Option<Arg>> {
        let Some(node) = self.term()? else {
            return Ok(None);
        };
        if self.peek().kind != Kind::Field {
            return Ok(Some(node));
        }
        let mut fields = Vec::new();
        // Go positions a chain at its first added field.
        let pos = self.peek().start;
        while self.peek().kind == Kind::Field {
            let t = self.next();
            fields.push(self.val(&t)[1..].to_string());
        }
        let kind = match node.kind {
            ArgKind::Field(mut f) => {
                f.extend(fields);
                ArgKind::Field(f)
            }
            ArgKind::Var(name, slot, mut f) => {
                f.extend(fields);
                ArgKind::Var(name, slot, f)
            }
            ArgKind::Bool(_)
            | ArgKind::String(..)
            | ArgKind::Number(_)
            | ArgKind::Nil
            | ArgKind::Dot => {
                let s = arg_string(&node);
                return Err(self.errorf(format!(
                    "unexpected . after term {}",
                    super::gofmt::quote(&s)
                )));
            }
            other => ArgKind::Chain(
                Box::new(Arg {
                    pos: node.pos,
                    kind: other,
                }),
                fields,
            ),
        };
        Ok(Some(Arg { pos, kind }))
    }

    fn term(&mut self) -> PResult<Option<Arg>> {
        let t = self.next_non_space();
        let pos = t.start;
        let kind = match t.kind {
            Kind::Identifier => {
                let name = self.val(&t);
                match funcs::lookup(name) {
                    Some(id) => ArgKind::Func(id, name.into()),
                    None => {
                        return Err(self.errorf(format!(
                            "function {} not defined",
                            super::gofmt::quote(name)
                        )));
                    }
                }
            }
            Kind::Dot => ArgKind::Dot,
            Kind::Nil => ArgKind::Nil,
            Kind::Variable => {
                let full = self.val(&t);
                let mut parts = full.split('.');
                let name = parts.next().unwrap_or("$").to_string();
                let fields: Vec<String> = parts.map(str::to_string).collect();
                let slot = match self.lookup_var(&name) {
                    Some(s) => s,
                    None if self.pending.contains(&name) => UNBOUND,
                    None => {
                        return Err(self
                            .errorf(format!("undefined variable {}", super::gofmt::quote(&name))));
                    }
                };
                ArgKind::Var(name, slot, fields)
            }
            Kind::Field => ArgKind::Field(vec![self.val(&t)[1..].to_string()]),
            Kind::Bool => ArgKind::Bool(self.val(&t) == "true"),
            Kind::CharConstant | Kind::Number | Kind::Complex => {
                ArgKind::Number(Box::new(self.number(&t)?))
            }
            Kind::LeftParen => {
                self.enter()?;
                let p = self.pipeline("parenthesized pipeline", Kind::RightParen)?;
                self.leave();
                ArgKind::Pipe(Box::new(p))
            }
            Kind::String | Kind::RawString => {
                let v = self.val(&t);
                ArgKind::String(self.unquote_tok(&t)?, v.into())
            }
            _ => {
                self.backup();
                return Ok(None);
            }
        };
        Ok(Some(Arg { pos, kind }))
    }

    fn number(&self, t: &Tok) -> PResult<Number> {
        let text = self.val(t);
        let mk = |int, float, uint_only| Number {
            text: text.to_string(),
            int,
            float,
            uint_only,
        };
        match t.kind {
            Kind::CharConstant => {
                let inner = &text[1..];
                let Some((c, tail)) = unquote_char(inner, '\'') else {
                    return Err(self.errorf("invalid syntax".into()));
                };
                if tail != "'" {
                    return Err(self.errorf(format!("malformed character constant: {text}")));
                }
                let c = match c {
                    Unq::Char(c) => c as i64,
                    Unq::Byte(b) => i64::from(b),
                };
                return Ok(mk(Some(c), Some(c as f64), false));
            }
            Kind::Complex => {
                return Err(self.errorf(format!("complex numbers are not supported: {text}")));
            }
            _ => {}
        }
        if text.ends_with('i') {
            return Err(self.errorf(format!("complex numbers are not supported: {text}")));
        }
        let int = parse_go_int(text);
        let uint = parse_go_uint(text);
        if let Some(i) = int {
            return Ok(mk(Some(i), Some(i as f64), false));
        }
        if let Some(u) = uint {
            return Ok(mk(None, Some(u as f64), true));
        }
        match parse_go_float(text) {
            Some(f) => {
                if !text.contains(['.', 'e', 'E', 'p', 'P']) {
                    return Err(
                        self.errorf(format!("integer overflow: {}", super::gofmt::quote(text)))
                    );
                }
                let int = if f.fract() == 0.0 && f.abs() < 9.2e18 {
                    Some(f as i64)
                } else {
                    None
                };
                Ok(mk(int, Some(f), false))
            }
            None => Err(self.errorf(format!(
                "illegal number syntax: {}",
                super::gofmt::quote(text)
            ))),
        }
    }
}

enum Item {
    Node(Node),
    None,
    End,
    Else,
}

// ---------------------------------------------------------------- literals

/// Go's rule for `_` in number literals: only between digits (or after a
/// base prefix).
fn underscore_ok(s: &str) -> bool {
    let b = s.as_bytes();
    let mut i = 0;
    if !b.is_empty() && (b[0] == b'-' || b[0] == b'+') {
        i = 1;
    }
    let mut saw = b'^';
    let mut hex = false;
    if b.len() >= i + 2 && b[i] == b'0' && matches!(b[i + 1] | 0x20, b'b' | b'o' | b'x') {
        hex = b[i + 1] | 0x20 == b'x';
        i += 2;
        saw = b'0';
    }
    while i < b.len() {
        let c = b[i];
        if c.is_ascii_digit() || (hex && c.is_ascii_hexdigit()) {
            saw = b'0';
        } else if c == b'_' {
            if saw != b'0' {
                return false;
            }
            saw = b'_';
        } else {
            if saw == b'_' {
                return false;
            }
            saw = b'!';
        }
        i += 1;
    }
    saw != b'_'
}

fn strip_underscores(s: &str) -> Option<String> {
    if !s.contains('_') {
        return Some(s.to_string());
    }
    if !underscore_ok(s) {
        return None;
    }
    Some(s.replace('_', ""))
}

/// `strconv.ParseUint(s, 0, 64)`.
fn parse_go_uint(s: &str) -> Option<u64> {
    let s = strip_underscores(s)?;
    let (digits, radix) = if let Some(r) = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
        (r, 16)
    } else if let Some(r) = s.strip_prefix("0o").or_else(|| s.strip_prefix("0O")) {
        (r, 8)
    } else if let Some(r) = s.strip_prefix("0b").or_else(|| s.strip_prefix("0B")) {
        (r, 2)
    } else if s.len() > 1 && s.starts_with('0') {
        (&s[1..], 8)
    } else {
        (s.as_str(), 10)
    };
    if digits.is_empty() || digits.starts_with(['+', '-']) {
        return None;
    }
    u64::from_str_radix(digits, radix).ok()
}

/// `strconv.ParseInt(s, 0, 64)`.
fn parse_go_int(s: &str) -> Option<i64> {
    let (neg, body) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let u = parse_go_uint(body)?;
    if neg {
        if u <= i64::MAX as u64 + 1 {
            Some(i128::from(u).wrapping_neg() as i64)
        } else {
            None
        }
    } else {
        i64::try_from(u).ok()
    }
}

/// `strconv.ParseFloat(s, 64)` for Go literal syntax (decimal and hex).
fn parse_go_float(s: &str) -> Option<f64> {
    let s = strip_underscores(s)?;
    let (neg, body) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s.as_str()),
    };
    let v = if let Some(h) = body.strip_prefix("0x").or_else(|| body.strip_prefix("0X")) {
        let (mant, exp) = match h.find(['p', 'P']) {
            Some(p) => (&h[..p], h[p + 1..].parse::<i32>().ok()?),
            None => return None,
        };
        let (ip, fp) = mant.split_once('.').unwrap_or((mant, ""));
        if ip.is_empty() && fp.is_empty() {
            return None;
        }
        let mut v = 0f64;
        for c in ip.chars() {
            v = v * 16.0 + f64::from(c.to_digit(16)?);
        }
        let mut scale = 1.0 / 16.0;
        for c in fp.chars() {
            v += f64::from(c.to_digit(16)?) * scale;
            scale /= 16.0;
        }
        v * 2f64.powi(exp)
    } else {
        if body.is_empty()
            || !body
                .bytes()
                .all(|c| c.is_ascii_digit() || matches!(c, b'.' | b'e' | b'E' | b'+' | b'-'))
        {
            return None;
        }
        body.parse::<f64>().ok()?
    };
    Some(if neg { -v } else { v })
}

pub(super) enum Unq {
    Char(char),
    Byte(u8),
}

/// `strconv.UnquoteChar`: one character or escape, and the rest.
pub(super) fn unquote_char(s: &str, quote: char) -> Option<(Unq, &str)> {
    let mut it = s.chars();
    let c = it.next()?;
    if c == quote && (quote == '\'' || quote == '"') {
        return None;
    }
    if c != '\\' {
        return Some((Unq::Char(c), it.as_str()));
    }
    let e = it.next()?;
    let rest = it.as_str();
    let simple = match e {
        'a' => Some('\u{7}'),
        'b' => Some('\u{8}'),
        'f' => Some('\u{c}'),
        'n' => Some('\n'),
        'r' => Some('\r'),
        't' => Some('\t'),
        'v' => Some('\u{b}'),
        '\\' => Some('\\'),
        '\'' | '"' => {
            if e != quote {
                return None;
            }
            Some(e)
        }
        _ => None,
    };
    if let Some(c) = simple {
        return Some((Unq::Char(c), rest));
    }
    match e {
        'x' | 'u' | 'U' => {
            let n = match e {
                'x' => 2,
                'u' => 4,
                _ => 8,
            };
            if rest.len() < n || !rest.is_char_boundary(n) {
                return None;
            }
            let v = u32::from_str_radix(&rest[..n], 16).ok()?;
            if !rest[..n].bytes().all(|b| b.is_ascii_hexdigit()) {
                return None;
            }
            if e == 'x' {
                return Some((Unq::Byte(v as u8), &rest[n..]));
            }
            Some((Unq::Char(char::from_u32(v)?), &rest[n..]))
        }
        '0'..='7' => {
            let digits = &s[1..];
            if digits.len() < 3 || !digits.is_char_boundary(3) {
                return None;
            }
            let v = u32::from_str_radix(&digits[..3], 8).ok()?;
            if v > 255 || !digits[..3].bytes().all(|b| (b'0'..=b'7').contains(&b)) {
                return None;
            }
            Some((Unq::Byte(v as u8), &digits[3..]))
        }
        _ => None,
    }
}

/// `strconv.Unquote` of a "..." or `...` literal.
pub(super) fn unquote(lit: &str) -> Option<String> {
    if lit.len() < 2 {
        return None;
    }
    let q = lit.as_bytes()[0];
    if lit.as_bytes()[lit.len() - 1] != q {
        return None;
    }
    let body = &lit[1..lit.len() - 1];
    match q {
        b'`' => {
            if body.contains('`') {
                return None;
            }
            Some(body.replace('\r', ""))
        }
        b'"' => {
            if !body.contains(['\\', '"', '\n']) {
                return Some(body.to_string());
            }
            let mut out: Vec<u8> = Vec::with_capacity(body.len());
            let mut rest = body;
            while !rest.is_empty() {
                if rest.starts_with('\n') {
                    return None;
                }
                let (c, r) = unquote_char(rest, '"')?;
                match c {
                    Unq::Char(c) => out.extend_from_slice(c.encode_utf8(&mut [0; 4]).as_bytes()),
                    Unq::Byte(b) => out.push(b),
                }
                rest = r;
            }
            Some(match String::from_utf8(out) {
                Ok(s) => s,
                Err(e) => String::from_utf8_lossy(e.as_bytes()).into_owned(),
            })
        }
        _ => None,
    }
}

// ---------------------------------------------------------------- display
// Nodes print as Go prints them in error contexts (`at <...>`).

pub(super) fn arg_string(a: &Arg) -> String {
    let mut s = String::new();
    write_arg(&mut s, a);
    s
}

fn write_fields(out: &mut String, fields: &[String]) {
    for f in fields {
        out.push('.');
        out.push_str(f);
    }
}

fn write_arg(out: &mut String, a: &Arg) {
    match &a.kind {
        ArgKind::Dot => out.push('.'),
        ArgKind::Nil => out.push_str("nil"),
        ArgKind::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        ArgKind::Number(n) => out.push_str(&n.text),
        ArgKind::String(_, lit) => out.push_str(lit),
        ArgKind::Field(f) => write_fields(out, f),
        ArgKind::Var(name, _, f) => {
            out.push_str(name);
            write_fields(out, f);
        }
        ArgKind::Func(_, name) => out.push_str(name),
        ArgKind::Pipe(p) => {
            out.push('(');
            write_pipe(out, p);
            out.push(')');
        }
        ArgKind::Chain(inner, f) => {
            write_arg(out, inner);
            write_fields(out, f);
        }
    }
}

pub(super) fn cmd_string(c: &Cmd) -> String {
    let mut s = String::new();
    write_cmd(&mut s, c);
    s
}

fn write_cmd(out: &mut String, c: &Cmd) {
    for (i, a) in c.args.iter().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        write_arg(out, a);
    }
}

pub(super) fn pipe_string(p: &Pipe) -> String {
    let mut s = String::new();
    write_pipe(&mut s, p);
    s
}

fn write_pipe(out: &mut String, p: &Pipe) {
    if !p.decl.is_empty() {
        for (i, d) in p.decl.iter().enumerate() {
            if i > 0 {
                out.push_str(", ");
            }
            out.push_str(&d.name);
        }
        out.push_str(if p.is_assign { " = " } else { " := " });
    }
    for (i, c) in p.cmds.iter().enumerate() {
        if i > 0 {
            out.push_str(" | ");
        }
        write_cmd(out, c);
    }
}

pub(super) fn node_string(src: &str, n: &Node) -> String {
    let mut s = String::new();
    write_node(&mut s, src, n);
    s
}

fn write_list(out: &mut String, src: &str, l: &[Node]) {
    for n in l {
        write_node(out, src, n);
    }
}

fn write_node(out: &mut String, src: &str, n: &Node) {
    match n {
        Node::Text(s, e) => out.push_str(&src[*s as usize..*e as usize]),
        Node::Action(p) => {
            out.push_str("{{");
            write_pipe(out, p);
            out.push_str("}}");
        }
        Node::If(c) | Node::With(c) | Node::Range(c) => {
            let name = match n {
                Node::If(_) => "if",
                Node::With(_) => "with",
                _ => "range",
            };
            out.push_str("{{");
            out.push_str(name);
            out.push(' ');
            write_pipe(out, &c.pipe);
            out.push_str("}}");
            write_list(out, src, &c.list);
            if let Some(e) = &c.else_list {
                out.push_str("{{else}}");
                write_list(out, src, e);
            }
            out.push_str("{{end}}");
        }
        Node::Break(_) => out.push_str("{{break}}"),
        Node::Continue(_) => out.push_str("{{continue}}"),
        Node::Template { name, pipe, .. } => {
            out.push_str("{{template ");
            out.push_str(&super::gofmt::quote(name));
            if let Some(p) = pipe {
                out.push(' ');
                write_pipe(out, p);
            }
            out.push_str("}}");
        }
    }
}

impl fmt::Display for Arg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&arg_string(self))
    }
}
