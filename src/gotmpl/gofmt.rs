//! Go's `fmt` printing for template values: `%v` (what actions print),
//! `Sprint`/`Sprintln` (`print`/`println`), `Sprintf` (`printf`) with Go's
//! verbs, flags and its in-band error forms (`%!d(string=x)`, `%!s(MISSING)`,
//! `%!(EXTRA ...)`), and `strconv.Quote`.

use super::gotime;
use super::value::Value;

/// Go's `%v` of a value, appended to `out`.
pub(crate) fn write_v(out: &mut String, v: &Value) {
    let spec = Spec::default();
    print_arg(out, v, 'v', &spec, 0);
}

/// `fmt.Sprint`: operands are separated by a space when neither is a string.
pub(crate) fn sprint(args: &[Value]) -> String {
    let mut out = String::new();
    for (i, a) in args.iter().enumerate() {
        let is_str = matches!(a, Value::String(_));
        if i > 0 && !is_str && !matches!(args[i - 1], Value::String(_)) {
            out.push(' ');
        }
        write_v(&mut out, a);
    }
    out
}

/// `fmt.Sprintln`: operands always separated by spaces, newline at the end.
pub(crate) fn sprintln(args: &[Value]) -> String {
    let mut out = String::new();
    for (i, a) in args.iter().enumerate() {
        if i > 0 {
            out.push(' ');
        }
        write_v(&mut out, a);
    }
    out.push('\n');
    out
}

/// Go's limit on widths and precisions (larger ones are reported in-band).
const MAX_WIDTH: usize = 1_000_000;

#[derive(Default, Clone)]
struct Spec {
    sharp: bool,
    zero: bool,
    plus: bool,
    minus: bool,
    space: bool,
    sharp_v: bool,
    plus_v: bool,
    wid: Option<usize>,
    prec: Option<usize>,
}

/// `fmt.Sprintf` over template values.
pub(crate) fn sprintf(format: &str, args: &[Value]) -> String {
    let mut out = String::with_capacity(format.len() + 16);
    let b = format.as_bytes();
    let end = b.len();
    let mut i = 0;
    let mut arg_num = 0usize;
    let mut reordered = false;
    while i < end {
        let lasti = i;
        while i < end && b[i] != b'%' {
            i += 1;
        }
        out.push_str(&format[lasti..i]);
        if i >= end {
            break;
        }
        i += 1; // skip %
        let mut spec = Spec::default();
        while i < end {
            match b[i] {
                b'#' => spec.sharp = true,
                b'0' => spec.zero = !spec.minus,
                b'+' => spec.plus = true,
                b'-' => {
                    spec.minus = true;
                    spec.zero = false;
                }
                b' ' => spec.space = true,
                _ => break,
            }
            i += 1;
        }
        let mut good_arg_num = true;
        let mut after_index;
        (arg_num, i, after_index, good_arg_num) =
            arg_number(arg_num, format, i, args.len(), good_arg_num, &mut reordered);
        // width
        if i < end && b[i] == b'*' {
            i += 1;
            let (w, ok, next) = int_from_arg(args, arg_num);
            arg_num = next;
            if ok {
                spec.wid = Some(w.unsigned_abs() as usize);
                if w < 0 {
                    spec.minus = true;
                    spec.zero = false;
                }
            } else {
                out.push_str("%!(BADWIDTH)");
            }
            after_index = false;
        } else {
            let (n, ok, ni) = parse_num(b, i);
            if ok {
                spec.wid = Some(n);
                if after_index {
                    good_arg_num = false;
                }
            }
            i = ni;
        }
        // precision
        if i < end && b[i] == b'.' {
            i += 1;
            if after_index {
                good_arg_num = false;
            }
            (arg_num, i, after_index, good_arg_num) =
                arg_number(arg_num, format, i, args.len(), good_arg_num, &mut reordered);
            if i < end && b[i] == b'*' {
                i += 1;
                let (p, ok, next) = int_from_arg(args, arg_num);
                arg_num = next;
                if ok && p >= 0 {
                    spec.prec = Some(p as usize);
                } else {
                    out.push_str("%!(BADPREC)");
                }
                after_index = false;
            } else {
                let (n, ok, ni) = parse_num(b, i);
                i = ni;
                spec.prec = Some(if ok { n } else { 0 });
            }
        }
        if !after_index {
            (arg_num, i, _, good_arg_num) =
                arg_number(arg_num, format, i, args.len(), good_arg_num, &mut reordered);
        }
        if i >= end {
            out.push_str("%!(NOVERB)");
            break;
        }
        let verb = format[i..].chars().next().unwrap_or('?');
        i += verb.len_utf8();
        if verb == '%' {
            out.push('%');
            continue;
        }
        if !good_arg_num {
            out.push_str("%!");
            out.push(verb);
            out.push_str("(BADINDEX)");
            continue;
        }
        if arg_num >= args.len() {
            out.push_str("%!");
            out.push(verb);
            out.push_str("(MISSING)");
            continue;
        }
        if verb == 'v' {
            spec.sharp_v = spec.sharp;
            spec.sharp = false;
            spec.plus_v = spec.plus;
            spec.plus = false;
        }
        print_arg(&mut out, &args[arg_num], verb, &spec, 0);
        arg_num += 1;
    }
    if !reordered && arg_num < args.len() {
        out.push_str("%!(EXTRA ");
        for (k, a) in args[arg_num..].iter().enumerate() {
            if k > 0 {
                out.push_str(", ");
            }
            if matches!(a, Value::Nil) {
                out.push_str("<nil>");
            } else {
                out.push_str(a.go_type());
                out.push('=');
                write_v(&mut out, a);
            }
        }
        out.push(')');
    }
    out
}

