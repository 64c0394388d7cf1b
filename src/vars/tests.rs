use super::*;
use crate::taskfile::Taskfile;
use crate::ui::Printer;

fn context(yaml: &str, cli: &[(&str, &str)]) -> Arc<Session> {
    let dir = tempfile::tempdir().unwrap().keep();
    std::fs::write(dir.join("hoist.yml"), yaml).unwrap();
    let file = Taskfile::parse(dir.join("hoist.yml"), yaml).unwrap();
    let cli = cli
        .iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
    Session::new(
        Arc::new(file),
        Arc::new(Printer::plain()),
        cli,
        "a b".into(),
    )
    .unwrap()
}

fn get(scope: &Arc<Scope>, name: &str) -> String {
    scope
        .lookup(name, Effects::All)
        .unwrap()
        .unwrap()
        .to_string()
}

#[test]
fn precedence_cli_call_task_global() {
    let ctx = context(
        "vars: {A: global, B: global, C: global, D: global}\ntasks:\n  t:\n    vars: {A: task, B: task, C: task}\n    cmds: [echo]\n",
        &[("A", "cli")],
    );
    let mut call = IndexMap::new();
    call.insert("B".to_owned(), Value::from("call"));
    let scope = ctx.task_scope("t", call, std::env::temp_dir());
    assert_eq!(get(&scope, "A"), "cli");
    assert_eq!(get(&scope, "B"), "call");
    assert_eq!(get(&scope, "C"), "task");
    assert_eq!(get(&scope, "D"), "global");
    assert_eq!(get(&scope, "TASK"), "t");
    assert_eq!(get(&scope, "CLI_ARGS"), "a b");
}

#[test]
fn templates_reference_each_other_in_any_order() {
    let ctx = context(
        "vars:\n  URI: \"{{ REG }}/x/{{ NAME }}\"\n  REG: \"{{ env.HOIST_TEST_UNSET_REG | default('localhost:5000') }}\"\n  NAME: app\n",
        &[],
    );
    assert_eq!(get(&ctx.global(), "URI"), "localhost:5000/x/app");
}

#[test]
fn task_var_can_extend_the_global_of_the_same_name() {
    let ctx = context(
        "vars: {F: base}\ntasks:\n  t:\n    vars: {F: \"{{ F }}-more\"}\n    cmds: [echo]\n",
        &[],
    );
    let scope = ctx.task_scope("t", IndexMap::new(), std::env::temp_dir());
    assert_eq!(get(&scope, "F"), "base-more");
}

#[test]
fn cycle_is_reported_with_its_path() {
    let ctx = context("vars:\n  A: \"{{ B }}\"\n  B: \"{{ A }}\"\n", &[]);
    let err = ctx.global().lookup("A", Effects::All).unwrap_err();
    assert!(
        err.to_string().contains("variable cycle: A -> B -> A"),
        "{err}"
    );
}

#[test]
fn undefined_variable_names_var_and_position() {
    let ctx = context("vars:\n  NAME: app\n  URI: \"x/{{ NAEM }}\"\n", &[]);
    let err = ctx.global().lookup("URI", Effects::All).unwrap_err();
    let Error::Template {
        origin,
        message,
        help,
        ..
    } = &err
    else {
        panic!("{err:?}")
    };
    assert!(
        message.contains("variable `NAEM` is not defined"),
        "{message}"
    );
    assert_eq!((origin.line, origin.column), (3, 14));
    assert!(help.as_deref().unwrap().contains("did you mean `NAME`?"));
}

#[test]
fn sh_vars_run_once_and_only_when_needed() {
    let marker = tempfile::NamedTempFile::new().unwrap();
    let path = marker.path().display().to_string();
    let yaml = format!(
        "vars:\n  USED: {{sh: \"echo x >> {path}; echo hello\"}}\n  UNUSED: {{sh: \"echo y >> {path}; echo no\"}}\n  TWICE: \"{{{{ USED }}}}-{{{{ USED }}}}\"\n"
    );
    let ctx = context(&yaml, &[]);
    assert_eq!(get(&ctx.global(), "TWICE"), "hello-hello");
    assert_eq!(std::fs::read_to_string(marker.path()).unwrap(), "x\n");
}

