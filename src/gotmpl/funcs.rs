//! The functions a go-task template can call: Go's builtins, slim-sprig's
//! set, and go-task's own. Each entry declares Go's parameter types, which
//! the evaluator checks (and converts literals to) exactly as text/template
//! does before the call. Later entries in Go's function maps override
//! earlier ones; here that means sprig's `slice` replaces the builtin.

use super::exec::V;
use super::gofmt::{self, sprint};
use super::value::{ints_to_floats, Time, Value};
use super::{encode, gotime, hash, paths, shell, Host};
use indexmap::IndexMap;
use std::borrow::Cow;

pub(super) type FuncId = u16;

/// Go parameter types, as far as they matter for checking arguments.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Ty {
    /// `interface{}` or `reflect.Value`: anything, nil included.
    Any,
    Str,
    Int,
    Float,
    Bool,
    Map,
    List,
    Time,
}

/// Functions the evaluator treats specially.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Special {
    None,
    /// Short-circuit: arguments are evaluated one at a time.
    And,
    Or,
    /// No template value is a Go function, so `call` always fails.
    Call,
    /// Changes its first argument in place (Go maps are references).
    Mutates,
}

type Args<'a> = Vec<V<'a>>;
type Res<'a> = Result<V<'a>, String>;
pub(super) type Imp = for<'a> fn(&mut Ctx<'_>, Args<'a>) -> Res<'a>;

pub(super) struct Func {
    pub name: &'static str,
    pub params: &'static [Ty],
    pub variadic: Option<Ty>,
    pub imp: Imp,
    pub special: Special,
}

/// What functions can reach while a template runs.
pub(super) struct Ctx<'h> {
    pub host: &'h dyn Host,
    /// Compiled on first use, kept for the rest of the execution.
    regexes: Vec<(String, regex::Regex)>,
}

impl<'h> Ctx<'h> {
    pub(super) fn new(host: &'h dyn Host) -> Ctx<'h> {
        Ctx {
            host,
            regexes: Vec::new(),
        }
    }

    fn regex(&mut self, re: &str) -> Result<&regex::Regex, String> {
        if let Some(i) = self.regexes.iter().position(|(s, _)| s == re) {
            return Ok(&self.regexes[i].1);
        }
        let compiled = regex::RegexBuilder::new(re)
            .size_limit(1 << 20)
            .build()
            .map_err(|e| format!("error parsing regexp: {}", regex_error(&e)))?;
        if self.regexes.len() >= 64 {
            self.regexes.remove(0);
        }
        self.regexes.push((re.to_string(), compiled));
        Ok(&self.regexes.last().expect("just pushed").1)
    }
}

fn regex_error(e: &regex::Error) -> String {
    match e {
        regex::Error::Syntax(s) => s
            .lines()
            .rev()
            .find(|l| l.starts_with("error:"))
            .map_or_else(|| s.clone(), |l| l["error:".len()..].trim().to_string()),
        other => other.to_string(),
    }
}

// ---------------------------------------------------------------- helpers

fn ok<'a>(v: Value) -> Res<'a> {
    Ok(Cow::Owned(v))
}

fn ok_s<'a>(s: impl Into<String>) -> Res<'a> {
    Ok(Cow::Owned(Value::String(s.into())))
}

fn ok_b<'a>(b: bool) -> Res<'a> {
    Ok(Cow::Owned(Value::Bool(b)))
}

fn ok_i<'a>(i: i64) -> Res<'a> {
    Ok(Cow::Owned(Value::Int(i)))
}

fn ok_f<'a>(f: f64) -> Res<'a> {
    Ok(Cow::Owned(Value::Float(f)))
}

fn str_list<'a>(v: impl IntoIterator<Item = String>) -> Res<'a> {
    ok(Value::List(v.into_iter().map(Value::String).collect()))
}

/// A `string` argument (checked by the evaluator).
fn s<'b>(a: &'b [V<'_>], i: usize) -> &'b str {
    a.get(i).and_then(|v| v.as_str()).unwrap_or("")
}

/// An `int` argument (checked by the evaluator).
fn n(a: &[V<'_>], i: usize) -> i64 {
    match a.get(i).map(|v| &**v) {
        Some(Value::Int(i)) => *i,
        _ => 0,
    }
}

fn nil_deref() -> String {
    "runtime error: invalid memory address or nil pointer dereference".into()
}

/// sprig's `strval`: strings as they are, anything else as `%v`.
fn strval(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

/// sprig's `strslice`.
fn strslice(v: &Value) -> Vec<String> {
    match v {
        Value::List(l) => l
            .iter()
            .filter(|e| !matches!(e, Value::Nil))
            .map(strval)
            .collect(),
        Value::Nil => Vec::new(),
        other => vec![strval(other)],
    }
}

/// `strconv.ParseInt(s, 10, 64)`.
fn parse_int10(s: &str) -> Option<i64> {
    let b = s.as_bytes();
    let digits = match b.first() {
        Some(b'+' | b'-') => &s[1..],
        _ => s,
    };
    if digits.is_empty() || !digits.bytes().all(|c| c.is_ascii_digit()) {
        return None;
    }
    s.parse().ok()
}

/// sprig's `toInt64`.
fn to_int64(v: &Value) -> i64 {
    match v {
        Value::String(s) => parse_int10(s).unwrap_or(0),
        Value::Int(i) => *i,
        Value::Float(f) => float_to_int(*f),
        Value::Bool(b) => i64::from(*b),
        _ => 0,
    }
}

/// Go's `int64(f)` on amd64: out of range and NaN give `MinInt64`.
fn float_to_int(f: f64) -> i64 {
    if f.is_nan() || !(i64::MIN as f64..i64::MAX as f64).contains(&f) {
        return i64::MIN;
    }
    f as i64
}

/// sprig's `toFloat64`.
fn to_float64(v: &Value) -> f64 {
    match v {
        Value::String(s) => parse_go_float_str(s).unwrap_or(0.0),
        Value::Int(i) => *i as f64,
        Value::Float(f) => *f,
        Value::Bool(b) => f64::from(u8::from(*b)),
        _ => 0.0,
    }
}

/// `strconv.ParseFloat(s, 64)` on user text.
fn parse_go_float_str(s: &str) -> Option<f64> {
    if s.is_empty() || s.contains(char::is_whitespace) {
        return None;
    }
    let t = s.replace('_', "");
    let v = t.parse::<f64>().ok()?;
    // Out of range is an error in Go (and sprig then answers 0).
    let word = t.trim_start_matches(['+', '-']).to_ascii_lowercase();
    if v.is_infinite() && word != "inf" && word != "infinity" {
        return None;
    }
    Some(v)
}

/// A list argument of sprig's list functions; errors like sprig's.
fn list_arg<'b>(v: &'b Value, what: &str) -> Result<&'b [Value], String> {
    match v {
        Value::List(l) => Ok(l),
        Value::Nil => Err(nil_deref()),
        other => Err(format!("Cannot {what} type {}", other.go_kind())),
    }
}

fn take_list(v: V<'_>) -> Vec<Value> {
    match v.into_owned() {
        Value::List(l) => l,
        _ => Vec::new(),
    }
}

fn map_arg<'b>(a: &'b [V<'_>], i: usize) -> Option<&'b IndexMap<String, Value>> {
    match a.get(i).map(|v| &**v) {
        Some(Value::Map(m)) => Some(m),
        _ => None,
    }
}

/// Go's `strings.ToUpper`/`ToLower` use one-to-one case mappings.
fn map_chars(s: &str, upper: bool) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        let mut it: Box<dyn Iterator<Item = char>> = if upper {
            Box::new(c.to_uppercase())
        } else {
            Box::new(c.to_lowercase())
        };
        let first = it.next().unwrap_or(c);
        if it.next().is_some() {
            out.push(c);
        } else {
            out.push(first);
        }
    }
    out
}

/// Bytes back to text; Go strings may hold any bytes, ours hold UTF-8.
fn bytes_to_string(b: Vec<u8>) -> String {
    String::from_utf8(b).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned())
}

const MAX_REPEAT: usize = 64 << 20;

// ---------------------------------------------------------------- Go builtins

fn f_not<'a>(_: &mut Ctx, a: Args<'a>) -> Res<'a> {
    ok_b(!a[0].truth())
}

fn f_unreachable<'a>(_: &mut Ctx, _: Args<'a>) -> Res<'a> {
    Err("internal error: special function called directly".into())
}

fn f_len<'a>(_: &mut Ctx, a: Args<'a>) -> Res<'a> {
    match &*a[0] {
        Value::String(s) => ok_i(s.len() as i64),
        Value::List(l) => ok_i(l.len() as i64),
        Value::Map(m) => ok_i(m.len() as i64),
        Value::Nil => Err("reflect: call of reflect.Value.Type on zero Value".into()),
        other => Err(format!("len of type {}", other.go_type())),
    }
}

fn index_arg(i: &Value, cap: usize) -> Result<usize, String> {
    let x = match i {
        Value::Int(x) => *x,
        Value::Nil => return Err("cannot index slice/array with nil".into()),
        other => {
            return Err(format!(
                "cannot index slice/array with type {}",
                other.go_type()
            ))
        }
    };
    if x < 0 || x as u64 > cap as u64 {
        return Err(format!("index out of range: {x}"));
    }
    Ok(x as usize)
}

fn f_index<'a>(_: &mut Ctx, a: Args<'a>) -> Res<'a> {
    let mut it = a.into_iter();
    let mut item = it.next().unwrap_or(Cow::Owned(Value::Nil));
    if matches!(*item, Value::Nil) {
        return Err("index of untyped nil".into());
    }
    for idx in it {
        item = match item {
            Cow::Borrowed(v) => Cow::Borrowed(index_one(v, &idx)?),
            Cow::Owned(v) => Cow::Owned(index_one(&v, &idx)?.clone()),
        };
    }
    Ok(item)
}