/// fmt's `parsenum`: a number too long for a width swallows the rest of
/// the format.
fn parse_num(b: &[u8], mut i: usize) -> (usize, bool, usize) {
    let mut n: usize = 0;
    let mut is_num = false;
    while i < b.len() && b[i].is_ascii_digit() {
        if n > MAX_WIDTH {
            return (0, false, b.len());
        }
        n = n * 10 + (b[i] - b'0') as usize;
        is_num = true;
        i += 1;
    }
    (n, is_num, i)
}

/// Handles an explicit argument index `[n]`.
fn arg_number(
    arg_num: usize,
    format: &str,
    i: usize,
    num_args: usize,
    good: bool,
    reordered: &mut bool,
) -> (usize, usize, bool, bool) {
    let b = format.as_bytes();
    if i >= b.len() || b[i] != b'[' {
        return (arg_num, i, false, good);
    }
    *reordered = true;
    // find closing bracket
    let mut j = i + 1;
    while j < b.len() && b[j] != b']' {
        j += 1;
    }
    if j >= b.len() {
        return (arg_num, i + 1, false, false);
    }
    let (n, ok, ni) = parse_num(b, i + 1);
    if !ok || ni != j || n == 0 || n > num_args {
        return (arg_num, j + 1, true, false);
    }
    (n - 1, j + 1, true, good)
}

/// A `*` width or precision: (value, usable, next argument).
fn int_from_arg(args: &[Value], n: usize) -> (i64, bool, usize) {
    match args.get(n) {
        Some(Value::Int(i)) if i.unsigned_abs() <= MAX_WIDTH as u64 => (*i, true, n + 1),
        Some(_) => (0, false, n + 1),
        None => (0, false, n),
    }
}

fn bad_verb(out: &mut String, v: &Value, verb: char, spec: &Spec) {
    out.push_str("%!");
    out.push(verb);
    out.push('(');
    if matches!(v, Value::Nil) {
        out.push_str("<nil>");
    } else {
        out.push_str(v.go_type());
        out.push('=');
        let s = Spec {
            sharp: false,
            sharp_v: false,
            plus_v: false,
            ..spec.clone()
        };
        print_arg(out, v, 'v', &s, 0);
    }
    out.push(')');
}

