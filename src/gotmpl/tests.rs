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
