//! Executes a parsed template the way Go's text/template does: the same
//! evaluation order, argument checks, truth rules and error messages.
//! Values from the data are borrowed, not copied, until a function needs
//! its own.

use super::funcs::{self, Ctx, Special, Ty, FUNCS};
use super::parse::{self, Arg, ArgKind, Cmd, Control, Node, Number, Pipe, UNBOUND};
use super::value::Value;
use super::{gofmt, ExecError, Host, Template};
use std::borrow::Cow;

pub(super) type V<'a> = Cow<'a, Value>;

/// Go's limit on nested `{{template}}` calls is 100000; ours is smaller so
/// that the native stack always suffices.
pub(super) const MAX_TEMPLATE_DEPTH: usize = 100;
/// Total nesting of control structures, parenthesised pipelines and
/// template calls while executing.
const MAX_EXEC_DEPTH: usize = 300;
/// Native stack that execution may use below its entry point; deeper
/// nesting is an error. Frames are much larger in unoptimised builds, so
/// this, not the counts above, is what bounds a debug build.
const MAX_STACK_BYTES: usize = 512 * 1024;

/// The address of a local: where the stack is now.
#[inline(never)]
fn stack_pos() -> usize {
    let here = 0u8;
    std::ptr::from_ref::<u8>(std::hint::black_box(&here)) as usize
}

enum Flow {
    Normal,
    Break,
    Continue,
}

#[derive(Clone, Copy)]
enum At<'a> {
    None,
    Node(&'a Node),
    Pipe(&'a Pipe),
    Cmd(&'a Cmd),
    Arg(&'a Arg),
}

struct State<'a> {
    t: &'a Template,
    ctx: Ctx<'a>,
    vars: Vec<V<'a>>,
    out: String,
    templates: usize,
    depth: usize,
    at: At<'a>,
    name: &'a str,
    stack_base: usize,
}

type R<T> = Result<T, ExecError>;

pub(super) fn execute<'a>(t: &'a Template, data: &'a Value, host: &'a dyn Host) -> R<String> {
    let mut s = State::new(t, data, host);
    let dot = Cow::Borrowed(data);
    s.walk_list(&dot, &t.tree.root)?;
    Ok(s.out)
}

pub(super) fn resolve<'a>(t: &'a Template, data: &'a Value, host: &'a dyn Host) -> R<Value> {
    let mut s = State::new(t, data, host);
    let dot = Cow::Borrowed(data);
    match t.tree.root.as_slice() {
        [] => Ok(Value::Nil),
        [n @ Node::Action(p)] => {
            s.at = At::Node(n);
            Ok(s.eval_pipeline(&dot, p)?.into_owned())
        }
        [n, ..] => {
            s.at = At::Node(n);
            Err(s.err("template can only contain one action node when resolving a value"))
        }
    }
}

fn node_pos(n: &Node) -> u32 {
    match n {
        Node::Text(s, _) => *s,
        Node::Action(p) => p.pos,
        Node::If(c) | Node::With(c) | Node::Range(c) => c.pos,
        Node::Break(p) | Node::Continue(p) => *p,
        Node::Template { pos, .. } => *pos,
    }
}

fn ty_name(t: Ty) -> &'static str {
    match t {
        Ty::Any => "interface {}",
        Ty::Str => "string",
        Ty::Int => "int",
        Ty::Float => "float64",
        Ty::Bool => "bool",
        Ty::Map => "map[string]interface {}",
        Ty::Time => "time.Time",
        Ty::List => "[]interface {}",
    }
}

fn is_hex_int(s: &str) -> bool {
    s.len() > 2
        && s.as_bytes()[0] == b'0'
        && matches!(s.as_bytes()[1], b'x' | b'X')
        && !s.contains(['p', 'P'])
}