fn print_arg(out: &mut String, v: &Value, verb: char, spec: &Spec, depth: usize) {
    if verb == 'T' {
        pad(out, v.go_type(), spec);
        return;
    }
    match v {
        Value::Nil => {
            if depth > 0 || verb == 'v' {
                pad(out, "<nil>", spec);
            } else {
                bad_verb(out, v, verb, spec);
            }
        }
        Value::Bool(b) => match verb {
            't' | 'v' => pad(out, if *b { "true" } else { "false" }, spec),
            _ => bad_verb(out, v, verb, spec),
        },
        Value::Int(i) => fmt_int(out, *i, verb, spec, v),
        Value::Float(f) => fmt_float_verb(out, *f, verb, spec, v),
        Value::String(s) => fmt_string(out, s, verb, spec, v),
        Value::Time(t) => match verb {
            'v' | 's' | 'x' | 'X' | 'q' => fmt_string(out, &gotime::time_string(t), verb, spec, v),
            _ => bad_verb(out, v, verb, spec),
        },
        Value::List(l) => {
            if spec.sharp_v {
                out.push_str("[]interface {}{");
                for (k, e) in l.iter().enumerate() {
                    if k > 0 {
                        out.push_str(", ");
                    }
                    print_sharp_elem(out, e, spec, depth);
                }
                out.push('}');
                return;
            }
            out.push('[');
            for (k, e) in l.iter().enumerate() {
                if k > 0 {
                    out.push(' ');
                }
                print_arg(out, e, verb, spec, depth + 1);
            }
            out.push(']');
        }
        Value::Map(m) => {
            if spec.sharp_v {
                out.push_str("map[string]interface {}{");
                for (k, (key, e)) in Value::sorted_entries(m).into_iter().enumerate() {
                    if k > 0 {
                        out.push_str(", ");
                    }
                    out.push_str(&quote(key));
                    out.push(':');
                    print_sharp_elem(out, e, spec, depth);
                }
                out.push('}');
                return;
            }
            out.push_str("map[");
            for (k, (key, e)) in Value::sorted_entries(m).into_iter().enumerate() {
                if k > 0 {
                    out.push(' ');
                }
                print_arg(out, &Value::String(key.clone()), verb, spec, depth + 1);
                out.push(':');
                print_arg(out, e, verb, spec, depth + 1);
            }
            out.push(']');
        }
    }
}

fn print_sharp_elem(out: &mut String, e: &Value, spec: &Spec, depth: usize) {
    match e {
        Value::Nil => out.push_str("interface {}(nil)"),
        _ => print_arg(out, e, 'v', spec, depth + 1),
    }
}

/// Pads to the width, counting runes; zeros when the `0` flag is set.
fn pad(out: &mut String, s: &str, spec: &Spec) {
    let Some(wid) = spec.wid else {
        out.push_str(s);
        return;
    };
    let n = s.chars().count();
    if n >= wid {
        out.push_str(s);
        return;
    }
    let fill = if spec.zero && !spec.minus { '0' } else { ' ' };
    if spec.minus {
        out.push_str(s);
        out.extend(std::iter::repeat_n(' ', wid - n));
    } else {
        out.extend(std::iter::repeat_n(fill, wid - n));
        out.push_str(s);
    }
}

fn pad_no_zero(out: &mut String, s: &str, spec: &Spec) {
    let s2 = Spec {
        zero: false,
        ..spec.clone()
    };
    pad(out, s, &s2);
}