#[test]
fn failing_sh_var_is_an_error_with_stderr() {
    let ctx = context(
        "vars:\n  X: {sh: \"echo oops >&2; exit 3\"}\n  Y: \"{{ X }}\"\n",
        &[],
    );
    let err = ctx.global().lookup("Y", Effects::All).unwrap_err();
    let Error::ShVar {
        code, stderr, var, ..
    } = &err
    else {
        panic!("{err:?}")
    };
    assert_eq!((*code, stderr.as_str(), var.as_str()), (3, "oops", "X"));
}

#[test]
fn builtins_from_environment_win() {
    std::env::set_var("HOIST_UNIT_NOTHING", "1");
    let ctx = context("vars: {}\n", &[]);
    let build_time = get(&ctx.global(), "BUILD_TIME");
    assert!(build_time.ends_with('Z'), "{build_time}");
    assert_eq!(build_time_of("0"), "1970-01-01T00:00:00Z");
}

fn build_time_of(epoch: &str) -> String {
    builtins::build_time(Some(epoch))
}

#[test]
fn missing_required() {
    let ctx = context("vars: {E: \"\", S: set}\n", &[]);
    let missing = ctx
        .global()
        .missing(&["E".into(), "S".into(), "U".into()], Effects::All)
        .unwrap();
    assert_eq!(missing, ["E", "U"]);
}

#[test]
fn evaluation_without_effects_is_postponed_and_caches_no_failure() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("v.txt");
    let yaml = format!("vars:\n  V: {{sh: \"cat {}\"}}\n", file.display());
    let ctx = context(&yaml, &[]);
    let global = ctx.global();
    // The runtime thread and the pre-flight run no command.
    assert!(matches!(
        global.lookup("V", Effects::None),
        Err(Error::Postponed)
    ));
    assert!(matches!(
        global.lookup("V", Effects::Git),
        Err(Error::Postponed)
    ));
    // A failure is not kept: once a dep has written the file, it succeeds.
    assert!(matches!(
        global.lookup("V", Effects::All),
        Err(Error::ShVar { .. })
    ));
    std::fs::write(&file, "1.2.3\n").unwrap();
    assert_eq!(get(&global, "V"), "1.2.3");
    // And once known, it needs no effects at all.
    assert_eq!(
        global
            .lookup("V", Effects::None)
            .unwrap()
            .unwrap()
            .to_string(),
        "1.2.3"
    );
}

#[test]
fn file_values_are_trusted_unless_built_from_untrusted_text() {
    std::env::set_var("HOIST_UNIT_HOSTILE", "x;touch PWNED");
    let ctx = context(
        "vars:\n  FLAGS: -v -race\n  IMG: \"app:{{ env.HOIST_UNIT_HOSTILE }}\"\n  SAFE: \"app:{{ env.HOIST_UNIT_UNSET | default('v1') }}\"\n",
        &[("CLI", "a b")],
    );
    let global = ctx.global();
    let value = |n: &str| global.lookup(n, Effects::All).unwrap().unwrap();
    assert!(value("FLAGS").is_safe());
    assert!(value("CLI").is_safe());
    assert!(value("SAFE").is_safe());
    assert!(!value("IMG").is_safe());
    assert_eq!(value("IMG").to_string(), "app:x;touch PWNED");
}

#[test]
fn the_builtin_groups_are_the_names_they_say() {
    assert_eq!(
        builtins::FROM_GIT,
        [
            "VERSION",
            "GIT_BRANCH",
            "GIT_COMMIT",
            "GIT_SHORT_COMMIT",
            "GIT_TAG",
            "GIT_DIRTY",
            "COMMIT_TIME",
            "SEMVER",
            "NEXT_MAJOR",
            "NEXT_MINOR",
            "NEXT_PATCH"
        ]
    );
}

#[test]
fn environment_overrides_the_git_builtins_and_build_time_only() {
    assert_eq!(
        builtins::ENV_OVERRIDABLE.last().copied(),
        Some("BUILD_TIME")
    );
    assert_eq!(builtins::ENV_OVERRIDABLE.len(), 12);
}
