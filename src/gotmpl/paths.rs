//! Go's `path`/`path/filepath` (Unix rules) and the bits of `net/url` the
//! template functions expose.

use super::value::Value;
use indexmap::IndexMap;

/// `path.Clean`.
pub(crate) fn clean(p: &str) -> String {
    if p.is_empty() {
        return ".".into();
    }
    let rooted = p.starts_with('/');
    let mut stack: Vec<&str> = Vec::new();
    for comp in p.split('/') {
        match comp {
            "" | "." => {}
            ".." => {
                if stack.last().is_some_and(|l| *l != "..") {
                    stack.pop();
                } else if !rooted {
                    stack.push("..");
                }
            }
            c => stack.push(c),
        }
    }
    let joined = stack.join("/");
    match (rooted, joined.is_empty()) {
        (true, _) => format!("/{joined}"),
        (false, true) => ".".into(),
        (false, false) => joined,
    }
}

/// `path.Base`.
pub(crate) fn base(p: &str) -> String {
    if p.is_empty() {
        return ".".into();
    }
    let t = p.trim_end_matches('/');
    if t.is_empty() {
        return "/".into();
    }
    match t.rfind('/') {
        Some(i) => t[i + 1..].to_string(),
        None => t.to_string(),
    }
}

/// `path.Dir`.
pub(crate) fn dir(p: &str) -> String {
    let d = match p.rfind('/') {
        Some(i) => &p[..=i],
        None => "",
    };
    clean(d)
}

/// `path.Ext`.
pub(crate) fn ext(p: &str) -> String {
    for (i, c) in p.char_indices().rev() {
        if c == '/' {
            break;
        }
        if c == '.' {
            return p[i..].to_string();
        }
    }
    String::new()
}

/// `filepath.Join`.
pub(crate) fn join(parts: &[&str]) -> String {
    let non_empty: Vec<&str> = parts.iter().copied().filter(|p| !p.is_empty()).collect();
    if non_empty.is_empty() {
        return String::new();
    }
    clean(&non_empty.join("/"))
}

/// `filepath.Rel`.
pub(crate) fn rel(basepath: &str, targpath: &str) -> Result<String, String> {
    let mut base = clean(basepath);
    let targ = clean(targpath);
    if targ == base {
        return Ok(".".into());
    }
    if base == "." {
        base = String::new();
    }
    let cant = || format!("Rel: can't make {targpath} relative to {basepath}");
    if base.starts_with('/') != targ.starts_with('/') {
        return Err(cant());
    }
    let (b, t) = (base.as_bytes(), targ.as_bytes());
    let (bl, tl) = (b.len(), t.len());
    let (mut b0, mut bi, mut t0, mut ti) = (0, 0, 0, 0);
    loop {
        while bi < bl && b[bi] != b'/' {
            bi += 1;
        }
        while ti < tl && t[ti] != b'/' {
            ti += 1;
        }
        if targ[t0..ti] != base[b0..bi] {
            break;
        }
        if bi < bl {
            bi += 1;
        }
        if ti < tl {
            ti += 1;
        }
        b0 = bi;
        t0 = ti;
        if b0 >= bl && t0 >= tl {
            break;
        }
    }
    if &base[b0..bi] == ".." {
        return Err(cant());
    }
    if b0 != bl {
        let seps = base[b0..bl].matches('/').count();
        let mut out = String::from("..");
        for _ in 0..seps {
            out.push_str("/..");
        }
        if t0 != tl {
            out.push('/');
            out.push_str(&targ[t0..]);
        }
        return Ok(out);
    }
    Ok(targ[t0..].to_string())
}

fn hex_upper(b: u8) -> [char; 3] {
    const D: &[u8; 16] = b"0123456789ABCDEF";
    [
        '%',
        D[(b >> 4) as usize] as char,
        D[(b & 15) as usize] as char,
    ]
}