fn fmt_int(out: &mut String, i: i64, verb: char, spec: &Spec, v: &Value) {
    match verb {
        'v' => {
            if spec.sharp_v {
                // %#v of an int is its decimal form.
                fmt_integer(out, i, 10, verb, false, spec);
            } else {
                fmt_integer(out, i, 10, verb, false, spec);
            }
        }
        'd' => fmt_integer(out, i, 10, verb, false, spec),
        'b' => fmt_integer(out, i, 2, verb, false, spec),
        'o' | 'O' => fmt_integer(out, i, 8, verb, false, spec),
        'x' => fmt_integer(out, i, 16, verb, false, spec),
        'X' => fmt_integer(out, i, 16, verb, true, spec),
        'c' => {
            let c = u32::try_from(i)
                .ok()
                .and_then(char::from_u32)
                .unwrap_or('\u{FFFD}');
            pad(out, c.encode_utf8(&mut [0; 4]), spec);
        }
        'q' => {
            let c = u32::try_from(i)
                .ok()
                .and_then(char::from_u32)
                .unwrap_or('\u{FFFD}');
            pad(out, &quote_rune(c, spec.plus), spec);
        }
        'U' => {
            let mut s = format!("U+{:04X}", i as u64);
            if let Some(p) = spec.prec {
                let digits = format!("{:X}", i as u64);
                if p > digits.len() {
                    s = format!("U+{}{}", "0".repeat(p - digits.len()), digits);
                }
            }
            if spec.sharp {
                if let Some(c) = u32::try_from(i).ok().and_then(char::from_u32) {
                    if is_print(c) {
                        s.push_str(" '");
                        s.push(c);
                        s.push('\'');
                    }
                }
            }
            pad_no_zero(out, &s, spec);
        }
        _ => bad_verb(out, v, verb, spec),
    }
}

fn fmt_integer(out: &mut String, i: i64, base: u32, verb: char, upper: bool, spec: &Spec) {
    let negative = i < 0;
    let u = i.unsigned_abs();
    let mut prec = 0usize;
    if let Some(p) = spec.prec {
        prec = p;
        if p == 0 && u == 0 {
            if let Some(w) = spec.wid {
                out.extend(std::iter::repeat_n(' ', w));
            }
            return;
        }
    } else if spec.zero && !spec.minus {
        if let Some(w) = spec.wid {
            prec = w;
            if negative || spec.plus || spec.space {
                prec = prec.saturating_sub(1);
            }
        }
    }
    let mut digits = match base {
        2 => format!("{u:b}"),
        8 => format!("{u:o}"),
        16 if upper => format!("{u:X}"),
        16 => format!("{u:x}"),
        _ => u.to_string(),
    };
    if prec > digits.len() {
        digits = "0".repeat(prec - digits.len()) + &digits;
    }
    let mut s = String::new();
    if negative {
        s.push('-');
    } else if spec.plus {
        s.push('+');
    } else if spec.space {
        s.push(' ');
    }
    if spec.sharp {
        match base {
            2 => s.push_str("0b"),
            8 if !digits.starts_with('0') => s.push('0'),
            16 => s.push_str(if upper { "0X" } else { "0x" }),
            _ => {}
        }
    }
    if verb == 'O' {
        s.push_str("0o");
    }
    s.push_str(&digits);
    pad_no_zero(out, &s, spec);
}