static NIL: Value = Value::Nil;

fn index_one<'v>(v: &'v Value, idx: &Value) -> Result<&'v Value, String> {
    match v {
        Value::List(l) => {
            let x = index_arg(idx, l.len())?;
            l.get(x)
                .ok_or_else(|| "reflect: slice index out of range".to_string())
        }
        Value::String(_) => Err("index of a string is a byte; not supported here".into()),
        Value::Map(m) => match idx {
            Value::String(k) => Ok(m.get(k).unwrap_or(&NIL)),
            Value::Nil => Err("value is nil; should be of type string".into()),
            other => Err(format!(
                "value has type {}; should be string",
                other.go_type()
            )),
        },
        Value::Nil => Err("index of nil pointer".into()),
        other => Err(format!("can't index item of type {}", other.go_type())),
    }
}

fn f_index_string<'a>(c: &mut Ctx, a: Args<'a>) -> Res<'a> {
    // Strings index to bytes (uint8), which print as numbers.
    if let (Some(Value::String(s)), true) = (a.first().map(|v| &**v), a.len() == 2) {
        let x = index_arg(&a[1], s.len())?;
        return match s.as_bytes().get(x) {
            Some(b) => ok_i(i64::from(*b)),
            None => Err("reflect: string index out of range".into()),
        };
    }
    f_index(c, a)
}

fn f_print<'a>(_: &mut Ctx, a: Args<'a>) -> Res<'a> {
    let v: Vec<Value> = a.into_iter().map(Cow::into_owned).collect();
    ok_s(sprint(&v))
}

fn f_println<'a>(_: &mut Ctx, a: Args<'a>) -> Res<'a> {
    let v: Vec<Value> = a.into_iter().map(Cow::into_owned).collect();
    ok_s(gofmt::sprintln(&v))
}

fn f_printf<'a>(_: &mut Ctx, a: Args<'a>) -> Res<'a> {
    let mut it = a.into_iter();
    let format = it.next().map_or(Value::Nil, Cow::into_owned);
    let rest: Vec<Value> = it.map(Cow::into_owned).collect();
    ok_s(gofmt::sprintf(format.as_str().unwrap_or(""), &rest))
}

/// text/template's `evalArgs`: one string as is, else `Sprint` (with a
/// nil printed as `<no value>`).
fn eval_args(a: Args<'_>) -> String {
    if a.len() == 1 {
        if let Value::String(s) = &*a[0] {
            return s.clone();
        }
    }
    let v: Vec<Value> = a
        .into_iter()
        .map(|v| match v.into_owned() {
            Value::Nil => Value::String(super::NO_VALUE.into()),
            other => other,
        })
        .collect();
    sprint(&v)
}

fn f_html<'a>(_: &mut Ctx, a: Args<'a>) -> Res<'a> {
    let s = eval_args(a);
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\0' => out.push('\u{FFFD}'),
            '"' => out.push_str("&#34;"),
            '\'' => out.push_str("&#39;"),
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            c => out.push(c),
        }
    }
    ok_s(out)
}

fn f_js<'a>(_: &mut Ctx, a: Args<'a>) -> Res<'a> {
    let s = eval_args(a);
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '\'' => out.push_str("\\'"),
            '"' => out.push_str("\\\""),
            '<' => out.push_str("\\u003C"),
            '>' => out.push_str("\\u003E"),
            '&' => out.push_str("\\u0026"),
            '=' => out.push_str("\\u003D"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u00{:02X}", c as u32)),
            c if !c.is_ascii() && !gofmt::is_print(c) => {
                out.push_str(&format!("\\u{:04X}", c as u32));
            }
            c => out.push(c),
        }
    }
    ok_s(out)
}

fn f_urlquery<'a>(_: &mut Ctx, a: Args<'a>) -> Res<'a> {
    ok_s(paths::query_escape(&eval_args(a)))
}

// Comparisons (Go's eq, lt and friends).

#[derive(PartialEq)]
enum BasicKind {
    Bool,
    Int,
    Float,
    Str,
    Invalid,
}

fn basic_kind(v: &Value) -> BasicKind {
    match v {
        Value::Bool(_) => BasicKind::Bool,
        Value::Int(_) => BasicKind::Int,
        Value::Float(_) => BasicKind::Float,
        Value::String(_) => BasicKind::Str,
        _ => BasicKind::Invalid,
    }
}

const BAD_COMPARISON_TYPE: &str = "invalid type for comparison";
const BAD_COMPARISON: &str = "incompatible types for comparison";

fn eq2(a: &Value, b: &Value) -> Result<bool, String> {
    let (k1, k2) = (basic_kind(a), basic_kind(b));
    if k1 != k2 {
        if !matches!(a, Value::Nil) && !matches!(b, Value::Nil) {
            return Err(BAD_COMPARISON.into());
        }
        return Ok(false);
    }
    Ok(match (a, b) {
        (Value::Bool(x), Value::Bool(y)) => x == y,
        (Value::Int(x), Value::Int(y)) => x == y,
        // Go compares floats exactly too.
        #[allow(clippy::float_cmp)]
        (Value::Float(x), Value::Float(y)) => x == y,
        (Value::String(x), Value::String(y)) => x == y,
        (Value::Nil, other) | (other, Value::Nil) => matches!(other, Value::Nil),
        (Value::Time(x), Value::Time(y)) => x == y,
        (x @ (Value::List(_) | Value::Map(_)), y)
            if std::mem::discriminant(x) == std::mem::discriminant(y) =>
        {
            return Err(format!("non-comparable type {}: {}", y, y.go_type()));
        }
        (x, y) => {
            return Err(format!(
                "non-comparable types {}: {}, {}: {}",
                x,
                x.go_type(),
                y.go_type(),
                y
            ));
        }
    })
}

fn f_eq<'a>(_: &mut Ctx, a: Args<'a>) -> Res<'a> {
    if a.len() < 2 {
        return Err("missing argument for comparison".into());
    }
    for b in &a[1..] {
        if eq2(&a[0], b)? {
            return ok_b(true);
        }
    }
    ok_b(false)
}

fn f_ne<'a>(_: &mut Ctx, a: Args<'a>) -> Res<'a> {
    ok_b(!eq2(&a[0], &a[1])?)
}

fn lt2(a: &Value, b: &Value) -> Result<bool, String> {
    let (k1, k2) = (basic_kind(a), basic_kind(b));
    if k1 == BasicKind::Invalid || k2 == BasicKind::Invalid {
        return Err(BAD_COMPARISON_TYPE.into());
    }
    if k1 != k2 {
        return Err(BAD_COMPARISON.into());
    }
    match (a, b) {
        (Value::Int(x), Value::Int(y)) => Ok(x < y),
        (Value::Float(x), Value::Float(y)) => Ok(x < y),
        (Value::String(x), Value::String(y)) => Ok(x < y),
        _ => Err(BAD_COMPARISON_TYPE.into()),
    }
}

fn f_lt<'a>(_: &mut Ctx, a: Args<'a>) -> Res<'a> {
    ok_b(lt2(&a[0], &a[1])?)
}

fn f_le<'a>(_: &mut Ctx, a: Args<'a>) -> Res<'a> {
    ok_b(lt2(&a[0], &a[1])? || eq2(&a[0], &a[1])?)
}

fn f_gt<'a>(_: &mut Ctx, a: Args<'a>) -> Res<'a> {
    ok_b(!(lt2(&a[0], &a[1])? || eq2(&a[0], &a[1])?))
}

fn f_ge<'a>(_: &mut Ctx, a: Args<'a>) -> Res<'a> {
    ok_b(!lt2(&a[0], &a[1])?)
}

// ---------------------------------------------------------------- sprig: strings

fn f_upper<'a>(_: &mut Ctx, a: Args<'a>) -> Res<'a> {
    ok_s(map_chars(s(&a, 0), true))
}

fn f_lower<'a>(_: &mut Ctx, a: Args<'a>) -> Res<'a> {
    ok_s(map_chars(s(&a, 0), false))
}

fn f_title<'a>(_: &mut Ctx, a: Args<'a>) -> Res<'a> {
    // strings.Title: upper-case letters that follow a separator.
    let is_sep = |c: char| {
        if c.is_ascii() {
            !(c.is_ascii_alphanumeric() || c == '_')
        } else if c.is_alphanumeric() {
            false
        } else {
            c.is_whitespace()
        }
    };
    let mut prev = ' ';
    let mut out = String::new();
    for c in s(&a, 0).chars() {
        if is_sep(prev) {
            out.push_str(&map_chars(&c.to_string(), true));
        } else {
            out.push(c);
        }
        prev = c;
    }
    ok_s(out)
}

fn f_trim<'a>(_: &mut Ctx, a: Args<'a>) -> Res<'a> {
    ok_s(s(&a, 0).trim())
}

fn f_trim_all<'a>(_: &mut Ctx, a: Args<'a>) -> Res<'a> {
    let cut: Vec<char> = s(&a, 0).chars().collect();
    ok_s(s(&a, 1).trim_matches(|c| cut.contains(&c)))
}

fn f_trim_prefix<'a>(_: &mut Ctx, a: Args<'a>) -> Res<'a> {
    let (p, v) = (s(&a, 0), s(&a, 1));
    ok_s(v.strip_prefix(p).unwrap_or(v))
}

fn f_trim_suffix<'a>(_: &mut Ctx, a: Args<'a>) -> Res<'a> {
    let (p, v) = (s(&a, 0), s(&a, 1));
    ok_s(v.strip_suffix(p).unwrap_or(v))
}

fn f_contains<'a>(_: &mut Ctx, a: Args<'a>) -> Res<'a> {
    ok_b(s(&a, 1).contains(s(&a, 0)))
}

