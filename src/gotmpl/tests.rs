use super::*;

struct TestHost;

impl Host for TestHost {
    fn env(&self, name: &str) -> Option<String> {
        (name == "HOIST_T").then(|| "hello".to_string())
    }
    fn now(&self) -> Time {
        Time::utc(1_700_000_000, 0)
    }
    fn local_zone(&self, _unix: i64) -> (i32, String) {
        (0, "UTC".into())
    }
    fn num_cpu(&self) -> usize {
        2
    }
    fn cwd(&self) -> Option<String> {
        Some("/srv/app".into())
    }
    fn random(&self) -> u64 {
        4
    }
}

fn render(src: &str) -> String {
    let t = Template::parse(src).unwrap_or_else(|e| panic!("{src}: {e}"));
    t.execute(&Value::Nil, &TestHost)
        .unwrap_or_else(|e| panic!("{src}: {e}"))
}

#[test]
fn smoke() {
    assert_eq!(render("a{{1}}b"), "a1b");
    assert_eq!(render("{{ \"x\" | upper }}"), "X");
}

/// The variables of testdata/vars.yml, as go-task hands them to templates.
fn recorded_vars() -> Value {
    let v = encode::from_yaml(include_str!("testdata/vars.yml")).expect("vars.yml");
    let Value::Map(m) = v else {
        panic!("vars.yml is not a map")
    };
    Value::Map(
        m.into_iter()
            .map(|(k, v)| match v {
                Value::Map(mut inner) if inner.len() == 1 && inner.contains_key("map") => {
                    (k, inner.swap_remove("map").unwrap_or(Value::Nil))
                }
                other => (k, other),
            })
            .collect(),
    )
}

fn run_case(tmpl: &str, data: &Value) -> Result<String, String> {
    let t = Template::parse(tmpl).map_err(|e| e.to_string())?;
    t.execute(data, &TestHost).map_err(|e| e.to_string())
}

/// Replays every case recorded from go-task 3.54 (`record_cases.sh`).
#[test]
fn recorded_go_task_cases() {
    let data = recorded_vars();
    let mut failures = Vec::new();
    let mut count = 0;
    for line in include_str!("testdata/cases.jsonl").lines() {
        let rec: serde_json::Value = serde_json::from_str(line).expect("cases.jsonl line");
        let Some(name) = rec.get("name").and_then(|n| n.as_str()) else {
            continue;
        };
        if KNOWN_DIFFERENCES.iter().any(|(n, _)| *n == name) {
            continue;
        }
        count += 1;
        let tmpl = rec["tmpl"].as_str().expect("tmpl");
        let want = match (rec.get("out"), rec.get("err")) {
            (Some(o), _) => Ok(o.as_str().expect("out").to_string()),
            (_, Some(e)) => Err(e.as_str().expect("err").to_string()),
            _ => panic!("{name}: no out or err"),
        };
        let got = run_case(tmpl, &data);
        if got != want {
            failures.push(format!(
                "{name}\n  template: {tmpl:?}\n  want: {want:?}\n  got:  {got:?}"
            ));
        }
    }
    assert!(count > 200, "only {count} recorded cases");
    assert!(
        failures.is_empty(),
        "{} of {count} cases differ from go-task:\n{}",
        failures.len(),
        failures.join("\n")
    );
}

/// Recorded cases where hoist knowingly differs from go-task, and why.
const KNOWN_DIFFERENCES: &[(&str, &str)] = &[
    (
        "define/infinite",
        "template recursion stops at depth 100, not Go's 100000, to stay within the native stack",
    ),
    (
        "literal/complex",
        "complex numbers are not supported (a parse error)",
    ),
    (
        "sprig/math-types",
        "one integer type: sprig's int64 results report int",
    ),
    (
        "sprig/unixEpoch-duration",
        "one integer type: duration of an int literal counts (sprig ignores non-int64 ints)",
    ),
    (
        "sprig/mustFromJson-error",
        "JSON syntax errors are worded by serde_json",
    ),
    (
        "sprig/regex-bad",
        "regex syntax errors are worded by the regex crate",
    ),
    (
        "sprig/must-regex-bad",
        "regex syntax errors are worded by the regex crate",
    ),
    (
        "task/mustFromYaml-error",
        "YAML syntax errors are worded by serde-saphyr",
    ),
];