fn fmt_float_verb(out: &mut String, f: f64, verb: char, spec: &Spec, v: &Value) {
    let (fverb, default_prec) = match verb {
        'v' => ('g', None),
        'g' | 'G' | 'x' | 'X' | 'b' => (verb, None),
        'e' | 'E' | 'f' => (verb, Some(6)),
        'F' => ('f', Some(6)),
        _ => return bad_verb(out, v, verb, spec),
    };
    let prec = if fverb == 'b' {
        None
    } else {
        spec.prec.or(default_prec)
    };
    let mut num = match fverb {
        'x' | 'X' => format_hex_float(f, prec, fverb == 'X'),
        'b' => format_bin_float(f),
        _ => format_float(f, fverb, prec),
    };
    if spec.sharp && fverb != 'b' && !num.contains(['I', 'N']) {
        sharp_float(&mut num, fverb, prec);
    }
    let (sign, body) = match num.strip_prefix('-') {
        Some(rest) => ('-', rest.to_string()),
        None => ('+', num),
    };
    let sign = if sign == '+' && spec.space && !spec.plus {
        ' '
    } else {
        sign
    };
    if body == "Inf" || body == "NaN" {
        let mut s = String::new();
        if body == "NaN" && !spec.space && !spec.plus {
            s.push_str("NaN");
        } else {
            s.push(sign);
            s.push_str(&body);
        }
        pad_no_zero(out, &s, spec);
        return;
    }
    if spec.plus || sign != '+' {
        let len = 1 + body.len();
        if spec.zero && !spec.minus {
            if let Some(w) = spec.wid {
                if w > len {
                    out.push(sign);
                    out.extend(std::iter::repeat_n('0', w - len));
                    out.push_str(&body);
                    return;
                }
            }
        }
        let mut s = String::with_capacity(len);
        s.push(sign);
        s.push_str(&body);
        pad(out, &s, spec);
        return;
    }
    pad(out, &body, spec);
}

/// The `#` flag (fmt's rules): always a decimal point, and for %g/%x
/// trailing zeros up to the precision (6 by default).
fn sharp_float(num: &mut String, verb: char, prec: Option<usize>) {
    let mut digits: i64 = match verb {
        'g' | 'G' | 'x' | 'X' => prec.map_or(6, |p| p as i64),
        _ => 0,
    };
    let (sign, body) = match num.strip_prefix(['-', '+']) {
        Some(rest) => (num[..1].to_string(), rest.to_string()),
        None => (String::new(), num.clone()),
    };
    let mut mant = String::new();
    let mut tail = String::new();
    let mut has_point = false;
    let mut saw_nonzero = false;
    for (i, c) in body.char_indices() {
        match c {
            '.' => {
                has_point = true;
                mant.push(c);
            }
            'p' | 'P' => {
                tail = body[i..].to_string();
                break;
            }
            'e' | 'E' if verb != 'x' && verb != 'X' => {
                tail = body[i..].to_string();
                break;
            }
            _ => {
                if c != '0' {
                    saw_nonzero = true;
                }
                if saw_nonzero {
                    digits -= 1;
                }
                mant.push(c);
            }
        }
    }
    if !has_point {
        if mant == "0" {
            digits -= 1;
        }
        mant.push('.');
    }
    while digits > 0 {
        mant.push('0');
        digits -= 1;
    }
    *num = sign + &mant + &tail;
}

/// strconv's %x for floats: hexadecimal mantissa, binary exponent.
fn format_hex_float(f: f64, prec: Option<usize>, upper: bool) -> String {
    if !f.is_finite() {
        return format_float(f, 'g', None);
    }
    let neg = f.is_sign_negative();
    let bits = f.to_bits();
    let mut exp = ((bits >> 52) & 0x7ff) as i64;
    let mut mant = bits & ((1 << 52) - 1);
    if exp == 0 {
        if mant != 0 {
            // Subnormal: normalise.
            exp = -1022;
            while mant & (1 << 52) == 0 {
                mant <<= 1;
                exp -= 1;
            }
            mant &= (1 << 52) - 1;
        }
    } else {
        exp -= 1023;
    }
    let zero = f == 0.0;
    if zero {
        exp = 0;
    }
    let lead = u64::from(!zero);
    // 52 bits are 13 hex digits of fraction.
    let mut frac = mant;
    let mut ndig = 13usize;
    if let Some(p) = prec {
        if p < 13 {
            let shift = (13 - p) * 4;
            let rem = frac & ((1u64 << shift) - 1);
            frac >>= shift;
            let half = 1u64 << (shift - 1);
            if rem > half || (rem == half && frac & 1 == 1) {
                frac += 1;
                if p == 0 || frac >> (p * 4) != 0 {
                    // Carried into the leading digit: 1.fff.. -> 2.0 = 1.0p+1
                    frac = 0;
                    exp += 1;
                }
            }
            ndig = p;
        }
    }
    let mut hex = if ndig > 0 {
        format!("{frac:0ndig$x}")
    } else {
        String::new()
    };
    match prec {
        None => {
            while hex.ends_with('0') {
                hex.pop();
            }
        }
        Some(p) => {
            while hex.len() < p {
                hex.push('0');
            }
        }
    }
    let mut s = String::new();
    if neg {
        s.push('-');
    }
    s.push_str("0x");
    s.push_str(&lead.to_string());
    if !hex.is_empty() {
        s.push('.');
        s.push_str(&hex);
    }
    s.push('p');
    s.push(if exp < 0 { '-' } else { '+' });
    let e = exp.unsigned_abs();
    if e < 10 {
        s.push('0');
    }
    s.push_str(&e.to_string());
    if upper {
        s = s.to_uppercase();
    }
    s
}