fn f_has_prefix<'a>(_: &mut Ctx, a: Args<'a>) -> Res<'a> {
    ok_b(s(&a, 1).starts_with(s(&a, 0)))
}

fn f_has_suffix<'a>(_: &mut Ctx, a: Args<'a>) -> Res<'a> {
    ok_b(s(&a, 1).ends_with(s(&a, 0)))
}

fn f_quote<'a>(_: &mut Ctx, a: Args<'a>) -> Res<'a> {
    let parts: Vec<String> = a
        .iter()
        .filter(|v| !matches!(***v, Value::Nil))
        .map(|v| gofmt::quote(&strval(v)))
        .collect();
    ok_s(parts.join(" "))
}

fn f_squote<'a>(_: &mut Ctx, a: Args<'a>) -> Res<'a> {
    let parts: Vec<String> = a
        .iter()
        .filter(|v| !matches!(***v, Value::Nil))
        .map(|v| format!("'{}'", **v))
        .collect();
    ok_s(parts.join(" "))
}

fn f_cat<'a>(_: &mut Ctx, a: Args<'a>) -> Res<'a> {
    let parts: Vec<String> = a
        .iter()
        .filter(|v| !matches!(***v, Value::Nil))
        .map(std::string::ToString::to_string)
        .collect();
    ok_s(parts.join(" "))
}

fn f_indent<'a>(_: &mut Ctx, a: Args<'a>) -> Res<'a> {
    let pad = " ".repeat(n(&a, 0).clamp(0, 4096) as usize);
    ok_s(format!(
        "{pad}{}",
        s(&a, 1).replace('\n', &format!("\n{pad}"))
    ))
}

fn f_nindent<'a>(c: &mut Ctx, a: Args<'a>) -> Res<'a> {
    let v = f_indent(c, a)?;
    ok_s(format!("\n{}", v.as_str().unwrap_or("")))
}

fn f_replace<'a>(_: &mut Ctx, a: Args<'a>) -> Res<'a> {
    let (old, new, src) = (s(&a, 0), s(&a, 1), s(&a, 2));
    if old.is_empty() && src.len().saturating_mul(new.len()) > MAX_REPEAT {
        return Err("replace: result too large".into());
    }
    ok_s(src.replace(old, new))
}

fn f_plural<'a>(_: &mut Ctx, a: Args<'a>) -> Res<'a> {
    ok_s(if n(&a, 2) == 1 { s(&a, 0) } else { s(&a, 1) })
}

fn f_repeat<'a>(_: &mut Ctx, a: Args<'a>) -> Res<'a> {
    let count = n(&a, 0);
    let v = s(&a, 1);
    if count < 0 {
        return Err("strings: negative Repeat count".into());
    }
    if (count as u128) * (v.len() as u128) > MAX_REPEAT as u128 {
        return Err("strings: Repeat output too large".into());
    }
    ok_s(v.repeat(count as usize))
}

fn slice_err(a: i64, b: i64, len: usize) -> String {
    if b > len as i64 {
        format!("runtime error: slice bounds out of range [:{b}] with length {len}")
    } else {
        format!("runtime error: slice bounds out of range [{a}:{b}]")
    }
}

fn f_substr<'a>(_: &mut Ctx, a: Args<'a>) -> Res<'a> {
    let (start, end, v) = (n(&a, 0), n(&a, 1), s(&a, 2).as_bytes());
    let len = v.len() as i64;
    let (x, y) = if start < 0 {
        (0, end)
    } else if end < 0 || end > len {
        (start, len)
    } else {
        (start, end)
    };
    if y > len || y < 0 {
        return Err(slice_err(x, y, v.len()));
    }
    if x > y {
        return Err(format!(
            "runtime error: slice bounds out of range [{x}:{y}]"
        ));
    }
    ok_s(bytes_to_string(v[x as usize..y as usize].to_vec()))
}

fn f_trunc<'a>(_: &mut Ctx, a: Args<'a>) -> Res<'a> {
    let (c, v) = (n(&a, 0), s(&a, 1));
    let b = v.as_bytes();
    let len = b.len() as i64;
    if c < 0 && len + c > 0 {
        return ok_s(bytes_to_string(b[(len + c) as usize..].to_vec()));
    }
    if c >= 0 && len > c {
        return ok_s(bytes_to_string(b[..c as usize].to_vec()));
    }
    ok_s(v)
}

fn f_to_string<'a>(_: &mut Ctx, a: Args<'a>) -> Res<'a> {
    ok_s(strval(&a[0]))
}

fn f_atoi<'a>(_: &mut Ctx, a: Args<'a>) -> Res<'a> {
    ok_i(parse_int10(s(&a, 0)).unwrap_or(0))
}

fn f_int64<'a>(_: &mut Ctx, a: Args<'a>) -> Res<'a> {
    ok_i(to_int64(&a[0]))
}

fn f_float64<'a>(_: &mut Ctx, a: Args<'a>) -> Res<'a> {
    ok_f(to_float64(&a[0]))
}

fn f_to_decimal<'a>(_: &mut Ctx, a: Args<'a>) -> Res<'a> {
    let t = a[0].to_string();
    let digits = t.strip_prefix(['+', '-']).unwrap_or(&t);
    if digits.is_empty() || !digits.bytes().all(|c| (b'0'..=b'7').contains(&c)) {
        return ok_i(0);
    }
    ok_i(i64::from_str_radix(&t, 8).unwrap_or(0))
}

fn until_step(start: i64, stop: i64, step: i64) -> Result<Vec<i64>, String> {
    let mut v = Vec::new();
    let count = if stop < start {
        if step >= 0 {
            return Ok(v);
        }
        (start - stop) as u128 / u128::from(step.unsigned_abs())
    } else {
        if step <= 0 {
            return Ok(v);
        }
        (stop - start) as u128 / step as u128
    };
    if count > 10_000_000 {
        return Err("until: too many elements".into());
    }
    let mut i = start;
    if stop < start {
        while i > stop {
            v.push(i);
            i += step;
        }
    } else {
        while i < stop {
            v.push(i);
            i += step;
        }
    }
    Ok(v)
}

fn int_list<'a>(v: Vec<i64>) -> Res<'a> {
    ok(Value::List(v.into_iter().map(Value::Int).collect()))
}

fn f_until<'a>(_: &mut Ctx, a: Args<'a>) -> Res<'a> {
    let c = n(&a, 0);
    int_list(until_step(0, c, if c < 0 { -1 } else { 1 })?)
}

fn f_until_step<'a>(_: &mut Ctx, a: Args<'a>) -> Res<'a> {
    int_list(until_step(n(&a, 0), n(&a, 1), n(&a, 2))?)
}

fn f_seq<'a>(_: &mut Ctx, a: Args<'a>) -> Res<'a> {
    let p: Vec<i64> = (0..a.len()).map(|i| n(&a, i)).collect();
    let v = match p.len() {
        1 => {
            let (start, end) = (1, p[0]);
            let inc = if end < start { -1 } else { 1 };
            until_step(start, end + inc, inc)?
        }
        2 => {
            let (start, end) = (p[0], p[1]);
            let step = if end < start { -1 } else { 1 };
            until_step(start, end + step, step)?
        }
        3 => {
            let (start, step, end) = (p[0], p[1], p[2]);
            let mut inc = 1;
            if end < start {
                inc = -1;
                if step > 0 {
                    return ok_s("");
                }
            }
            until_step(start, end + inc, step)?
        }
        _ => return ok_s(""),
    };
    ok_s(v.iter().map(i64::to_string).collect::<Vec<_>>().join(" "))
}

fn go_split<'s>(v: &'s str, sep: &str, limit: Option<usize>) -> Vec<&'s str> {
    if limit == Some(0) {
        return Vec::new();
    }
    if sep.is_empty() {
        let mut out: Vec<&str> = Vec::new();
        let mut idx = v.char_indices().peekable();
        while let Some((i, _)) = idx.next() {
            if limit.is_some_and(|l| out.len() + 1 == l) {
                out.push(&v[i..]);
                return out;
            }
            let end = idx.peek().map_or(v.len(), |(j, _)| *j);
            out.push(&v[i..end]);
        }
        return out;
    }
    match limit {
        Some(l) => v.splitn(l, sep).collect(),
        None => v.split(sep).collect(),
    }
}

fn f_split<'a>(_: &mut Ctx, a: Args<'a>) -> Res<'a> {
    let parts = go_split(s(&a, 1), s(&a, 0), None);
    ok(Value::Map(
        parts
            .into_iter()
            .enumerate()
            .map(|(i, p)| (format!("_{i}"), Value::String(p.into())))
            .collect(),
    ))
}

fn f_splitn<'a>(_: &mut Ctx, a: Args<'a>) -> Res<'a> {
    let lim = n(&a, 1);
    let parts = go_split(
        s(&a, 2),
        s(&a, 0),
        if lim < 0 { None } else { Some(lim as usize) },
    );
    ok(Value::Map(
        parts
            .into_iter()
            .enumerate()
            .map(|(i, p)| (format!("_{i}"), Value::String(p.into())))
            .collect(),
    ))
}

fn f_split_list<'a>(_: &mut Ctx, a: Args<'a>) -> Res<'a> {
    str_list(
        go_split(s(&a, 1), s(&a, 0), None)
            .into_iter()
            .map(str::to_string),
    )
}

fn f_to_strings<'a>(_: &mut Ctx, a: Args<'a>) -> Res<'a> {
    str_list(strslice(&a[0]))
}

fn f_join<'a>(_: &mut Ctx, a: Args<'a>) -> Res<'a> {
    ok_s(strslice(&a[1]).join(s(&a, 0)))
}