/// `url.QueryEscape`.
pub(crate) fn query_escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for &b in s.as_bytes() {
        match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                out.push(b as char);
            }
            b' ' => out.push('+'),
            b => out.extend(hex_upper(b)),
        }
    }
    out
}

fn escape_with(s: &str, keep: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for &b in s.as_bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) || keep.as_bytes().contains(&b) {
            out.push(b as char);
        } else {
            out.extend(hex_upper(b));
        }
    }
    out
}

fn path_escape(s: &str) -> String {
    escape_with(s, "!$&'()*+,;=:@/")
}

fn unescape(s: &str) -> Result<String, String> {
    let b = s.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        if b[i] == b'%' {
            let hex = s
                .get(i + 1..i + 3)
                .filter(|h| h.bytes().all(|c| c.is_ascii_hexdigit()));
            let Some(h) = hex else {
                let end = (i + 3).min(s.len());
                return Err(format!(
                    "invalid URL escape {}",
                    super::gofmt::quote(s.get(i..end).unwrap_or("%"))
                ));
            };
            out.push(u8::from_str_radix(h, 16).unwrap_or(0));
            i += 3;
        } else {
            out.push(b[i]);
            i += 1;
        }
    }
    Ok(String::from_utf8_lossy(&out).into_owned())
}

#[derive(Default)]
struct Url {
    scheme: String,
    opaque: String,
    userinfo: String,
    host: String,
    path: String,
    raw_query: String,
    fragment: String,
}

fn parse_url(raw: &str) -> Result<Url, String> {
    let mut u = Url::default();
    let (rest, frag) = match raw.split_once('#') {
        Some((r, f)) => (r, Some(f)),
        None => (raw, None),
    };
    if let Some(f) = frag {
        u.fragment = unescape(f)?;
    }
    let mut rest = rest;
    // Scheme.
    for (i, c) in rest.char_indices() {
        if c.is_ascii_alphabetic() {
            continue;
        }
        if i > 0 && (c.is_ascii_digit() || matches!(c, '+' | '-' | '.')) {
            continue;
        }
        if c == ':' {
            if i == 0 {
                return Err(format!(
                    "parse {}: missing protocol scheme",
                    super::gofmt::quote(raw)
                ));
            }
            u.scheme = rest[..i].to_ascii_lowercase();
            rest = &rest[i + 1..];
        }
        break;
    }
    if let Some((r, q)) = rest.split_once('?') {
        u.raw_query = q.to_string();
        rest = r;
    }
    if !u.scheme.is_empty() && !rest.starts_with('/') && !rest.is_empty() {
        u.opaque = rest.to_string();
        return Ok(u);
    }
    if let Some(auth_rest) = rest.strip_prefix("//") {
        let end = auth_rest.find('/').unwrap_or(auth_rest.len());
        let auth = &auth_rest[..end];
        rest = &auth_rest[end..];
        let host = match auth.rfind('@') {
            Some(at) => {
                u.userinfo = auth[..at].to_string();
                &auth[at + 1..]
            }
            None => auth,
        };
        u.host = unescape(host)?;
    }
    u.path = unescape(rest)?;
    Ok(u)
}

fn hostname(host: &str) -> String {
    if let Some(inner) = host.strip_prefix('[') {
        return inner.split(']').next().unwrap_or("").to_string();
    }
    match host.rfind(':') {
        Some(i) => host[..i].to_string(),
        None => host.to_string(),
    }
}

fn url_string(u: &Url) -> String {
    let mut out = String::new();
    if !u.scheme.is_empty() {
        out.push_str(&u.scheme);
        out.push(':');
    }
    if u.opaque.is_empty() {
        if !u.scheme.is_empty() || !u.host.is_empty() || !u.userinfo.is_empty() {
            if !u.host.is_empty() || !u.path.is_empty() || !u.userinfo.is_empty() {
                out.push_str("//");
            }
            if !u.userinfo.is_empty() {
                out.push_str(&u.userinfo);
                out.push('@');
            }
            out.push_str(&escape_with(&u.host, "!$&'()*+,;=:[]"));
        }
        let p = path_escape(&u.path);
        if !p.is_empty() && !p.starts_with('/') && !u.host.is_empty() {
            out.push('/');
        }
        out.push_str(&p);
    } else {
        out.push_str(&u.opaque);
    }
    if !u.raw_query.is_empty() {
        out.push('?');
        out.push_str(&u.raw_query);
    }
    if !u.fragment.is_empty() {
        out.push('#');
        out.push_str(&escape_with(&u.fragment, "!$&'()*+,;=:@/?"));
    }
    out
}