/// Runs `f` on a thread with a small stack, as tokio's workers have, so
/// that a recursion bound that is too loose shows up as a crash here.
fn on_small_stack<F: FnOnce() + Send + 'static>(f: F) {
    std::thread::Builder::new()
        .stack_size(1 << 20)
        .spawn(f)
        .expect("spawn")
        .join()
        .expect("no panic");
}

fn parse_and_run(src: &str, data: &Value) {
    if let Ok(t) = Template::parse(src) {
        let _ = t.execute(data, &TestHost);
        let _ = t.resolve(data, &TestHost);
    }
}

#[test]
fn deep_nesting_is_an_error_not_a_crash() {
    on_small_stack(|| {
        let data = recorded_vars();
        let deep_parens = format!("{{{{{}1{}}}}}", "(".repeat(10_000), ")".repeat(10_000));
        let err = Template::parse(&deep_parens).err().expect("too deep");
        assert!(err.message.contains("nesting too deep"), "{err}");
        let deep_ifs = format!("{}x{}", "{{if 1}}".repeat(10_000), "{{end}}".repeat(10_000));
        assert!(Template::parse(&deep_ifs).is_err());
        let unclosed = "{{(".repeat(10_000);
        assert!(Template::parse(&unclosed).is_err());
        // Nesting within the limit runs.
        let ok = format!("{{{{{}1{}}}}}", "(".repeat(40), ")".repeat(40));
        assert_eq!(
            Template::parse(&ok)
                .unwrap()
                .execute(&data, &TestHost)
                .unwrap(),
            "1"
        );
        // Recursion through templates stops with Go's message.
        let rec = Template::parse(r#"{{define "r"}}{{if 1}}{{range 1}}{{with 1}}{{template "r"}}{{end}}{{end}}{{end}}{{end}}{{template "r"}}"#).unwrap();
        let e = rec.execute(&data, &TestHost).unwrap_err();
        assert!(e.message.contains("exceeded maximum"), "{e}");
        // Deep data from fromJson prints without overflowing.
        for n in [120, 10_000] {
            let deep = format!(
                "{{{{fromJson `{}1{}` | toJson}}}}",
                "[".repeat(n),
                "]".repeat(n)
            );
            parse_and_run(&deep, &data);
            let deep = format!(
                "{{{{fromYaml `{}1{}` | toYaml}}}}",
                "[".repeat(n),
                "]".repeat(n)
            );
            parse_and_run(&deep, &data);
        }
    });
}

/// Garbage in, errors out: random byte strings and random mixes of
/// template tokens must parse or fail cleanly, and run or fail cleanly.
#[test]
fn garbage_inputs_do_not_panic() {
    on_small_stack(|| {
        let data = recorded_vars();
        let mut seed: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut next = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed
        };
        const TOKENS: &[&str] = &[
            "{{",
            "}}",
            "{{- ",
            " -}}",
            "(",
            ")",
            "|",
            "$",
            "$x",
            "$x := ",
            "$x = ",
            ".",
            ".S",
            ".M.c.d",
            ".L",
            "\"s\"",
            "`r`",
            "'c'",
            "1",
            "-2",
            "3.5",
            "0x1F",
            "1e9",
            "nil",
            "true",
            " ",
            "\n",
            "if ",
            "else ",
            "end",
            "range ",
            "with ",
            "define \"a\"",
            "template \"a\"",
            "block \"b\" .",
            "break",
            "continue",
            "/*",
            "*/",
            ",",
            ":=",
            "printf \"%d %s %v %q %x %5.2f %-3s %*d\" ",
            "index ",
            "slice ",
            "len ",
            "eq ",
            "and ",
            "or ",
            "not ",
            "upper ",
            "default ",
            "list ",
            "dict ",
            "set ",
            "toJson ",
            "toYaml ",
            "fromJson ",
            "fromYaml ",
            "regexFind \"(\" ",
            "regexReplaceAll \"a\" ",
            "splitArgs ",
            "shellQuote ",
            "repeat 3 ",
            "until 5 ",
            "seq 3 ",
            "date \"2006\" ",
            "substr 1 2 ",
            "b64dec ",
            "spew ",
            "\\",
            "\u{e9}",
            "\u{1F600}",
            "\u{0}",
        ];
        for round in 0..3000 {
            let mut s = String::new();
            let n = (next() % 40) as usize;
            for _ in 0..n {
                if round % 3 == 0 {
                    // Raw bytes, made valid UTF-8.
                    let b = (next() % 128) as u8;
                    s.push(b as char);
                } else {
                    s.push_str(TOKENS[(next() % TOKENS.len() as u64) as usize]);
                }
            }
            parse_and_run(&s, &data);
            // Every prefix of a valid template fails cleanly too.
            if round % 50 == 0 {
                for cut in 0..s.len() {
                    if s.is_char_boundary(cut) {
                        parse_and_run(&s[..cut], &data);
                    }
                }
            }
        }
        for src in [
            "{{", "{{.", "{{\"", "{{`", "{{'", "{{/*", "{{-", "{{ -", "{{$", "{{(", "{{range",
            "{{end", "}}{{",
        ] {
            assert!(Template::parse(src).is_err(), "{src:?} should not parse");
        }
    });
}