/// strconv's %b for floats: decimal mantissa, binary exponent.
fn format_bin_float(f: f64) -> String {
    if !f.is_finite() {
        return format_float(f, 'g', None);
    }
    let bits = f.to_bits();
    let exp = ((bits >> 52) & 0x7ff) as i64;
    let mut mant = bits & ((1 << 52) - 1);
    let e = if exp == 0 {
        -1074
    } else {
        mant |= 1 << 52;
        exp - 1075
    };
    let sign = if f.is_sign_negative() { "-" } else { "" };
    format!(
        "{sign}{mant}p{}{}",
        if e >= 0 { "+" } else { "-" },
        e.unsigned_abs()
    )
}

/// `strconv.FormatFloat(f, verb, prec, 64)` for verbs e, E, f, g, G; `prec`
/// None is the shortest representation that reads back exactly.
pub(crate) fn format_float(f: f64, verb: char, prec: Option<usize>) -> String {
    if f.is_nan() {
        return "NaN".into();
    }
    if f.is_infinite() {
        return if f > 0.0 {
            "+Inf".into()
        } else {
            "-Inf".into()
        };
    }
    let neg = f.is_sign_negative();
    let mut out = String::new();
    if neg {
        out.push('-');
    }
    let a = f.abs();
    match verb {
        'f' => {
            let p = if let Some(p) = prec {
                p
            } else {
                let (d, dp) = digits_shortest(a);
                (d.len() as i64 - i64::from(dp)).max(0) as usize
            };
            out.push_str(&format!("{a:.p$}"));
        }
        'e' | 'E' => {
            let (d, dp, p) = match prec {
                None => {
                    let (d, dp) = digits_shortest(a);
                    let p = d.len().saturating_sub(1);
                    (d, dp, p)
                }
                Some(p) => {
                    let (d, dp) = digits_prec(a, p + 1);
                    (d, dp, p)
                }
            };
            fmt_e(&mut out, &d, dp, p, verb);
        }
        _ => {
            // g, G
            let shortest = prec.is_none();
            let (d, dp, mut p) = match prec {
                None => {
                    let (d, dp) = digits_shortest(a);
                    let n = d.len();
                    (d, dp, n)
                }
                Some(p) => {
                    let p = p.max(1);
                    let (d, dp) = digits_prec(a, p);
                    (d, dp, p)
                }
            };
            let nd = d.len() as i64;
            let dpi = i64::from(dp);
            let mut eprec = p as i64;
            if eprec > nd && nd >= dpi {
                eprec = nd;
            }
            if shortest {
                eprec = 6;
            }
            let exp = dpi - 1;
            if exp < -4 || exp >= eprec {
                if p as i64 > nd {
                    p = nd as usize;
                }
                let e = if verb == 'G' { 'E' } else { 'e' };
                fmt_e(&mut out, &d, dp, p.saturating_sub(1), e);
            } else {
                if p as i64 > dpi {
                    p = nd as usize;
                }
                fmt_f(&mut out, &d, dp, (p as i64 - dpi).max(0) as usize);
            }
        }
    }
    out
}