/// sprig's `urlParse`.
pub(crate) fn url_parse(raw: &str) -> Result<IndexMap<String, Value>, String> {
    let u = parse_url(raw).map_err(|e| format!("unable to parse url: {e}"))?;
    let mut m = IndexMap::new();
    let s = |v: &str| Value::String(v.to_string());
    m.insert("scheme".into(), s(&u.scheme));
    m.insert("host".into(), s(&u.host));
    m.insert("hostname".into(), s(&hostname(&u.host)));
    m.insert("path".into(), s(&u.path));
    m.insert("query".into(), s(&u.raw_query));
    m.insert("opaque".into(), s(&u.opaque));
    m.insert("fragment".into(), s(&u.fragment));
    m.insert("userinfo".into(), s(&u.userinfo));
    Ok(m)
}

/// sprig's `urlJoin`.
pub(crate) fn url_join(d: &IndexMap<String, Value>) -> Result<String, String> {
    let get = |k: &str| -> Result<String, String> {
        match d.get(k) {
            None => Ok(String::new()),
            Some(Value::String(s)) => Ok(s.clone()),
            Some(other) => Err(format!(
                "unable to parse {k} key, must be of type string, but {} found",
                other.go_kind()
            )),
        }
    };
    let u = Url {
        scheme: get("scheme")?,
        host: get("host")?,
        path: get("path")?,
        raw_query: get("query")?,
        opaque: get("opaque")?,
        fragment: get("fragment")?,
        userinfo: get("userinfo")?,
    };
    Ok(url_string(&u))
}

/// go-task's `joinUrl` (`url.JoinPath`).
pub(crate) fn join_url(elems: &[&str]) -> Result<String, String> {
    let Some(first) = elems.first() else {
        return Ok(String::new());
    };
    let mut u = parse_url(first)?;
    let mut parts: Vec<String> = vec![path_escape(&u.path)];
    parts.extend(elems[1..].iter().map(std::string::ToString::to_string));
    let last_slash = parts.last().is_some_and(|p| p.ends_with('/'));
    let joined_raw = parts
        .iter()
        .filter(|p| !p.is_empty())
        .cloned()
        .collect::<Vec<_>>()
        .join("/");
    let mut p = if parts[0].starts_with('/') {
        clean(&joined_raw)
    } else {
        let c = clean(&format!("/{joined_raw}"));
        c[1..].to_string()
    };
    if last_slash && !p.ends_with('/') {
        p.push('/');
    }
    u.path = unescape(&p)?;
    Ok(url_string(&u))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clean_like_go() {
        for (i, o) in [
            ("", "."),
            ("a/b/../c", "a/c"),
            ("/../a", "/a"),
            ("../../a", "../../a"),
            ("a//b/./", "a/b"),
            ("/", "/"),
            ("./", "."),
        ] {
            assert_eq!(clean(i), o, "{i}");
        }
    }

    #[test]
    fn rel_like_go() {
        assert_eq!(rel("/a/b", "/a/b/c/d").unwrap(), "c/d");
        assert_eq!(rel("/a/b/c", "/a/x").unwrap(), "../../x");
        assert_eq!(rel("a", "a").unwrap(), ".");
        assert_eq!(rel(".", "a/b").unwrap(), "a/b");
        assert!(rel("/a", "b").is_err());
        assert_eq!(rel("/", "/a").unwrap(), "a");
    }
}