impl<'a> State<'a> {
    fn new(t: &'a Template, data: &'a Value, host: &'a dyn Host) -> State<'a> {
        State {
            t,
            ctx: Ctx::new(host),
            vars: vec![Cow::Borrowed(data)],
            out: String::with_capacity(t.source.len()),
            templates: 0,
            depth: 0,
            at: At::None,
            name: "",
            stack_base: stack_pos(),
        }
    }

    fn err(&self, msg: impl Into<String>) -> ExecError {
        let src = &self.t.source;
        let (pos, context) = match self.at {
            At::None => (0, String::new()),
            At::Node(n) => (node_pos(n), parse::node_string(src, n)),
            At::Pipe(p) => (p.pos, parse::pipe_string(p)),
            At::Cmd(c) => (c.pos, parse::cmd_string(c)),
            At::Arg(a) => (a.pos, parse::arg_string(a)),
        };
        let pos = (pos as usize).min(src.len());
        let before = &src[..pos];
        let line = 1 + before.bytes().filter(|&b| b == b'\n').count();
        let column = match before.rfind('\n') {
            Some(nl) => pos - nl - 1,
            None => pos,
        };
        ExecError {
            offset: pos,
            line,
            column,
            name: self.name.to_string(),
            context,
            message: msg.into(),
        }
    }

    fn enter(&mut self) -> R<()> {
        self.depth += 1;
        if self.depth > MAX_EXEC_DEPTH || stack_pos().abs_diff(self.stack_base) > MAX_STACK_BYTES {
            return Err(self.err("exceeded maximum nesting depth"));
        }
        Ok(())
    }

    fn walk_list(&mut self, dot: &V<'a>, list: &'a [Node]) -> R<Flow> {
        for n in list {
            match self.walk(dot, n)? {
                Flow::Normal => {}
                f => return Ok(f),
            }
        }
        Ok(Flow::Normal)
    }

    fn walk(&mut self, dot: &V<'a>, node: &'a Node) -> R<Flow> {
        self.at = At::Node(node);
        match node {
            Node::Text(s, e) => {
                self.out.push_str(&self.t.source[*s as usize..*e as usize]);
                Ok(Flow::Normal)
            }
            Node::Action(p) => {
                let v = self.eval_pipeline(dot, p)?;
                if p.decl.is_empty() {
                    match &*v {
                        Value::Nil => self.out.push_str(super::NO_VALUE),
                        v => gofmt::write_v(&mut self.out, v),
                    }
                }
                Ok(Flow::Normal)
            }
            Node::If(c) | Node::With(c) => {
                self.enter()?;
                let mark = self.vars.len();
                let v = self.eval_pipeline(dot, &c.pipe)?;
                let flow = if v.truth() {
                    if matches!(node, Node::With(_)) {
                        self.walk_list(&v, &c.list)
                    } else {
                        self.walk_list(dot, &c.list)
                    }
                } else if let Some(e) = &c.else_list {
                    self.walk_list(dot, e)
                } else {
                    Ok(Flow::Normal)
                };
                self.vars.truncate(mark);
                self.depth -= 1;
                flow
            }
            Node::Range(c) => {
                self.enter()?;
                let r = self.walk_range(dot, c);
                self.depth -= 1;
                r.map(|()| Flow::Normal)
            }
            Node::Break(_) => Ok(Flow::Break),
            Node::Continue(_) => Ok(Flow::Continue),
            Node::Template { name, pipe, .. } => {
                let Some((tname, body)) = self.t.tree.defines.iter().find(|d| &d.0 == name) else {
                    return Err(self.err(format!("template {} not defined", gofmt::quote(name))));
                };
                if self.templates >= MAX_TEMPLATE_DEPTH {
                    return Err(self.err(format!(
                        "exceeded maximum template depth ({MAX_TEMPLATE_DEPTH})"
                    )));
                }
                self.enter()?;
                let new_dot = match pipe {
                    Some(p) => self.eval_pipeline(dot, p)?,
                    None => Cow::Owned(Value::Nil),
                };
                let saved_vars = std::mem::replace(&mut self.vars, vec![new_dot.clone()]);
                let saved_name = std::mem::replace(&mut self.name, tname.as_str());
                self.templates += 1;
                let r = self.walk_list(&new_dot, body);
                self.templates -= 1;
                self.name = saved_name;
                self.vars = saved_vars;
                self.depth -= 1;
                r.map(|_| Flow::Normal)
            }
        }
    }

    fn walk_range(&mut self, dot: &V<'a>, c: &'a Control) -> R<()> {
        let mark = self.vars.len();
        let val = self.eval_pipeline(dot, &c.pipe)?;
        let mark2 = self.vars.len();
        let decl = &c.pipe.decl;
        let mut ran = false;
        macro_rules! iteration {
            ($index:expr, $elem:expr) => {{
                ran = true;
                let index: V<'a> = $index;
                let elem: V<'a> = $elem;
                if !decl.is_empty() {
                    if c.pipe.is_assign {
                        if decl.len() > 1 {
                            self.set_slot(decl[0].slot, index.clone());
                        } else {
                            self.set_slot(decl[0].slot, elem.clone());
                        }
                    } else {
                        self.vars[mark2 - 1] = elem.clone();
                    }
                }
                if decl.len() > 1 {
                    if c.pipe.is_assign {
                        self.set_slot(decl[1].slot, elem.clone());
                    } else {
                        self.vars[mark2 - 2] = index;
                    }
                }
                let flow = self.walk_list(&elem, &c.list);
                self.vars.truncate(mark2);
                match flow? {
                    Flow::Break => break,
                    Flow::Continue | Flow::Normal => {}
                }
            }};
        }
        let nil = || Cow::Owned(Value::Nil);
        let int_n = match &*val {
            Value::Int(n) => Some(*n),
            _ => None,
        };
        match val {
            _ if int_n.is_some() => {
                let n = int_n.unwrap_or(0);
                if decl.len() > 1 {
                    return Err(self.err(format!(
                        "can't use {n} to iterate over more than one variable"
                    )));
                }
                let mut i = 0;
                while i < n {
                    iteration!(nil(), Cow::Owned(Value::Int(i)));
                    i += 1;
                }
            }
            Cow::Borrowed(Value::List(l)) => {
                for (i, e) in l.iter().enumerate() {
                    iteration!(Cow::Owned(Value::Int(i as i64)), Cow::Borrowed(e));
                }
            }
            Cow::Owned(Value::List(l)) => {
                for (i, e) in l.into_iter().enumerate() {
                    iteration!(Cow::Owned(Value::Int(i as i64)), Cow::Owned(e));
                }
            }
            Cow::Borrowed(Value::Map(m)) => {
                for (k, e) in Value::sorted_entries(m) {
                    iteration!(Cow::Owned(Value::String(k.clone())), Cow::Borrowed(e));
                }
            }
            Cow::Owned(Value::Map(m)) => {
                let mut entries: Vec<(String, Value)> = m.into_iter().collect();
                entries.sort_by(|a, b| a.0.cmp(&b.0));
                for (k, e) in entries {
                    iteration!(Cow::Owned(Value::String(k)), Cow::Owned(e));
                }
            }
            Cow::Borrowed(Value::Nil) | Cow::Owned(Value::Nil) => {}
            other => {
                let mut s = String::new();
                gofmt::write_v(&mut s, &other);
                return Err(self.err(format!("range can't iterate over {s}")));
            }
        }
        if !ran {
            if let Some(e) = &c.else_list {
                let flow = self.walk_list(dot, e);
                self.vars.truncate(mark);
                flow?;
                return Ok(());
            }
        }
        self.vars.truncate(mark);
        Ok(())
    }

    fn set_slot(&mut self, slot: u32, v: V<'a>) {
        if let Some(s) = self.vars.get_mut(slot as usize) {
            *s = v;
        }
    }

    fn var(&self, name: &str, slot: u32) -> R<V<'a>> {
        match self.vars.get(slot as usize) {
            Some(v) if slot != UNBOUND => Ok(v.clone()),
            _ => Err(self.err(format!("undefined variable: {name}"))),
        }
    }

