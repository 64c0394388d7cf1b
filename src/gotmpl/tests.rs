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
        Some("/work".into())
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

/// Replays every case recorded from go-task 3.54 (record_cases.sh).
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
