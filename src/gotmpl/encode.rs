//! Data encodings as Go's libraries write them: `encoding/json` (sorted
//! keys, HTML-safe escapes, Go's float format), `yaml.v3` (4-space indent,
//! quoting of strings that would read back as something else), base32,
//! and go-spew's dump format.

use super::gofmt;
use super::value::{ints_to_floats, Value};

// ---------------------------------------------------------------- JSON

/// `json.Unmarshal` into `any`: numbers become float64.
pub(crate) fn from_json(s: &str) -> Result<Value, String> {
    let mut v: Value = serde_json::from_str(s).map_err(|e| e.to_string())?;
    ints_to_floats(&mut v);
    Ok(v)
}

/// `json.Marshal` (`html`: escape <, >, & as Go does by default), or
/// `MarshalIndent` with `indent`.
pub(crate) fn to_json(v: &Value, html: bool, indent: Option<&str>) -> String {
    let mut out = String::new();
    write_json(&mut out, v, html, indent, 0);
    out
}

fn newline(out: &mut String, indent: Option<&str>, level: usize) {
    if let Some(ind) = indent {
        out.push('\n');
        for _ in 0..level {
            out.push_str(ind);
        }
    }
}

fn write_json(out: &mut String, v: &Value, html: bool, indent: Option<&str>, level: usize) {
    match v {
        Value::Nil => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Int(i) => out.push_str(&i.to_string()),
        Value::Float(f) => out.push_str(&json_float(*f)),
        Value::String(s) => json_string(out, s, html),
        Value::Time(t) => {
            json_string(
                out,
                &super::gotime::format(t, "2006-01-02T15:04:05.999999999Z07:00"),
                html,
            );
        }
        Value::List(l) => {
            if l.is_empty() {
                out.push_str("[]");
                return;
            }
            out.push('[');
            for (i, e) in l.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                newline(out, indent, level + 1);
                write_json(out, e, html, indent, level + 1);
            }
            newline(out, indent, level);
            out.push(']');
        }
        Value::Map(m) => {
            if m.is_empty() {
                out.push_str("{}");
                return;
            }
            out.push('{');
            for (i, (k, e)) in Value::sorted_entries(m).into_iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                newline(out, indent, level + 1);
                json_string(out, k, html);
                out.push(':');
                if indent.is_some() {
                    out.push(' ');
                }
                write_json(out, e, html, indent, level + 1);
            }
            newline(out, indent, level);
            out.push('}');
        }
    }
}

/// encoding/json's float format: like ES6, %f unless the exponent is
/// below -6 or at least 21, then %e with a short exponent.
fn json_float(f: f64) -> String {
    if !f.is_finite() {
        // Go's Marshal fails here; toJson then prints nothing.
        return String::new();
    }
    let a = f.abs();
    if a != 0.0 && !(1e-6..1e21).contains(&a) {
        let s = gofmt::format_float(f, 'e', None);
        // e-07 -> e-7
        if let Some(p) = s.find("e-0") {
            return format!("{}e-{}", &s[..p], &s[p + 3..]);
        }
        if let Some(p) = s.find("e+0") {
            return format!("{}e+{}", &s[..p], &s[p + 3..]);
        }
        return s;
    }
    gofmt::format_float(f, 'f', None)
}

fn json_string(out: &mut String, s: &str, html: bool) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '<' | '>' | '&' if html => out.push_str(&format!("\\u{:04x}", c as u32)),
            '\u{2028}' | '\u{2029}' => out.push_str(&format!("\\u{:04x}", c as u32)),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

// ---------------------------------------------------------------- YAML

/// Reading YAML as yaml.v3 does: only `true`/`false` are booleans (not
/// YAML 1.1's `yes`, `n`, `on`...), and `0755` is octal. Nesting is capped
/// well below what would strain the stack.
pub(crate) fn yaml_options() -> serde_saphyr::Options {
    let mut budget = serde_saphyr::Budget::default();
    budget.max_depth = 40;
    budget.flow_nesting_limit = 40;
    serde_saphyr::options! {
        strict_booleans: true,
        legacy_octal_numbers: true,
        budget: Some(budget),
    }
}

pub(crate) fn from_yaml(s: &str) -> Result<Value, String> {
    if s.trim().is_empty() {
        return Ok(Value::Nil);
    }
    serde_saphyr::from_str_with_options::<Value>(s, yaml_options())
        .map_err(|e| e.to_string().lines().next().unwrap_or("").to_string())
}

/// `yaml.Marshal`.
pub(crate) fn to_yaml(v: &Value) -> String {
    let mut out = String::new();
    match v {
        Value::List(l) if !l.is_empty() => yaml_list(&mut out, l, 0),
        Value::Map(m) if !m.is_empty() => yaml_map(&mut out, m, 0),
        other => {
            yaml_scalar(&mut out, other, 0);
            out.push('\n');
        }
    }
    out
}

fn pad(out: &mut String, n: usize) {
    out.extend(std::iter::repeat_n(' ', n));
}

/// yaml.v3 indents nested blocks to the next multiple of four.
fn deeper(ind: usize) -> usize {
    4 * ((ind + 4) / 4)
}