fn f_sort_alpha<'a>(_: &mut Ctx, a: Args<'a>) -> Res<'a> {
    match &*a[0] {
        Value::List(_) => {
            let mut v = strslice(&a[0]);
            v.sort();
            str_list(v)
        }
        other => str_list(vec![strval(other)]),
    }
}

// ---------------------------------------------------------------- sprig: math

fn f_add1<'a>(_: &mut Ctx, a: Args<'a>) -> Res<'a> {
    ok_i(to_int64(&a[0]).wrapping_add(1))
}

fn f_add<'a>(_: &mut Ctx, a: Args<'a>) -> Res<'a> {
    ok_i(a.iter().fold(0i64, |acc, v| acc.wrapping_add(to_int64(v))))
}

fn f_sub<'a>(_: &mut Ctx, a: Args<'a>) -> Res<'a> {
    ok_i(to_int64(&a[0]).wrapping_sub(to_int64(&a[1])))
}

fn f_mul<'a>(_: &mut Ctx, a: Args<'a>) -> Res<'a> {
    ok_i(
        a[1..]
            .iter()
            .fold(to_int64(&a[0]), |acc, v| acc.wrapping_mul(to_int64(v))),
    )
}

fn f_div<'a>(_: &mut Ctx, a: Args<'a>) -> Res<'a> {
    let d = to_int64(&a[1]);
    if d == 0 {
        return Err("runtime error: integer divide by zero".into());
    }
    ok_i(to_int64(&a[0]).wrapping_div(d))
}

fn f_mod<'a>(_: &mut Ctx, a: Args<'a>) -> Res<'a> {
    let d = to_int64(&a[1]);
    if d == 0 {
        return Err("runtime error: integer divide by zero".into());
    }
    ok_i(to_int64(&a[0]).wrapping_rem(d))
}

fn f_max<'a>(_: &mut Ctx, a: Args<'a>) -> Res<'a> {
    ok_i(a.iter().map(|v| to_int64(v)).max().unwrap_or(0))
}

fn f_min<'a>(_: &mut Ctx, a: Args<'a>) -> Res<'a> {
    ok_i(a.iter().map(|v| to_int64(v)).min().unwrap_or(0))
}

/// Go's math.Max: NaN wins, +0 beats -0.
fn go_max(x: f64, y: f64) -> f64 {
    if x.is_nan() || y.is_nan() {
        return f64::NAN;
    }
    if x == 0.0 && y == 0.0 {
        return if x.is_sign_negative() { y } else { x };
    }
    x.max(y)
}

fn go_min(x: f64, y: f64) -> f64 {
    if x.is_nan() || y.is_nan() {
        return f64::NAN;
    }
    if x == 0.0 && y == 0.0 {
        return if x.is_sign_negative() { x } else { y };
    }
    x.min(y)
}

fn f_maxf<'a>(_: &mut Ctx, a: Args<'a>) -> Res<'a> {
    ok_f(
        a[1..]
            .iter()
            .fold(to_float64(&a[0]), |acc, v| go_max(acc, to_float64(v))),
    )
}

fn f_minf<'a>(_: &mut Ctx, a: Args<'a>) -> Res<'a> {
    ok_f(
        a[1..]
            .iter()
            .fold(to_float64(&a[0]), |acc, v| go_min(acc, to_float64(v))),
    )
}

fn f_ceil<'a>(_: &mut Ctx, a: Args<'a>) -> Res<'a> {
    ok_f(to_float64(&a[0]).ceil())
}

fn f_floor<'a>(_: &mut Ctx, a: Args<'a>) -> Res<'a> {
    ok_f(to_float64(&a[0]).floor())
}

fn f_round<'a>(_: &mut Ctx, a: Args<'a>) -> Res<'a> {
    let round_on = match a.get(2).map(|v| &**v) {
        Some(Value::Float(f)) => *f,
        _ => 0.5,
    };
    let val = to_float64(&a[0]);
    let pow = 10f64.powf(n(&a, 1) as f64);
    let digit = pow * val;
    let div = digit.fract();
    let r = if div >= round_on {
        digit.ceil()
    } else {
        digit.floor()
    };
    ok_f(r / pow)
}

fn f_rand_int<'a>(c: &mut Ctx, a: Args<'a>) -> Res<'a> {
    let (lo, hi) = (n(&a, 0), n(&a, 1));
    let span = hi.wrapping_sub(lo);
    if span <= 0 {
        return Err("invalid argument to Intn".into());
    }
    ok_i((c.host.random() % span as u64) as i64 + lo)
}

fn f_rand_int_n<'a>(c: &mut Ctx, a: Args<'a>) -> Res<'a> {
    let hi = n(&a, 0);
    if hi <= 0 {
        return Err("invalid argument to IntN".into());
    }
    ok_i((c.host.random() % hi as u64) as i64)
}

// ---------------------------------------------------------------- sprig: defaults

fn empty(v: &Value) -> bool {
    match v {
        Value::Time(_) => false,
        other => !other.truth(),
    }
}

fn f_default<'a>(_: &mut Ctx, a: Args<'a>) -> Res<'a> {
    let mut it = a.into_iter();
    let d = it.next().unwrap_or(Cow::Owned(Value::Nil));
    match it.next() {
        Some(g) if !empty(&g) => Ok(g),
        _ => Ok(d),
    }
}

fn f_empty<'a>(_: &mut Ctx, a: Args<'a>) -> Res<'a> {
    ok_b(empty(&a[0]))
}

fn f_coalesce<'a>(_: &mut Ctx, a: Args<'a>) -> Res<'a> {
    Ok(a.into_iter()
        .find(|v| !empty(v))
        .unwrap_or(Cow::Owned(Value::Nil)))
}

fn f_all<'a>(_: &mut Ctx, a: Args<'a>) -> Res<'a> {
    ok_b(a.iter().all(|v| !empty(v)))
}

fn f_any<'a>(_: &mut Ctx, a: Args<'a>) -> Res<'a> {
    ok_b(a.iter().any(|v| !empty(v)))
}

fn f_ternary<'a>(_: &mut Ctx, a: Args<'a>) -> Res<'a> {
    let cond = matches!(*a[2], Value::Bool(true));
    let mut it = a.into_iter();
    let (t, f) = (it.next(), it.next());
    Ok(if cond { t } else { f }.unwrap_or(Cow::Owned(Value::Nil)))
}

fn f_from_json<'a>(_: &mut Ctx, a: Args<'a>) -> Res<'a> {
    ok(encode::from_json(s(&a, 0)).unwrap_or(Value::Nil))
}

fn f_must_from_json<'a>(_: &mut Ctx, a: Args<'a>) -> Res<'a> {
    encode::from_json(s(&a, 0)).map(|mut v| {
        ints_to_floats(&mut v);
        Cow::Owned(v)
    })
}

fn f_to_json<'a>(_: &mut Ctx, a: Args<'a>) -> Res<'a> {
    ok_s(encode::to_json(&a[0], true, None))
}

fn f_to_pretty_json<'a>(_: &mut Ctx, a: Args<'a>) -> Res<'a> {
    ok_s(encode::to_json(&a[0], true, Some("  ")))
}

fn f_to_raw_json<'a>(_: &mut Ctx, a: Args<'a>) -> Res<'a> {
    ok_s(encode::to_json(&a[0], false, None))
}

// ---------------------------------------------------------------- sprig: reflection

fn f_type_of<'a>(_: &mut Ctx, a: Args<'a>) -> Res<'a> {
    ok_s(a[0].go_type())
}

fn f_type_is<'a>(_: &mut Ctx, a: Args<'a>) -> Res<'a> {
    ok_b(s(&a, 0) == a[1].go_type())
}

fn f_type_is_like<'a>(_: &mut Ctx, a: Args<'a>) -> Res<'a> {
    let t = a[1].go_type();
    let target = s(&a, 0);
    ok_b(target == t || format!("*{target}") == t)
}

fn f_kind_of<'a>(_: &mut Ctx, a: Args<'a>) -> Res<'a> {
    ok_s(a[0].go_kind())
}

fn f_kind_is<'a>(_: &mut Ctx, a: Args<'a>) -> Res<'a> {
    ok_b(s(&a, 0) == a[1].go_kind())
}

fn f_deep_equal<'a>(_: &mut Ctx, a: Args<'a>) -> Res<'a> {
    ok_b(*a[0] == *a[1])
}

// ---------------------------------------------------------------- sprig: OS, paths, encodings

fn f_env<'a>(c: &mut Ctx, a: Args<'a>) -> Res<'a> {
    ok_s(c.host.env(s(&a, 0)).unwrap_or_default())
}

fn f_expandenv<'a>(c: &mut Ctx, a: Args<'a>) -> Res<'a> {
    let host = c.host;
    ok_s(shell::expand_env(s(&a, 0), &|k| {
        host.env(k).unwrap_or_default()
    }))
}

fn f_base<'a>(_: &mut Ctx, a: Args<'a>) -> Res<'a> {
    ok_s(paths::base(s(&a, 0)))
}

fn f_dir<'a>(_: &mut Ctx, a: Args<'a>) -> Res<'a> {
    ok_s(paths::dir(s(&a, 0)))
}

fn f_clean<'a>(_: &mut Ctx, a: Args<'a>) -> Res<'a> {
    ok_s(paths::clean(s(&a, 0)))
}

fn f_ext<'a>(_: &mut Ctx, a: Args<'a>) -> Res<'a> {
    ok_s(paths::ext(s(&a, 0)))
}

fn f_is_abs<'a>(_: &mut Ctx, a: Args<'a>) -> Res<'a> {
    ok_b(s(&a, 0).starts_with('/'))
}

fn f_b64enc<'a>(_: &mut Ctx, a: Args<'a>) -> Res<'a> {
    use base64::Engine;
    ok_s(base64::engine::general_purpose::STANDARD.encode(s(&a, 0)))
}

