//! The linear-time glob against the backtracking matcher it replaced (kept
//! here as the reference), on patterns and paths small enough for the
//! reference to finish.

use super::*;
use proptest::prelude::*;
use std::collections::HashSet;

/// The matcher hoist used before fuzzing found it exponential on `*a*a*a…`.
fn reference(
    tokens: &[Token],
    t: usize,
    s: &[char],
    i: usize,
    failed: &mut HashSet<(usize, usize)>,
) -> bool {
    if failed.contains(&(t, i)) {
        return false;
    }
    let result = match tokens.get(t) {
        None => i == s.len(),
        Some(Token::Star) => {
            let mut j = i;
            loop {
                if reference(tokens, t + 1, s, j, failed) {
                    break true;
                }
                if j >= s.len() || s[j] == '/' {
                    break false;
                }
                j += 1;
            }
        }
        Some(Token::DirStar) => {
            reference(tokens, t + 1, s, i, failed)
                || (i..s.len()).any(|j| s[j] == '/' && reference(tokens, t + 1, s, j + 1, failed))
        }
        Some(Token::AnyTail) => (i..=s.len()).any(|j| reference(tokens, t + 1, s, j, failed)),
        Some(one) => {
            s.get(i).is_some_and(|c| one.matches_char(*c))
                && reference(tokens, t + 1, s, i + 1, failed)
        }
    };
    if !result {
        failed.insert((t, i));
    }
    result
}

fn piece() -> impl Strategy<Value = &'static str> {
    proptest::sample::select(
        &[
            "a", "b", "/", "*", "**", "**/", "?", "[ab]", "[^a]", "\\*", "\\d", ".",
        ][..],
    )
}

fn cases() -> u32 {
    std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(512)
}

fn token() -> impl Strategy<Value = Token> {
    prop_oneof![
        3 => proptest::sample::select(&['a', 'b', '/'][..]).prop_map(Token::Lit),
        1 => Just(Token::One),
        1 => Just(Token::Class { negated: false, ranges: vec![('a', 'a')] }),
        1 => Just(Token::Class { negated: true, ranges: vec![('/', '/')] }),
        2 => Just(Token::Star),
        2 => Just(Token::DirStar),
        1 => Just(Token::AnyTail),
    ]
}

fn path() -> impl Strategy<Value = String> {
    proptest::collection::vec(
        proptest::sample::select(&["a", "b", "/", "*", "1", "."][..]),
        0..14,
    )
    .prop_map(|p| p.concat())
}

proptest! {
    #![proptest_config(ProptestConfig { cases: cases(), failure_persistence: None, ..ProptestConfig::default() })]

    #[test]
    fn glob_agrees_with_the_backtracking_reference(
        pattern in proptest::collection::vec(piece(), 1..10),
        path in path(),
    ) {
        let pattern = pattern.concat();
        if let Matcher::Glob(tokens, _) = compile(&pattern) {
            let chars: Vec<char> = path.chars().collect();
            let expected = reference(&tokens, 0, &chars, 0, &mut HashSet::new());
            prop_assert_eq!(glob(&tokens, &path), expected, "pattern {:?} path {:?}", pattern, path);
        }
    }

    #[test]
    fn one_pass_over_the_path_matches_its_parents_as_each_on_its_own(
        pattern in proptest::collection::vec(piece(), 1..10),
        path in path(),
    ) {
        let matcher = compile(&pattern.concat());
        let each = matcher.matches(&path)
            || path.match_indices('/').any(|(i, _)| matcher.matches(&path[..i]));
        prop_assert_eq!(matcher.matches_path_or_parent(&path), each);
    }

    #[test]
    fn collapsing_stars_keeps_the_meaning(
        tokens in proptest::collection::vec(token(), 0..10),
        path in path(),
    ) {
        let chars: Vec<char> = path.chars().collect();
        let expected = reference(&tokens, 0, &chars, 0, &mut HashSet::new());
        let simple = simplify(tokens.clone());
        prop_assert_eq!(glob(&simple, &path), expected, "{:?} -> {:?} on {:?}", tokens, simple, path);
    }
}

#[test]
fn star_runs_against_a_long_name_are_fast() {
    // The input fuzzing found: 400 `*a` against 500 `a`s took minutes.
    let ignore = DockerIgnore::parse(&"*a".repeat(400)).unwrap();
    let start = crate::fuzz::CpuClock::start();
    assert!(ignore.excludes(&"a".repeat(500)));
    assert!(!ignore.excludes(&"a".repeat(399)));
    assert!(!ignore.excludes(&"a/".repeat(500)));
    // Star runs of any length collapse: a pattern of a million stars costs
    // what `*x` costs.
    for stars in ["*", "**", "**/", "***", "*/**"] {
        let ignore =
            DockerIgnore::parse(&format!("{}x", stars.repeat(1_000_000 / stars.len()))).unwrap();
        assert!(!ignore.excludes(&"a/".repeat(500)));
    }
    assert!(
        start.elapsed() < std::time::Duration::from_secs(20),
        "{:?}",
        start.elapsed()
    );
}

#[test]
fn a_deep_path_is_matched_in_one_pass() {
    // Found by `dockerignore_matching`: each of 3,000 parents was matched on
    // its own, 20 s for one path in a debug build.
    let ignore = DockerIgnore::parse("**#**\n!.sl***.\n/..g.*ests...e\nab/*/x*").unwrap();
    let path = "ab/".repeat(3_000) + "end";
    let start = crate::fuzz::CpuClock::start();
    assert!(!ignore.excludes(&path));
    assert!(ignore.excludes(&format!("ab/c/x{path}")));
    assert!(
        start.elapsed() < std::time::Duration::from_secs(5),
        "{:?}",
        start.elapsed()
    );
}