#[test]
fn parse_is_linear() {
    // 20 000 actions parse in well under a second even unoptimised.
    let src = "{{.S | upper}} text {{if .B}}{{range .L}}{{.}}{{end}}{{end}}\n".repeat(5_000);
    let start = std::time::Instant::now();
    let t = Template::parse(&src).unwrap();
    let parse = start.elapsed();
    let out = t.execute(&recorded_vars(), &TestHost).unwrap();
    assert_eq!(out.len(), "HELLO text abc\n".len() * 5_000);
    assert!(
        parse < std::time::Duration::from_secs(2),
        "parse took {parse:?}"
    );
}

#[test]
fn api_shapes() {
    let data = recorded_vars();
    // resolve returns the value itself, as go-task's `ref:` needs.
    let t = Template::parse("{{.M.c}}").unwrap();
    let Value::Map(m) = t.resolve(&data, &TestHost).unwrap() else {
        panic!("not a map")
    };
    assert!(m.contains_key("d"));
    assert_eq!(
        Template::parse("")
            .unwrap()
            .resolve(&data, &TestHost)
            .unwrap(),
        Value::Nil
    );
    let two = Template::parse("{{1}}{{2}}").unwrap();
    assert!(two
        .resolve(&data, &TestHost)
        .unwrap_err()
        .message
        .contains("only contain one action"));
    // Errors carry positions.
    let e = Template::parse("a\n{{if}}").err().unwrap();
    assert_eq!(
        (e.line, e.offset, e.to_string().as_str()),
        (2, 6, "template: :2: missing value for if")
    );
    let e = Template::parse("a\n  {{upper .N}}")
        .unwrap()
        .execute(&data, &TestHost)
        .unwrap_err();
    assert_eq!((e.line, e.column, e.context.as_str()), (2, 10, ".N"));
    // Host-backed functions.
    assert_eq!(
        render("{{env \"HOIST_T\"}} {{numCPU}} {{now | unixEpoch}} {{absPath \"x/../y\"}}"),
        "hello 2 1700000000 /srv/app/y"
    );
    assert_eq!(
        render("{{date \"2006-01-02T15:04:05Z07:00\" now}}"),
        "2023-11-14T22:13:20Z"
    );
    assert_eq!(render("{{uuid | len}}"), "36");
}

/// Timing of a Taskfile-sized workload; run with
/// `cargo test --release --lib gotmpl::tests::timing -- --ignored --nocapture`.
#[test]
#[ignore = "a measurement: run it with --release --nocapture"]
fn timing() {
    let data = recorded_vars();
    let srcs = [
        "go build -o bin/{{.S}}{{exeExt}} -ldflags '-X main.version={{.N}}' ./cmd/{{.S}}",
        "{{if eq OS \"windows\"}}powershell{{else}}sh{{end}} -c '{{range .L}}echo {{. | upper}}; {{end}}'",
        "{{printf \"%s-%05.1f\" .S .F}} {{.M.c.d | join \",\"}} {{default \"x\" .E | quote}}",
    ];
    let n = 10_000;
    let start = std::time::Instant::now();
    for _ in 0..n {
        for s in &srcs {
            std::hint::black_box(Template::parse(s).unwrap());
        }
    }
    let parse = start.elapsed() / (n * srcs.len() as u32);
    let ts: Vec<Template> = srcs.iter().map(|s| Template::parse(s).unwrap()).collect();
    let start = std::time::Instant::now();
    for _ in 0..n {
        for t in &ts {
            std::hint::black_box(t.execute(&data, &TestHost).unwrap());
        }
    }
    let exec = start.elapsed() / (n * srcs.len() as u32);
    eprintln!("parse {parse:?} per template, execute {exec:?} per template");
}