fn f_b64dec<'a>(_: &mut Ctx, a: Args<'a>) -> Res<'a> {
    ok_s(encode::b64_decode(s(&a, 0)).unwrap_or_else(|e| e))
}

fn f_b32enc<'a>(_: &mut Ctx, a: Args<'a>) -> Res<'a> {
    ok_s(encode::b32_encode(s(&a, 0).as_bytes()))
}

fn f_b32dec<'a>(_: &mut Ctx, a: Args<'a>) -> Res<'a> {
    ok_s(encode::b32_decode(s(&a, 0)).unwrap_or_else(|e| e))
}

fn f_sha256<'a>(_: &mut Ctx, a: Args<'a>) -> Res<'a> {
    ok_s(hash::sha256_hex(s(&a, 0).as_bytes()))
}

fn f_sha1<'a>(_: &mut Ctx, a: Args<'a>) -> Res<'a> {
    ok_s(hash::sha1_hex(s(&a, 0).as_bytes()))
}

fn f_adler32<'a>(_: &mut Ctx, a: Args<'a>) -> Res<'a> {
    ok_s(hash::adler32(s(&a, 0).as_bytes()).to_string())
}

fn f_url_parse<'a>(_: &mut Ctx, a: Args<'a>) -> Res<'a> {
    paths::url_parse(s(&a, 0)).map(|m| Cow::Owned(Value::Map(m)))
}

fn f_url_join<'a>(_: &mut Ctx, a: Args<'a>) -> Res<'a> {
    let empty = IndexMap::new();
    paths::url_join(map_arg(&a, 0).unwrap_or(&empty)).map(|s| Cow::Owned(Value::String(s)))
}

// ---------------------------------------------------------------- sprig: dicts

fn f_list<'a>(_: &mut Ctx, a: Args<'a>) -> Res<'a> {
    ok(Value::List(a.into_iter().map(Cow::into_owned).collect()))
}

fn f_dict<'a>(_: &mut Ctx, a: Args<'a>) -> Res<'a> {
    let mut m = IndexMap::new();
    let mut it = a.into_iter();
    while let Some(k) = it.next() {
        let key = strval(&k);
        let v = it
            .next()
            .map_or_else(|| Value::String(String::new()), Cow::into_owned);
        m.insert(key, v);
    }
    ok(Value::Map(m))
}

fn f_get<'a>(_: &mut Ctx, a: Args<'a>) -> Res<'a> {
    let key = s(&a, 1).to_string();
    match a.into_iter().next() {
        Some(Cow::Borrowed(Value::Map(m))) => Ok(m
            .get(&key)
            .map_or(Cow::Owned(Value::String(String::new())), Cow::Borrowed)),
        Some(Cow::Owned(Value::Map(mut m))) => {
            ok(m.swap_remove(&key).unwrap_or(Value::String(String::new())))
        }
        _ => ok_s(""),
    }
}

fn f_set<'a>(_: &mut Ctx, a: Args<'a>) -> Res<'a> {
    let mut it = a.into_iter();
    let m = it.next().map(Cow::into_owned);
    let key = it.next().map(Cow::into_owned);
    let v = it.next().map_or(Value::Nil, Cow::into_owned);
    match (m, key) {
        (Some(Value::Map(mut m)), Some(Value::String(k))) => {
            m.insert(k, v);
            ok(Value::Map(m))
        }
        _ => Err("assignment to entry in nil map".into()),
    }
}

fn f_unset<'a>(_: &mut Ctx, a: Args<'a>) -> Res<'a> {
    let key = s(&a, 1).to_string();
    match a.into_iter().next().map(Cow::into_owned) {
        Some(Value::Map(mut m)) => {
            m.shift_remove(&key);
            ok(Value::Map(m))
        }
        _ => ok(Value::Map(IndexMap::new())),
    }
}

fn f_has_key<'a>(_: &mut Ctx, a: Args<'a>) -> Res<'a> {
    ok_b(map_arg(&a, 0).is_some_and(|m| m.contains_key(s(&a, 1))))
}

fn f_pluck<'a>(_: &mut Ctx, a: Args<'a>) -> Res<'a> {
    let key = s(&a, 0);
    ok(Value::List(
        (1..a.len())
            .filter_map(|i| map_arg(&a, i).and_then(|m| m.get(key)).cloned())
            .collect(),
    ))
}

fn f_keys<'a>(_: &mut Ctx, a: Args<'a>) -> Res<'a> {
    // Go returns map order (random); sorted is one of those orders.
    let mut k = Vec::new();
    for i in 0..a.len() {
        if let Some(m) = map_arg(&a, i) {
            let mut ks: Vec<String> = m.keys().cloned().collect();
            ks.sort();
            k.extend(ks);
        }
    }
    str_list(k)
}

fn f_pick<'a>(_: &mut Ctx, a: Args<'a>) -> Res<'a> {
    let mut res = IndexMap::new();
    if let Some(m) = map_arg(&a, 0) {
        for i in 1..a.len() {
            let k = s(&a, i);
            if let Some(v) = m.get(k) {
                res.insert(k.to_string(), v.clone());
            }
        }
    }
    ok(Value::Map(res))
}

fn f_omit<'a>(_: &mut Ctx, a: Args<'a>) -> Res<'a> {
    let omit: Vec<&str> = (1..a.len()).map(|i| s(&a, i)).collect();
    let res = map_arg(&a, 0)
        .map(|m| {
            m.iter()
                .filter(|(k, _)| !omit.contains(&k.as_str()))
                .map(|(k, v)| (k.clone(), v.clone()))
                .collect()
        })
        .unwrap_or_default();
    ok(Value::Map(res))
}

fn f_values<'a>(_: &mut Ctx, a: Args<'a>) -> Res<'a> {
    let v = map_arg(&a, 0)
        .map(|m| {
            Value::sorted_entries(m)
                .into_iter()
                .map(|(_, v)| v.clone())
                .collect()
        })
        .unwrap_or_default();
    ok(Value::List(v))
}

fn f_dig<'a>(_: &mut Ctx, a: Args<'a>) -> Res<'a> {
    if a.len() < 3 {
        return Err("dig needs at least three arguments".into());
    }
    let Value::Map(mut cur) = a[a.len() - 1].clone().into_owned() else {
        return Err(format!(
            "interface conversion: interface {{}} is {}, not map[string]interface {{}}",
            a[a.len() - 1].go_type()
        ));
    };
    let def = a[a.len() - 2].clone().into_owned();
    let keys = &a[..a.len() - 2];
    for (i, k) in keys.iter().enumerate() {
        let Value::String(k) = &**k else {
            return Err(format!(
                "interface conversion: interface {{}} is {}, not string",
                k.go_type()
            ));
        };
        let Some(step) = cur.swap_remove(k) else {
            return ok(def);
        };
        if i == keys.len() - 1 {
            return ok(step);
        }
        match step {
            Value::Map(m) => cur = m,
            other => {
                return Err(format!(
                    "interface conversion: interface {{}} is {}, not map[string]interface {{}}",
                    other.go_type()
                ));
            }
        }
    }
    ok(def)
}

fn f_merge<'a>(_: &mut Ctx, a: Args<'a>) -> Res<'a> {
    let mut res = IndexMap::new();
    for i in 0..a.len() {
        if let Some(m) = map_arg(&a, i) {
            for (k, v) in m {
                res.insert(k.clone(), v.clone());
            }
        }
    }
    ok(Value::Map(res))
}

// ---------------------------------------------------------------- sprig: lists

fn f_append<'a>(_: &mut Ctx, a: Args<'a>) -> Res<'a> {
    list_arg(&a[0], "push on")?;
    let mut it = a.into_iter();
    let mut l = take_list(it.next().unwrap_or(Cow::Owned(Value::Nil)));
    l.push(it.next().map_or(Value::Nil, Cow::into_owned));
    ok(Value::List(l))
}

fn f_prepend<'a>(_: &mut Ctx, a: Args<'a>) -> Res<'a> {
    list_arg(&a[0], "prepend on")?;
    let mut it = a.into_iter();
    let mut l = take_list(it.next().unwrap_or(Cow::Owned(Value::Nil)));
    l.insert(0, it.next().map_or(Value::Nil, Cow::into_owned));
    ok(Value::List(l))
}

fn f_first<'a>(_: &mut Ctx, a: Args<'a>) -> Res<'a> {
    let l = list_arg(&a[0], "find first on")?;
    ok(l.first().cloned().unwrap_or(Value::Nil))
}

fn f_last<'a>(_: &mut Ctx, a: Args<'a>) -> Res<'a> {
    let l = list_arg(&a[0], "find last on")?;
    ok(l.last().cloned().unwrap_or(Value::Nil))
}

fn f_rest<'a>(_: &mut Ctx, a: Args<'a>) -> Res<'a> {
    let l = list_arg(&a[0], "find rest on")?;
    if l.is_empty() {
        return ok(Value::Nil);
    }
    ok(Value::List(l[1..].to_vec()))
}

fn f_initial<'a>(_: &mut Ctx, a: Args<'a>) -> Res<'a> {
    let l = list_arg(&a[0], "find initial on")?;
    if l.is_empty() {
        return ok(Value::Nil);
    }
    ok(Value::List(l[..l.len() - 1].to_vec()))
}

fn f_reverse<'a>(_: &mut Ctx, a: Args<'a>) -> Res<'a> {
    let l = list_arg(&a[0], "find reverse on")?;
    ok(Value::List(l.iter().rev().cloned().collect()))
}

fn f_uniq<'a>(_: &mut Ctx, a: Args<'a>) -> Res<'a> {
    let l = list_arg(&a[0], "find uniq on")?;
    let mut out: Vec<Value> = Vec::new();
    for v in l {
        if !out.contains(v) {
            out.push(v.clone());
        }
    }
    ok(Value::List(out))
}