/// A mapping whose first key is already positioned; later keys at `ind`.
fn yaml_map(out: &mut String, m: &indexmap::IndexMap<String, Value>, ind: usize) {
    for (i, (k, v)) in Value::sorted_entries(m).into_iter().enumerate() {
        if i > 0 {
            pad(out, ind);
        }
        yaml_str(out, k, ind);
        out.push(':');
        match v {
            Value::Map(m) if !m.is_empty() => {
                out.push('\n');
                pad(out, deeper(ind));
                yaml_map(out, m, deeper(ind));
            }
            Value::List(l) if !l.is_empty() => {
                out.push('\n');
                pad(out, deeper(ind));
                yaml_list(out, l, deeper(ind));
            }
            other => {
                out.push(' ');
                yaml_scalar(out, other, deeper(ind));
                out.push('\n');
            }
        }
    }
}

/// A sequence whose first dash is already positioned; later ones at `ind`.
fn yaml_list(out: &mut String, l: &[Value], ind: usize) {
    for (i, v) in l.iter().enumerate() {
        if i > 0 {
            pad(out, ind);
        }
        out.push_str("- ");
        match v {
            Value::Map(m) if !m.is_empty() => yaml_map(out, m, ind + 2),
            Value::List(l) if !l.is_empty() => yaml_list(out, l, ind + 2),
            other => {
                yaml_scalar(out, other, ind + 2);
                out.push('\n');
            }
        }
    }
}

fn yaml_scalar(out: &mut String, v: &Value, ind: usize) {
    match v {
        Value::Nil => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Int(i) => out.push_str(&i.to_string()),
        Value::Float(f) => out.push_str(&match gofmt::format_float(*f, 'g', None).as_str() {
            "+Inf" => ".inf".to_string(),
            "-Inf" => "-.inf".to_string(),
            "NaN" => ".nan".to_string(),
            s => s.to_string(),
        }),
        Value::String(s) => yaml_str(out, s, ind),
        Value::Time(t) => out.push_str(&super::gotime::format(
            t,
            "2006-01-02T15:04:05.999999999Z07:00",
        )),
        Value::List(_) => out.push_str("[]"),
        Value::Map(_) => out.push_str("{}"),
    }
}

/// Would this plain scalar read back as something other than a string?
fn resolves_non_string(s: &str) -> bool {
    if matches!(
        s,
        "" | "~"
            | "null"
            | "Null"
            | "NULL"
            | "true"
            | "True"
            | "TRUE"
            | "false"
            | "False"
            | "FALSE"
    ) {
        return true;
    }
    // yaml.v3 also quotes YAML 1.1 booleans.
    if matches!(
        s,
        "y" | "Y"
            | "yes"
            | "Yes"
            | "YES"
            | "on"
            | "On"
            | "ON"
            | "n"
            | "N"
            | "no"
            | "No"
            | "NO"
            | "off"
            | "Off"
            | "OFF"
    ) {
        return true;
    }
    if matches!(
        s,
        ".inf"
            | ".Inf"
            | ".INF"
            | "+.inf"
            | "+.Inf"
            | "+.INF"
            | "-.inf"
            | "-.Inf"
            | "-.INF"
            | ".nan"
            | ".NaN"
            | ".NAN"
    ) {
        return true;
    }
    let t = s.strip_prefix(['+', '-']).unwrap_or(s);
    let plain = t.replace('_', "");
    if !t.is_empty() {
        if let Some(h) = plain
            .strip_prefix("0x")
            .or_else(|| plain.strip_prefix("0o"))
            .or_else(|| plain.strip_prefix("0b"))
        {
            if !h.is_empty() && h.chars().all(|c| c.is_ascii_hexdigit()) {
                return true;
            }
        }
        if plain.chars().all(|c| c.is_ascii_digit()) && !plain.is_empty() {
            return true;
        }
        let num_like = plain
            .chars()
            .all(|c| c.is_ascii_digit() || matches!(c, '.' | 'e' | 'E' | '+' | '-'))
            && plain.chars().any(|c| c.is_ascii_digit());
        if num_like && plain.parse::<f64>().is_ok() {
            return true;
        }
        // Base 60 (1:20) and timestamps (2001-12-14).
        if t.contains(':')
            && t.split(':').all(|p| {
                !p.is_empty()
                    && p.chars()
                        .all(|c| c.is_ascii_digit() || c == '.' || c == '_')
            })
        {
            return true;
        }
        let b = t.as_bytes();
        if b.len() >= 10
            && b[4] == b'-'
            && b[..4].iter().all(u8::is_ascii_digit)
            && b[5].is_ascii_digit()
        {
            return true;
        }
    }
    false
}