/// Shortest decimal digits of a finite non-negative float and the position
/// of the decimal point (digits 0.d1d2... × 10^dp). Zero has no digits.
fn digits_shortest(a: f64) -> (Vec<u8>, i32) {
    if a == 0.0 {
        return (Vec::new(), 0);
    }
    parse_e(&format!("{a:e}"))
}

/// `n` significant digits, correctly rounded, trailing zeros trimmed.
fn digits_prec(a: f64, n: usize) -> (Vec<u8>, i32) {
    if a == 0.0 {
        return (Vec::new(), 0);
    }
    parse_e(&format!("{:.*e}", n.saturating_sub(1), a))
}

fn parse_e(s: &str) -> (Vec<u8>, i32) {
    let (m, e) = s.split_once('e').unwrap_or((s, "0"));
    let mut d: Vec<u8> = m.bytes().filter(u8::is_ascii_digit).collect();
    while d.last() == Some(&b'0') {
        d.pop();
    }
    let exp: i32 = e.parse().unwrap_or(0);
    if d.is_empty() {
        return (d, 0);
    }
    (d, exp + 1)
}

fn fmt_e(out: &mut String, d: &[u8], dp: i32, prec: usize, e: char) {
    out.push(d.first().map_or('0', |&c| c as char));
    if prec > 0 {
        out.push('.');
        let mut i = 1;
        let m = d.len().min(prec + 1);
        if i < m {
            out.push_str(std::str::from_utf8(&d[i..m]).unwrap_or(""));
            i = m;
        }
        while i <= prec {
            out.push('0');
            i += 1;
        }
    }
    out.push(e);
    let exp = if d.is_empty() { 0 } else { dp - 1 };
    out.push(if exp < 0 { '-' } else { '+' });
    let exp = exp.unsigned_abs();
    if exp < 10 {
        out.push('0');
    }
    out.push_str(&exp.to_string());
}

fn fmt_f(out: &mut String, d: &[u8], dp: i32, prec: usize) {
    if dp > 0 {
        let dp = dp as usize;
        let m = d.len().min(dp);
        out.push_str(std::str::from_utf8(&d[..m]).unwrap_or(""));
        out.extend(std::iter::repeat_n('0', dp - m));
    } else {
        out.push('0');
    }
    if prec > 0 {
        out.push('.');
        for i in 1..=prec as i64 {
            let j = i64::from(dp) + i - 1;
            let c = if j >= 0 && (j as usize) < d.len() {
                d[j as usize] as char
            } else {
                '0'
            };
            out.push(c);
        }
    }
}

fn fmt_string(out: &mut String, s: &str, verb: char, spec: &Spec, v: &Value) {
    match verb {
        'v' => {
            if spec.sharp_v {
                pad(out, &quote(s), spec);
            } else {
                fmt_s(out, s, spec);
            }
        }
        's' => fmt_s(out, s, spec),
        'x' | 'X' => fmt_sx(out, s.as_bytes(), verb == 'X', spec),
        'q' => {
            let s = truncate(s, spec.prec);
            let q = if spec.sharp && can_backquote(s) {
                format!("`{s}`")
            } else if spec.plus {
                quote_ascii(s)
            } else {
                quote(s)
            };
            pad(out, &q, spec);
        }
        _ => bad_verb(out, v, verb, spec),
    }
}

fn truncate(s: &str, prec: Option<usize>) -> &str {
    match prec {
        Some(p) => match s.char_indices().nth(p) {
            Some((i, _)) => &s[..i],
            None => s,
        },
        None => s,
    }
}