fn f_compact<'a>(_: &mut Ctx, a: Args<'a>) -> Res<'a> {
    let l = list_arg(&a[0], "compact on")?;
    ok(Value::List(
        l.iter().filter(|v| !empty(v)).cloned().collect(),
    ))
}

fn f_without<'a>(_: &mut Ctx, a: Args<'a>) -> Res<'a> {
    let l = list_arg(&a[0], "find without on")?;
    let omit: Vec<&Value> = a[1..].iter().map(|v| &**v).collect();
    ok(Value::List(
        l.iter().filter(|v| !omit.contains(v)).cloned().collect(),
    ))
}

fn f_has<'a>(_: &mut Ctx, a: Args<'a>) -> Res<'a> {
    match &*a[1] {
        Value::Nil => ok_b(false),
        Value::List(l) => ok_b(l.contains(&a[0])),
        other => Err(format!("Cannot find has on type {}", other.go_kind())),
    }
}

fn f_slice<'a>(_: &mut Ctx, a: Args<'a>) -> Res<'a> {
    let l = match &*a[0] {
        Value::List(l) => l,
        Value::Nil => return Err(nil_deref()),
        other => {
            return Err(format!(
                "list should be type of slice or array but {}",
                other.go_kind()
            ))
        }
    };
    if l.is_empty() {
        return ok(Value::Nil);
    }
    let start = a.get(1).map_or(0, |v| to_int64(v));
    let end = if a.len() < 3 {
        l.len() as i64
    } else {
        to_int64(&a[2])
    };
    if start < 0 || end < start || end > l.len() as i64 {
        return Err("reflect.Value.Slice: slice index out of bounds".into());
    }
    ok(Value::List(l[start as usize..end as usize].to_vec()))
}

fn f_concat<'a>(_: &mut Ctx, a: Args<'a>) -> Res<'a> {
    let mut res = Vec::new();
    for v in a {
        match v.into_owned() {
            Value::List(l) => res.extend(l),
            Value::Nil => return Err(nil_deref()),
            other => return Err(format!("Cannot concat type {} as list", other.go_kind())),
        }
    }
    ok(Value::List(res))
}

fn f_chunk<'a>(_: &mut Ctx, a: Args<'a>) -> Res<'a> {
    let size = n(&a, 0);
    let l = list_arg(&a[1], "chunk")?;
    if size <= 0 {
        return Err("runtime error: integer divide by zero".into());
    }
    ok(Value::List(
        l.chunks(size as usize)
            .map(|c| Value::List(c.to_vec()))
            .collect(),
    ))
}

fn f_fail<'a>(_: &mut Ctx, a: Args<'a>) -> Res<'a> {
    Err(s(&a, 0).to_string())
}

// ---------------------------------------------------------------- sprig: regex

fn must_compile_msg(re: &str, e: String) -> String {
    // regexp's quote: backquoted when it can be.
    let q = if re
        .chars()
        .all(|c| c != '`' && (c == '\t' || !c.is_control()))
    {
        format!("`{re}`")
    } else {
        gofmt::quote(re)
    };
    format!("regexp: Compile({q}): {e}")
}

fn f_regex_match<'a>(c: &mut Ctx, a: Args<'a>) -> Res<'a> {
    ok_b(c.regex(s(&a, 0)).is_ok_and(|r| r.is_match(s(&a, 1))))
}

fn f_must_regex_match<'a>(c: &mut Ctx, a: Args<'a>) -> Res<'a> {
    ok_b(c.regex(s(&a, 0))?.is_match(s(&a, 1)))
}

fn regex_or_panic<'c>(c: &'c mut Ctx, re: &str, must: bool) -> Result<&'c regex::Regex, String> {
    c.regex(re)
        .map_err(|e| if must { e } else { must_compile_msg(re, e) })
}

fn find_all(r: &regex::Regex, v: &str, n: i64) -> Vec<String> {
    if n == 0 {
        return Vec::new();
    }
    let it = r.find_iter(v).map(|m| m.as_str().to_string());
    if n < 0 {
        it.collect()
    } else {
        it.take(n as usize).collect()
    }
}

fn f_regex_find_all<'a>(c: &mut Ctx, a: Args<'a>) -> Res<'a> {
    let r = regex_or_panic(c, s(&a, 0), false)?;
    str_list(find_all(r, s(&a, 1), n(&a, 2)))
}

fn f_must_regex_find_all<'a>(c: &mut Ctx, a: Args<'a>) -> Res<'a> {
    let r = regex_or_panic(c, s(&a, 0), true)?;
    str_list(find_all(r, s(&a, 1), n(&a, 2)))
}

fn f_regex_find<'a>(c: &mut Ctx, a: Args<'a>) -> Res<'a> {
    let r = regex_or_panic(c, s(&a, 0), false)?;
    ok_s(r.find(s(&a, 1)).map_or("", |m| m.as_str()))
}

fn f_must_regex_find<'a>(c: &mut Ctx, a: Args<'a>) -> Res<'a> {
    let r = regex_or_panic(c, s(&a, 0), true)?;
    ok_s(r.find(s(&a, 1)).map_or("", |m| m.as_str()))
}

fn f_regex_replace_all<'a>(c: &mut Ctx, a: Args<'a>) -> Res<'a> {
    let r = regex_or_panic(c, s(&a, 0), false)?;
    ok_s(r.replace_all(s(&a, 1), s(&a, 2)).into_owned())
}

fn f_must_regex_replace_all<'a>(c: &mut Ctx, a: Args<'a>) -> Res<'a> {
    let r = regex_or_panic(c, s(&a, 0), true)?;
    ok_s(r.replace_all(s(&a, 1), s(&a, 2)).into_owned())
}

fn f_regex_replace_all_literal<'a>(c: &mut Ctx, a: Args<'a>) -> Res<'a> {
    let r = regex_or_panic(c, s(&a, 0), false)?;
    ok_s(
        r.replace_all(s(&a, 1), regex::NoExpand(s(&a, 2)))
            .into_owned(),
    )
}

fn f_must_regex_replace_all_literal<'a>(c: &mut Ctx, a: Args<'a>) -> Res<'a> {
    let r = regex_or_panic(c, s(&a, 0), true)?;
    ok_s(
        r.replace_all(s(&a, 1), regex::NoExpand(s(&a, 2)))
            .into_owned(),
    )
}

/// Go's `Regexp.Split`.
fn regex_split(r: &regex::Regex, re: &str, v: &str, n: i64) -> Vec<String> {
    if n == 0 {
        return Vec::new();
    }
    if !re.is_empty() && v.is_empty() {
        return vec![String::new()];
    }
    let mut out = Vec::new();
    let (mut beg, mut end) = (0, 0);
    for m in r.find_iter(v) {
        if n > 0 && out.len() as i64 == n - 1 {
            break;
        }
        end = m.start();
        if m.end() != 0 {
            out.push(v[beg..end].to_string());
        }
        beg = m.end();
    }
    if end != v.len() {
        out.push(v[beg..].to_string());
    }
    out
}

fn f_regex_split<'a>(c: &mut Ctx, a: Args<'a>) -> Res<'a> {
    let re = s(&a, 0).to_string();
    let r = regex_or_panic(c, &re, false)?;
    str_list(regex_split(r, &re, s(&a, 1), n(&a, 2)))
}

fn f_must_regex_split<'a>(c: &mut Ctx, a: Args<'a>) -> Res<'a> {
    let re = s(&a, 0).to_string();
    let r = regex_or_panic(c, &re, true)?;
    str_list(regex_split(r, &re, s(&a, 1), n(&a, 2)))
}

fn f_regex_quote_meta<'a>(_: &mut Ctx, a: Args<'a>) -> Res<'a> {
    let mut out = String::new();
    for ch in s(&a, 0).chars() {
        if "\\.+*?()|[]{}^$".contains(ch) {
            out.push('\\');
        }
        out.push(ch);
    }
    ok_s(out)
}

// ---------------------------------------------------------------- sprig: dates

/// The time a date function was given: a `time.Time`, or Unix seconds as
/// an int; anything else means now (sprig's rule).
fn date_arg(c: &Ctx, v: &Value) -> Time {
    match v {
        Value::Time(t) => t.clone(),
        Value::Int(i) => {
            let (offset, zone) = c.host.local_zone(*i);
            Time {
                unix: *i,
                nanos: 0,
                offset,
                zone,
            }
        }
        _ => c.host.now(),
    }
}

fn in_zone(c: &Ctx, t: Time, zone: &str) -> Time {
    match zone {
        "Local" => {
            let (offset, zone) = c.host.local_zone(t.unix);
            Time { offset, zone, ..t }
        }
        // Without the zone database every other zone is UTC, which is
        // also what sprig falls back to for zones it cannot load.
        _ => Time {
            offset: 0,
            zone: "UTC".into(),
            ..t
        },
    }
}

fn f_date<'a>(c: &mut Ctx, a: Args<'a>) -> Res<'a> {
    let t = in_zone(c, date_arg(c, &a[1]), "Local");
    ok_s(gotime::format(&t, s(&a, 0)))
}

fn f_date_in_zone<'a>(c: &mut Ctx, a: Args<'a>) -> Res<'a> {
    let t = in_zone(c, date_arg(c, &a[1]), s(&a, 2));
    ok_s(gotime::format(&t, s(&a, 0)))
}

fn f_html_date<'a>(c: &mut Ctx, a: Args<'a>) -> Res<'a> {
    let t = in_zone(c, date_arg(c, &a[0]), "Local");
    ok_s(gotime::format(&t, "2006-01-02"))
}