fn plain_allowed(s: &str) -> bool {
    let b = s.as_bytes();
    if b.is_empty()
        || s.starts_with(' ')
        || s.ends_with(' ')
        || s.starts_with("---")
        || s.starts_with("...")
    {
        return false;
    }
    let followed_by_space = |i: usize| i + 1 >= b.len() || matches!(b[i + 1], b' ' | b'\t' | b'\n');
    for (i, &c) in b.iter().enumerate() {
        if c < 0x20 && c != b'\t' || c == 0x7f {
            return false;
        }
        if i == 0 {
            match c {
                b'#' | b',' | b'[' | b']' | b'{' | b'}' | b'&' | b'*' | b'!' | b'|' | b'>'
                | b'\'' | b'"' | b'%' | b'@' | b'`' => return false,
                b'?' | b':' | b'-' if followed_by_space(i) => return false,
                _ => {}
            }
        } else {
            match c {
                b':' if followed_by_space(i) => return false,
                b'#' if b[i - 1] == b' ' || b[i - 1] == b'\t' => return false,
                _ => {}
            }
        }
    }
    !s.contains('\t')
}

fn yaml_str(out: &mut String, s: &str, ind: usize) {
    if s.contains('\n') {
        // Literal block; "|-" when there is no final newline.
        let keep = if s.ends_with('\n') { "" } else { "-" };
        let lead = if s.starts_with(' ') { "4" } else { "" };
        out.push('|');
        out.push_str(lead);
        out.push_str(keep);
        let body = s.strip_suffix('\n').unwrap_or(s);
        for line in body.split('\n') {
            out.push('\n');
            if !line.is_empty() {
                pad(out, ind);
                out.push_str(line);
            }
        }
        return;
    }
    if !resolves_non_string(s) && plain_allowed(s) {
        out.push_str(s);
    } else if resolves_non_string(s) || s.chars().any(char::is_control) {
        yaml_double(out, s);
    } else {
        out.push('\'');
        out.push_str(&s.replace('\'', "''"));
        out.push('\'');
    }
}

fn yaml_double(out: &mut String, s: &str) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            '\0' => out.push_str("\\0"),
            c if c.is_control() => out.push_str(&format!("\\x{:02X}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
}

// ---------------------------------------------------------------- base64/32

/// `base64.StdEncoding.DecodeString`, failing with Go's message.
pub(crate) fn b64_decode(s: &str) -> Result<String, String> {
    use base64::Engine;
    match base64::engine::general_purpose::STANDARD.decode(s) {
        Ok(b) => Ok(String::from_utf8_lossy(&b).into_owned()),
        Err(base64::DecodeError::InvalidByte(off, _)) => {
            Err(format!("illegal base64 data at input byte {off}"))
        }
        Err(base64::DecodeError::InvalidLastSymbol(off, _)) => {
            Err(format!("illegal base64 data at input byte {off}"))
        }
        Err(_) => {
            // Length or padding: Go reports the start of the last quantum.
            Err(format!(
                "illegal base64 data at input byte {}",
                s.len() / 4 * 4
            ))
        }
    }
}

/// Go's `base32.StdEncoding` (RFC 4648, padded).
pub(crate) fn b32_encode(b: &[u8]) -> String {
    data_encoding::BASE32.encode(b)
}

/// Decodes as Go does; errors say what Go's say.
pub(crate) fn b32_decode(s: &str) -> Result<String, String> {
    data_encoding::BASE32
        .decode(s.as_bytes())
        .map(|bytes| String::from_utf8_lossy(&bytes).into_owned())
        .map_err(|e| format!("illegal base32 data at input byte {}", e.position))
}

// ---------------------------------------------------------------- spew

/// go-spew's `Sdump` of one value (without the final newline).
pub(crate) fn spew(out: &mut String, v: &Value, depth: usize) {
    let ind = " ".repeat(depth);
    match v {
        Value::Nil => out.push_str("(interface {}) <nil>"),
        Value::Bool(b) => out.push_str(&format!("(bool) {b}")),
        Value::Int(i) => out.push_str(&format!("(int) {i}")),
        Value::Float(f) => {
            out.push_str(&format!("(float64) {}", gofmt::format_float(*f, 'g', None)));
        }
        Value::String(s) => {
            out.push_str(&format!("(string) (len={}) {}", s.len(), gofmt::quote(s)));
        }
        Value::Time(t) => out.push_str(&format!("(time.Time) {}", super::gotime::time_string(t))),
        Value::List(l) => {
            out.push_str(&format!(
                "([]interface {{}}) (len={} cap={}) {{\n",
                l.len(),
                l.len()
            ));
            for (i, e) in l.iter().enumerate() {
                out.push_str(&ind);
                out.push(' ');
                spew(out, e, depth + 1);
                if i + 1 < l.len() {
                    out.push(',');
                }
                out.push('\n');
            }
            out.push_str(&ind);
            out.push('}');
        }
        Value::Map(m) => {
            out.push_str(&format!(
                "(map[string]interface {{}}) (len={}) {{\n",
                m.len()
            ));
            let entries = Value::sorted_entries(m);
            let n = entries.len();
            for (i, (k, e)) in entries.into_iter().enumerate() {
                out.push_str(&ind);
                out.push(' ');
                out.push_str(&format!("(string) (len={}) {}: ", k.len(), gofmt::quote(k)));
                spew(out, e, depth + 1);
                if i + 1 < n {
                    out.push(',');
                }
                out.push('\n');
            }
            out.push_str(&ind);
            out.push('}');
        }
    }
}