    fn eval_pipeline(&mut self, dot: &V<'a>, pipe: &'a Pipe) -> R<V<'a>> {
        self.at = At::Pipe(pipe);
        let mut value: Option<V<'a>> = None;
        for cmd in &pipe.cmds {
            value = Some(self.eval_command(dot, cmd, value)?);
        }
        let value = value.unwrap_or(Cow::Owned(Value::Nil));
        for d in &pipe.decl {
            if pipe.is_assign {
                if d.slot == UNBOUND || d.slot as usize >= self.vars.len() {
                    return Err(self.err(format!("undefined variable: {}", d.name)));
                }
                self.set_slot(d.slot, value.clone());
            } else {
                self.vars.push(value.clone());
            }
        }
        Ok(value)
    }

    fn not_a_function(&self, args: &'a [Arg], final_: Option<&V<'a>>) -> R<()> {
        if args.len() > 1 || final_.is_some() {
            return Err(self.err(format!("can't give argument to non-function {}", args[0])));
        }
        Ok(())
    }

    fn eval_command(&mut self, dot: &V<'a>, cmd: &'a Cmd, final_: Option<V<'a>>) -> R<V<'a>> {
        let first = &cmd.args[0];
        match &first.kind {
            ArgKind::Field(fields) => {
                self.at = At::Arg(first);
                self.eval_field_chain(dot.clone(), fields, &cmd.args, final_, false)
            }
            ArgKind::Chain(inner, fields) => {
                self.at = At::Arg(first);
                let recv = self.eval_arg(dot, inner, Ty::Any)?;
                self.eval_field_chain(recv, fields, &cmd.args, final_, false)
            }
            ArgKind::Func(id, _) => {
                self.at = At::Arg(first);
                self.eval_call(dot, *id, At::Cmd(cmd), &cmd.args[1..], final_)
            }
            ArgKind::Pipe(p) => {
                self.not_a_function(&cmd.args, final_.as_ref())?;
                self.enter()?;
                let v = self.eval_pipeline(dot, p);
                self.depth -= 1;
                v
            }
            ArgKind::Var(name, slot, fields) => {
                self.at = At::Arg(first);
                let v = self.var(name, *slot)?;
                if fields.is_empty() {
                    self.not_a_function(&cmd.args, final_.as_ref())?;
                    return Ok(v);
                }
                self.eval_field_chain(v, fields, &cmd.args, final_, false)
            }
            _ => {
                self.at = At::Arg(first);
                self.not_a_function(&cmd.args, final_.as_ref())?;
                match &first.kind {
                    ArgKind::Bool(b) => Ok(Cow::Owned(Value::Bool(*b))),
                    ArgKind::Dot => Ok(dot.clone()),
                    ArgKind::Nil => Err(self.err("nil is not a command")),
                    ArgKind::Number(n) => Ok(Cow::Owned(self.ideal(n)?)),
                    ArgKind::String(s, _) => Ok(Cow::Owned(Value::String(s.clone()))),
                    _ => Err(self.err(format!(
                        "can't evaluate command {}",
                        gofmt::quote(&first.to_string())
                    ))),
                }
            }
        }
    }

    /// A number whose type nothing dictates: the syntax decides.
    fn ideal(&self, n: &Number) -> R<Value> {
        let t = &n.text;
        if n.float.is_some()
            && !is_hex_int(t)
            && !t.starts_with('\'')
            && t.contains(['.', 'e', 'E', 'p', 'P'])
        {
            return Ok(Value::Float(n.float.unwrap_or(0.0)));
        }
        if let Some(i) = n.int {
            return Ok(Value::Int(i));
        }
        Err(self.err(format!("{t} overflows int")))
    }

    /// `.A.B.C` on `recv`; `args` (the whole command) and `final_` go to
    /// the last element, which as a map key cannot take them.
    fn eval_field_chain(
        &mut self,
        mut recv: V<'a>,
        fields: &[String],
        args: &'a [Arg],
        final_: Option<V<'a>>,
        mut iface: bool,
    ) -> R<V<'a>> {
        let n = fields.len();
        // A key that is present but nil is a nil interface{}: Go refuses
        // to look into it, where a missing key just yields nothing.
        let mut present_nil = false;
        for (i, f) in fields.iter().enumerate() {
            if present_nil {
                return Err(self.err(format!("nil pointer evaluating interface {{}}.{f}")));
            }
            let has_args = i == n - 1 && (args.len() > 1 || final_.is_some());
            present_nil =
                matches!(&*recv, Value::Map(m) if matches!(m.get(f.as_str()), Some(Value::Nil)));
            recv = self.eval_field(recv, f, has_args, iface)?;
            // Values out of a map have Go's static type interface{}.
            iface = true;
        }
        Ok(recv)
    }

    fn eval_field(&self, recv: V<'a>, name: &str, has_args: bool, iface: bool) -> R<V<'a>> {
        if let Value::Map(_) = &*recv {
            if has_args {
                return Err(self.err(format!("{name} is not a method but has arguments")));
            }
        }
        match recv {
            Cow::Borrowed(Value::Map(m)) => {
                Ok(m.get(name).map_or(Cow::Owned(Value::Nil), Cow::Borrowed))
            }
            Cow::Owned(Value::Map(mut m)) => {
                Ok(Cow::Owned(m.swap_remove(name).unwrap_or(Value::Nil)))
            }
            Cow::Borrowed(Value::Nil) | Cow::Owned(Value::Nil) => Ok(Cow::Owned(Value::Nil)),
            v => Err(self.err(format!(
                "can't evaluate field {name} in type {}",
                if iface { "interface {}" } else { v.go_type() }
            ))),
        }
    }

    fn validate(&self, v: V<'a>, ty: Ty) -> R<V<'a>> {
        let ok = match (&*v, ty) {
            (_, Ty::Any) => true,
            (Value::Nil, Ty::Map | Ty::List) => true,
            (Value::Nil, _) => {
                return Err(self.err(format!("invalid value; expected {}", ty_name(ty))))
            }
            (Value::String(_), Ty::Str)
            | (Value::Int(_), Ty::Int)
            | (Value::Float(_), Ty::Float)
            | (Value::Bool(_), Ty::Bool)
            | (Value::Map(_), Ty::Map)
            | (Value::List(_), Ty::List)
            | (Value::Time(_), Ty::Time) => true,
            _ => false,
        };
        if !ok {
            return Err(self.err(format!(
                "wrong type for value; expected {}; got {}",
                ty_name(ty),
                v.go_type()
            )));
        }
        Ok(v)
    }

    fn eval_arg(&mut self, dot: &V<'a>, arg: &'a Arg, ty: Ty) -> R<V<'a>> {
        self.at = At::Arg(arg);
        let v = match &arg.kind {
            ArgKind::Dot => dot.clone(),
            ArgKind::Nil => {
                if matches!(ty, Ty::Any | Ty::Map | Ty::List) {
                    return Ok(Cow::Owned(Value::Nil));
                }
                return Err(self.err(format!("cannot assign nil to {}", ty_name(ty))));
            }
            ArgKind::Field(f) => {
                self.eval_field_chain(dot.clone(), f, std::slice::from_ref(arg), None, false)?
            }
            ArgKind::Var(name, slot, f) => {
                let v = self.var(name, *slot)?;
                if f.is_empty() {
                    v
                } else {
                    self.eval_field_chain(v, f, std::slice::from_ref(arg), None, false)?
                }
            }
            ArgKind::Pipe(p) => {
                self.enter()?;
                let v = self.eval_pipeline(dot, p);
                self.depth -= 1;
                v?
            }
            ArgKind::Func(id, _) => self.eval_call(dot, *id, At::Arg(arg), &[], None)?,
            ArgKind::Chain(inner, f) => {
                let recv = self.eval_arg(dot, inner, Ty::Any)?;
                self.eval_field_chain(recv, f, std::slice::from_ref(arg), None, false)?
            }
            lit => return self.eval_literal(lit, ty, arg).map(Cow::Owned),
        };
        // Like Go, a type error names the node evaluated last.
        self.validate(v, ty)
    }

    fn eval_literal(&self, lit: &ArgKind, ty: Ty, arg: &Arg) -> R<Value> {
        match (ty, lit) {
            (Ty::Bool, ArgKind::Bool(b)) => Ok(Value::Bool(*b)),
            (Ty::Bool, _) => Err(self.err(format!("expected bool; found {arg}"))),
            (Ty::Float, ArgKind::Number(n)) if n.float.is_some() => {
                Ok(Value::Float(n.float.unwrap_or(0.0)))
            }
            (Ty::Float, _) => Err(self.err(format!("expected float; found {arg}"))),
            (Ty::Int, ArgKind::Number(n)) if n.int.is_some() => Ok(Value::Int(n.int.unwrap_or(0))),
            (Ty::Int, _) => Err(self.err(format!("expected integer; found {arg}"))),
            (Ty::Str, ArgKind::String(s, _)) => Ok(Value::String(s.clone())),
            (Ty::Str, _) => Err(self.err(format!("expected string; found {arg}"))),
            (Ty::Any, ArgKind::Bool(b)) => Ok(Value::Bool(*b)),
            (Ty::Any, ArgKind::Number(n)) => self.ideal(n),
            (Ty::Any, ArgKind::String(s, _)) => Ok(Value::String(s.clone())),
            _ => Err(self.err(format!(
                "can't handle {arg} for arg of type {}",
                ty_name(ty)
            ))),
        }
    }

    fn eval_call(
        &mut self,
        dot: &V<'a>,
        id: funcs::FuncId,
        site: At<'a>,
        args: &'a [Arg],
        final_: Option<V<'a>>,
    ) -> R<V<'a>> {
        let f = &FUNCS[id as usize];
        let num_in = args.len() + usize::from(final_.is_some());
        let num_fixed = f.params.len();
        if f.variadic.is_some() {
            if num_in < num_fixed {
                return Err(self.err(format!(
                    "wrong number of args for {}: want at least {} got {}",
                    f.name,
                    num_fixed,
                    args.len()
                )));
            }
        } else if num_in != num_fixed {
            return Err(self.err(format!(
                "wrong number of args for {}: want {} got {}",
                f.name, num_fixed, num_in
            )));
        }
        if matches!(f.special, Special::And | Special::Or) {
            let is_or = matches!(f.special, Special::Or);
            let mut v = Cow::Owned(Value::Nil);
            for a in args {
                v = self.eval_arg(dot, a, Ty::Any)?;
                if v.truth() == is_or {
                    return Ok(v);
                }
            }
            if let Some(fv) = final_ {
                v = fv;
            }
            return Ok(v);
        }
        let mut argv: Vec<V<'a>> = Vec::with_capacity(num_in);
        for (i, a) in args.iter().enumerate() {
            let ty = if i < num_fixed {
                f.params[i]
            } else {
                f.variadic.unwrap_or(Ty::Any)
            };
            argv.push(self.eval_arg(dot, a, ty)?);
        }
        if let Some(fv) = final_ {
            let ty = if f.variadic.is_some() {
                if num_in - 1 < num_fixed {
                    f.params[num_in - 1]
                } else {
                    f.variadic.unwrap_or(Ty::Any)
                }
            } else {
                f.params[num_fixed - 1]
            };
            argv.push(self.validate(fv, ty)?);
        }
        if let Special::Call = f.special {
            self.at = site;
            let what = match args.first() {
                Some(a) => a.to_string(),
                None => "<value>".to_string(),
            };
            let msg = match argv.first().map(|v| &**v) {
                None | Some(Value::Nil) => "call of nil".to_string(),
                Some(v) => format!("non-function {what} of type {}", v.go_type()),
            };
            return Err(self.err(format!("error calling call: {msg}")));
        }
        let result = (f.imp)(&mut self.ctx, argv);
        match result {
            Ok(v) => {
                if let Special::Mutates = f.special {
                    // Go maps are references: `set $m "k" v` changes $m.
                    if let Some(Arg {
                        kind: ArgKind::Var(_, slot, fields),
                        ..
                    }) = args.first()
                    {
                        if fields.is_empty() && *slot != UNBOUND {
                            self.set_slot(*slot, Cow::Owned(v.clone().into_owned()));
                        }
                    }
                }
                Ok(v)
            }
            Err(e) => {
                self.at = site;
                Err(self.err(format!("error calling {}: {e}", f.name)))
            }
        }
    }
}