fn f_html_date_in_zone<'a>(c: &mut Ctx, a: Args<'a>) -> Res<'a> {
    let t = in_zone(c, date_arg(c, &a[0]), s(&a, 1));
    ok_s(gotime::format(&t, "2006-01-02"))
}

fn f_now<'a>(c: &mut Ctx, _: Args<'a>) -> Res<'a> {
    ok(Value::Time(c.host.now()))
}

fn f_unix_epoch<'a>(_: &mut Ctx, a: Args<'a>) -> Res<'a> {
    match &*a[0] {
        Value::Time(t) => ok_s(t.unix.to_string()),
        _ => ok_s("0"),
    }
}

fn f_duration<'a>(_: &mut Ctx, a: Args<'a>) -> Res<'a> {
    let secs = match &*a[0] {
        Value::String(s) => parse_int10(s).unwrap_or(0),
        other => to_int64(other),
    };
    ok_s(gotime::duration_string(secs.saturating_mul(1_000_000_000)))
}

fn f_ago<'a>(c: &mut Ctx, a: Args<'a>) -> Res<'a> {
    let t = date_arg(c, &a[0]);
    let now = c.host.now();
    let d = (now.unix - t.unix).saturating_mul(1_000_000_000)
        + (i64::from(now.nanos) - i64::from(t.nanos));
    // Round to whole seconds, half away from zero.
    let r = (d + if d >= 0 { 500_000_000 } else { -500_000_000 }) / 1_000_000_000 * 1_000_000_000;
    ok_s(gotime::duration_string(r))
}

fn f_hello<'a>(_: &mut Ctx, _: Args<'a>) -> Res<'a> {
    ok_s("Hello!")
}

// ---------------------------------------------------------------- go-task

fn f_os<'a>(c: &mut Ctx, _: Args<'a>) -> Res<'a> {
    ok_s(c.host.os())
}

fn f_arch<'a>(c: &mut Ctx, _: Args<'a>) -> Res<'a> {
    ok_s(c.host.arch())
}

fn f_num_cpu<'a>(c: &mut Ctx, _: Args<'a>) -> Res<'a> {
    ok_i(c.host.num_cpu() as i64)
}

fn f_exe_ext<'a>(c: &mut Ctx, _: Args<'a>) -> Res<'a> {
    ok_s(if c.host.os() == "windows" { ".exe" } else { "" })
}

fn f_is_sh<'a>(_: &mut Ctx, _: Args<'a>) -> Res<'a> {
    ok_b(true)
}

fn f_cat_lines<'a>(_: &mut Ctx, a: Args<'a>) -> Res<'a> {
    ok_s(s(&a, 0).replace("\r\n", " ").replace('\n', " "))
}

fn f_split_lines<'a>(_: &mut Ctx, a: Args<'a>) -> Res<'a> {
    let v = s(&a, 0).replace("\r\n", "\n");
    str_list(v.split('\n').map(str::to_string))
}

fn f_identity<'a>(_: &mut Ctx, a: Args<'a>) -> Res<'a> {
    ok_s(s(&a, 0))
}

fn f_shell_quote<'a>(_: &mut Ctx, a: Args<'a>) -> Res<'a> {
    shell::quote(s(&a, 0)).map(|q| Cow::Owned(Value::String(q)))
}

fn f_split_args<'a>(c: &mut Ctx, a: Args<'a>) -> Res<'a> {
    let host = c.host;
    let fields = shell::fields(s(&a, 0), &|k| host.env(k))?;
    str_list(fields)
}

fn f_join_path<'a>(_: &mut Ctx, a: Args<'a>) -> Res<'a> {
    let parts: Vec<&str> = (0..a.len()).map(|i| s(&a, i)).collect();
    ok_s(paths::join(&parts))
}

fn f_join_env<'a>(c: &mut Ctx, a: Args<'a>) -> Res<'a> {
    let sep = if c.host.os() == "windows" { ";" } else { ":" };
    let parts: Vec<&str> = (0..a.len()).map(|i| s(&a, i)).collect();
    ok_s(parts.join(sep))
}

fn f_join_url<'a>(_: &mut Ctx, a: Args<'a>) -> Res<'a> {
    let parts: Vec<&str> = (0..a.len()).map(|i| s(&a, i)).collect();
    paths::join_url(&parts).map(|s| Cow::Owned(Value::String(s)))
}

fn f_rel_path<'a>(_: &mut Ctx, a: Args<'a>) -> Res<'a> {
    paths::rel(s(&a, 0), s(&a, 1)).map(|s| Cow::Owned(Value::String(s)))
}

fn f_abs_path<'a>(c: &mut Ctx, a: Args<'a>) -> Res<'a> {
    let p = s(&a, 0);
    if p.starts_with('/') {
        return ok_s(paths::clean(p));
    }
    let cwd = c
        .host
        .cwd()
        .ok_or_else(|| "getwd: no working directory".to_string())?;
    ok_s(paths::join(&[&cwd, p]))
}

fn f_spew<'a>(_: &mut Ctx, a: Args<'a>) -> Res<'a> {
    let mut out = String::new();
    for v in &a {
        encode::spew(&mut out, v, 0);
        out.push('\n');
    }
    ok_s(out)
}

fn f_from_yaml<'a>(_: &mut Ctx, a: Args<'a>) -> Res<'a> {
    ok(encode::from_yaml(s(&a, 0)).unwrap_or(Value::Nil))
}

fn f_must_from_yaml<'a>(_: &mut Ctx, a: Args<'a>) -> Res<'a> {
    encode::from_yaml(s(&a, 0)).map(Cow::Owned)
}

fn f_to_yaml<'a>(_: &mut Ctx, a: Args<'a>) -> Res<'a> {
    ok_s(encode::to_yaml(&a[0]))
}

fn f_uuid<'a>(c: &mut Ctx, _: Args<'a>) -> Res<'a> {
    let mut b = [0u8; 16];
    b[..8].copy_from_slice(&c.host.random().to_le_bytes());
    b[8..].copy_from_slice(&c.host.random().to_le_bytes());
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    let h: String = b.iter().fold(String::new(), |mut h, x| {
        use std::fmt::Write;
        let _ = write!(h, "{x:02x}");
        h
    });
    ok_s(format!(
        "{}-{}-{}-{}-{}",
        &h[..8],
        &h[8..12],
        &h[12..16],
        &h[16..20],
        &h[20..]
    ))
}

// ---------------------------------------------------------------- table

use Ty::{Any, Bool as TBool, Float as TFloat, Int, Map, Str, Time as TTime};

const fn f(name: &'static str, params: &'static [Ty], variadic: Option<Ty>, imp: Imp) -> Func {
    Func {
        name,
        params,
        variadic,
        imp,
        special: Special::None,
    }
}

const fn sp(
    name: &'static str,
    params: &'static [Ty],
    variadic: Option<Ty>,
    imp: Imp,
    special: Special,
) -> Func {
    Func {
        name,
        params,
        variadic,
        imp,
        special,
    }
}