fn fmt_s(out: &mut String, s: &str, spec: &Spec) {
    pad(out, truncate(s, spec.prec), spec);
}

fn fmt_sx(out: &mut String, b: &[u8], upper: bool, spec: &Spec) {
    let digits: &[u8; 16] = if upper {
        b"0123456789ABCDEF"
    } else {
        b"0123456789abcdef"
    };
    let n = spec.prec.map_or(b.len(), |p| p.min(b.len()));
    let mut s = String::new();
    for (k, &c) in b[..n].iter().enumerate() {
        if spec.space && k > 0 {
            s.push(' ');
        }
        if spec.sharp && (spec.space || k == 0) {
            s.push_str(if upper { "0X" } else { "0x" });
        }
        s.push(digits[(c >> 4) as usize] as char);
        s.push(digits[(c & 15) as usize] as char);
    }
    if n == 0 {
        // Go pads an empty hex string with spaces only.
        if let Some(w) = spec.wid {
            out.extend(std::iter::repeat_n(' ', w));
        }
        return;
    }
    pad_no_zero(out, &s, spec);
}

fn can_backquote(s: &str) -> bool {
    s.chars()
        .all(|c| c != '`' && c != '\u{FEFF}' && (c == '\t' || !c.is_control()))
}

/// Go's `unicode.IsPrint`, close enough: letters, marks, numbers,
/// punctuation, symbols and the ASCII space.
pub(crate) fn is_print(c: char) -> bool {
    if c.is_ascii() {
        return (' '..='~').contains(&c);
    }
    !(c.is_control()
        || c.is_whitespace()
        || matches!(c,
            '\u{00AD}' | '\u{0600}'..='\u{0605}' | '\u{061C}' | '\u{06DD}' | '\u{070F}'
            | '\u{180E}' | '\u{200B}'..='\u{200F}' | '\u{202A}'..='\u{202E}'
            | '\u{2060}'..='\u{206F}' | '\u{FEFF}' | '\u{FFF9}'..='\u{FFFB}'
            | '\u{E000}'..='\u{F8FF}' | '\u{F0000}'..='\u{10FFFF}'
            | '\u{FDD0}'..='\u{FDEF}' | '\u{FFFE}' | '\u{FFFF}'))
}

fn push_escaped(out: &mut String, c: char, quote_ch: char, ascii_only: bool) {
    if c == quote_ch || c == '\\' {
        out.push('\\');
        out.push(c);
        return;
    }
    if ascii_only {
        if c.is_ascii() && is_print(c) {
            out.push(c);
            return;
        }
    } else if is_print(c) {
        out.push(c);
        return;
    }
    match c {
        '\u{7}' => out.push_str("\\a"),
        '\u{8}' => out.push_str("\\b"),
        '\u{c}' => out.push_str("\\f"),
        '\n' => out.push_str("\\n"),
        '\r' => out.push_str("\\r"),
        '\t' => out.push_str("\\t"),
        '\u{b}' => out.push_str("\\v"),
        c if (c as u32) < 0x20 || c as u32 == 0x7f => {
            out.push_str(&format!("\\x{:02x}", c as u32));
        }
        c if (c as u32) < 0x10000 => out.push_str(&format!("\\u{:04x}", c as u32)),
        c => out.push_str(&format!("\\U{:08x}", c as u32)),
    }
}

/// `strconv.Quote`.
pub(crate) fn quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        push_escaped(&mut out, c, '"', false);
    }
    out.push('"');
    out
}

/// `strconv.QuoteToASCII`.
pub(crate) fn quote_ascii(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        push_escaped(&mut out, c, '"', true);
    }
    out.push('"');
    out
}

fn quote_rune(c: char, ascii_only: bool) -> String {
    let mut out = String::from("'");
    push_escaped(&mut out, c, '\'', ascii_only);
    out.push('\'');
    out
}