/// Sorted by name (a unit test checks), for binary search at parse time.
pub(super) static FUNCS: &[Func] = &[
    f("ARCH", &[], None, f_arch),
    f("ExeExt", &[], None, f_exe_ext),
    f("FromSlash", &[Str], None, f_identity),
    f("IsSH", &[], None, f_is_sh),
    f("OS", &[], None, f_os),
    f("ToSlash", &[Str], None, f_identity),
    f("absPath", &[Str], None, f_abs_path),
    f("add", &[], Some(Any), f_add),
    f("add1", &[Any], None, f_add1),
    f("adler32sum", &[Str], None, f_adler32),
    f("ago", &[Any], None, f_ago),
    f("all", &[], Some(Any), f_all),
    sp("and", &[Any], Some(Any), f_unreachable, Special::And),
    f("any", &[], Some(Any), f_any),
    f("append", &[Any, Any], None, f_append),
    f("atoi", &[Str], None, f_atoi),
    f("b32dec", &[Str], None, f_b32dec),
    f("b32enc", &[Str], None, f_b32enc),
    f("b64dec", &[Str], None, f_b64dec),
    f("b64enc", &[Str], None, f_b64enc),
    f("base", &[Str], None, f_base),
    f("biggest", &[Any], Some(Any), f_max),
    sp("call", &[Any], Some(Any), f_unreachable, Special::Call),
    f("cat", &[], Some(Any), f_cat),
    f("catLines", &[Str], None, f_cat_lines),
    f("ceil", &[Any], None, f_ceil),
    f("chunk", &[Int, Any], None, f_chunk),
    f("clean", &[Str], None, f_clean),
    f("coalesce", &[], Some(Any), f_coalesce),
    f("compact", &[Any], None, f_compact),
    f("concat", &[], Some(Any), f_concat),
    f("contains", &[Str, Str], None, f_contains),
    f("date", &[Str, Any], None, f_date),
    f("dateInZone", &[Str, Any, Str], None, f_date_in_zone),
    f("date_in_zone", &[Str, Any, Str], None, f_date_in_zone),
    f("deepEqual", &[Any, Any], None, f_deep_equal),
    f("default", &[Any], Some(Any), f_default),
    f("dict", &[], Some(Any), f_dict),
    f("dig", &[], Some(Any), f_dig),
    f("dir", &[Str], None, f_dir),
    f("div", &[Any, Any], None, f_div),
    f("duration", &[Any], None, f_duration),
    f("empty", &[Any], None, f_empty),
    f("env", &[Str], None, f_env),
    sp("eq", &[Any], Some(Any), f_eq, Special::None),
    f("exeExt", &[], None, f_exe_ext),
    f("expandenv", &[Str], None, f_expandenv),
    f("ext", &[Str], None, f_ext),
    f("fail", &[Str], None, f_fail),
    f("first", &[Any], None, f_first),
    f("float64", &[Any], None, f_float64),
    f("floor", &[Any], None, f_floor),
    f("fromJson", &[Str], None, f_from_json),
    f("fromSlash", &[Str], None, f_identity),
    f("fromYaml", &[Str], None, f_from_yaml),
    f("ge", &[Any, Any], None, f_ge),
    f("get", &[Map, Str], None, f_get),
    f("gt", &[Any, Any], None, f_gt),
    f("has", &[Any, Any], None, f_has),
    f("hasKey", &[Map, Str], None, f_has_key),
    f("hasPrefix", &[Str, Str], None, f_has_prefix),
    f("hasSuffix", &[Str, Str], None, f_has_suffix),
    f("hello", &[], None, f_hello),
    f("html", &[], Some(Any), f_html),
    f("htmlDate", &[Any], None, f_html_date),
    f("htmlDateInZone", &[Any, Str], None, f_html_date_in_zone),
    f("indent", &[Int, Str], None, f_indent),
    f("index", &[Any], Some(Any), f_index_string),
    f("initial", &[Any], None, f_initial),
    f("int", &[Any], None, f_int64),
    f("int64", &[Any], None, f_int64),
    f("isAbs", &[Str], None, f_is_abs),
    f("join", &[Str, Any], None, f_join),
    f("joinEnv", &[], Some(Str), f_join_env),
    f("joinPath", &[], Some(Str), f_join_path),
    f("joinUrl", &[], Some(Str), f_join_url),
    f("js", &[], Some(Any), f_js),
    f("keys", &[], Some(Map), f_keys),
    f("kindIs", &[Str, Any], None, f_kind_is),
    f("kindOf", &[Any], None, f_kind_of),
    f("last", &[Any], None, f_last),
    f("le", &[Any, Any], None, f_le),
    f("len", &[Any], None, f_len),
    f("list", &[], Some(Any), f_list),
    f("lower", &[Str], None, f_lower),
    f("lt", &[Any, Any], None, f_lt),
    f("max", &[Any], Some(Any), f_max),
    f("maxf", &[Any], Some(Any), f_maxf),
    f("merge", &[Map], Some(Map), f_merge),
    f("min", &[Any], Some(Any), f_min),
    f("minf", &[Any], Some(Any), f_minf),
    f("mod", &[Any, Any], None, f_mod),
    f("mul", &[Any], Some(Any), f_mul),
    f("mustAppend", &[Any, Any], None, f_append),
    f("mustChunk", &[Int, Any], None, f_chunk),
    f("mustCompact", &[Any], None, f_compact),
    f("mustFirst", &[Any], None, f_first),
    f("mustFromJson", &[Str], None, f_must_from_json),
    f("mustFromYaml", &[Str], None, f_must_from_yaml),
    f("mustHas", &[Any, Any], None, f_has),
    f("mustInitial", &[Any], None, f_initial),
    f("mustLast", &[Any], None, f_last),
    f("mustPrepend", &[Any, Any], None, f_prepend),
    f("mustPush", &[Any, Any], None, f_append),
    f("mustRegexFind", &[Str, Str], None, f_must_regex_find),
    f(
        "mustRegexFindAll",
        &[Str, Str, Int],
        None,
        f_must_regex_find_all,
    ),
    f("mustRegexMatch", &[Str, Str], None, f_must_regex_match),
    f(
        "mustRegexReplaceAll",
        &[Str, Str, Str],
        None,
        f_must_regex_replace_all,
    ),
    f(
        "mustRegexReplaceAllLiteral",
        &[Str, Str, Str],
        None,
        f_must_regex_replace_all_literal,
    ),
    f("mustRegexSplit", &[Str, Str, Int], None, f_must_regex_split),
    f("mustRest", &[Any], None, f_rest),
    f("mustReverse", &[Any], None, f_reverse),
    f("mustSlice", &[Any], Some(Any), f_slice),
    f("mustToJson", &[Any], None, f_to_json),
    f("mustToPrettyJson", &[Any], None, f_to_pretty_json),
    f("mustToRawJson", &[Any], None, f_to_raw_json),
    f("mustToYaml", &[Any], None, f_to_yaml),
    f("mustUniq", &[Any], None, f_uniq),
    f("mustWithout", &[Any], Some(Any), f_without),
    f("ne", &[Any, Any], None, f_ne),
    f("nindent", &[Int, Str], None, f_nindent),
    f("not", &[Any], None, f_not),
    f("now", &[], None, f_now),
    f("numCPU", &[], None, f_num_cpu),
    sp("omit", &[Map], Some(Str), f_omit, Special::None),
    sp("or", &[Any], Some(Any), f_unreachable, Special::Or),
    f("osBase", &[Str], None, f_base),
    f("osClean", &[Str], None, f_clean),
    f("osDir", &[Str], None, f_dir),
    f("osExt", &[Str], None, f_ext),
    f("osIsAbs", &[Str], None, f_is_abs),
    f("pick", &[Map], Some(Str), f_pick),
    f("pluck", &[Str], Some(Map), f_pluck),
    f("plural", &[Str, Str, Int], None, f_plural),
    f("prepend", &[Any, Any], None, f_prepend),
    f("print", &[], Some(Any), f_print),
    f("printf", &[Str], Some(Any), f_printf),
    f("println", &[], Some(Any), f_println),
    f("push", &[Any, Any], None, f_append),
    f("q", &[Str], None, f_shell_quote),
    f("quote", &[], Some(Any), f_quote),
    f("randInt", &[Int, Int], None, f_rand_int),
    f("randIntN", &[Int], None, f_rand_int_n),
    f("regexFind", &[Str, Str], None, f_regex_find),
    f("regexFindAll", &[Str, Str, Int], None, f_regex_find_all),
    f("regexMatch", &[Str, Str], None, f_regex_match),
    f("regexQuoteMeta", &[Str], None, f_regex_quote_meta),
    f(
        "regexReplaceAll",
        &[Str, Str, Str],
        None,
        f_regex_replace_all,
    ),
    f(
        "regexReplaceAllLiteral",
        &[Str, Str, Str],
        None,
        f_regex_replace_all_literal,
    ),
    f("regexSplit", &[Str, Str, Int], None, f_regex_split),
    f("relPath", &[Str, Str], None, f_rel_path),
    f("repeat", &[Int, Str], None, f_repeat),
    f("replace", &[Str, Str, Str], None, f_replace),
    f("rest", &[Any], None, f_rest),
    f("reverse", &[Any], None, f_reverse),
    f("round", &[Any, Int], Some(TFloat), f_round),
    f("seq", &[], Some(Int), f_seq),
    sp("set", &[Map, Str, Any], None, f_set, Special::Mutates),
    f("sha1sum", &[Str], None, f_sha1),
    f("sha256sum", &[Str], None, f_sha256),
    f("shellQuote", &[Str], None, f_shell_quote),
    f("slice", &[Any], Some(Any), f_slice),
    f("sortAlpha", &[Any], None, f_sort_alpha),
    f("spew", &[], Some(Any), f_spew),
    f("split", &[Str, Str], None, f_split),
    f("splitArgs", &[Str], None, f_split_args),
    f("splitLines", &[Str], None, f_split_lines),
    f("splitList", &[Str, Str], None, f_split_list),
    f("splitn", &[Str, Int, Str], None, f_splitn),
    f("squote", &[], Some(Any), f_squote),
    f("sub", &[Any, Any], None, f_sub),
    f("substr", &[Int, Int, Str], None, f_substr),
    f("ternary", &[Any, Any, TBool], None, f_ternary),
    f("title", &[Str], None, f_title),
    f("toDecimal", &[Any], None, f_to_decimal),
    f("toJson", &[Any], None, f_to_json),
    f("toPrettyJson", &[Any], None, f_to_pretty_json),
    f("toRawJson", &[Any], None, f_to_raw_json),
    f("toSlash", &[Str], None, f_identity),
    f("toString", &[Any], None, f_to_string),
    f("toStrings", &[Any], None, f_to_strings),
    f("toYaml", &[Any], None, f_to_yaml),
    f("trim", &[Str], None, f_trim),
    f("trimAll", &[Str, Str], None, f_trim_all),
    f("trimPrefix", &[Str, Str], None, f_trim_prefix),
    f("trimSuffix", &[Str, Str], None, f_trim_suffix),
    f("trimall", &[Str, Str], None, f_trim_all),
    f("trunc", &[Int, Str], None, f_trunc),
    f("tuple", &[], Some(Any), f_list),
    f("typeIs", &[Str, Any], None, f_type_is),
    f("typeIsLike", &[Str, Any], None, f_type_is_like),
    f("typeOf", &[Any], None, f_type_of),
    f("uniq", &[Any], None, f_uniq),
    f("unixEpoch", &[TTime], None, f_unix_epoch),
    sp("unset", &[Map, Str], None, f_unset, Special::Mutates),
    f("until", &[Int], None, f_until),
    f("untilStep", &[Int, Int, Int], None, f_until_step),
    f("upper", &[Str], None, f_upper),
    f("urlJoin", &[Map], None, f_url_join),
    f("urlParse", &[Str], None, f_url_parse),
    f("urlquery", &[], Some(Any), f_urlquery),
    f("uuid", &[], None, f_uuid),
    f("values", &[Map], None, f_values),
    f("without", &[Any], Some(Any), f_without),
];

/// The function of that name, if any.
pub(super) fn lookup(name: &str) -> Option<FuncId> {
    FUNCS
        .binary_search_by(|f| f.name.cmp(name))
        .ok()
        .map(|i| i as FuncId)
}

#[cfg(test)]
mod tests {
    #[test]
    fn table_is_sorted_and_unique() {
        for w in super::FUNCS.windows(2) {
            assert!(w[0].name < w[1].name, "{} before {}", w[0].name, w[1].name);
        }
    }
}
