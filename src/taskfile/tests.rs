use super::*;

fn parse(text: &str) -> Result<Taskfile> {
    Taskfile::parse(PathBuf::from("/tmp/hoist.yml"), text)
}

#[test]
fn parses_the_issue_example_in_order() {
    let file = parse(
        r#"
vars:
  PROJECT_NAME: hbaas-server
  GO_FILES: {sh: "git ls-files '*.go' | wc -l"}
env: {CGO_ENABLED: "0"}
dotenv: [.env]
tasks:
  build-linux:
    desc: Build the Linux API executable.
    env: {GOOS: linux, GOARCH: amd64}
    sources: ["**/*.go", go.mod]
    generates: [hbaas-server]
    cmds:
      - go build -o hbaas-server .
  test:
    cmds: [go test ./...]
  ci:
    deps: [test, build-linux]
    cmds:
      - task: report
        vars: {KIND: release}
      - defer: echo done
      - {cmd: "false", ignore_error: true}
"#,
    )
    .unwrap();
    assert_eq!(
        file.tasks.keys().collect::<Vec<_>>(),
        ["build-linux", "test", "ci"]
    );
    assert!(matches!(file.vars["GO_FILES"].value, VarValue::Sh(_)));
    let ci = &file.tasks["ci"].value;
    assert_eq!(ci.deps.len(), 2);
    assert!(matches!(ci.cmds[0].value, Step::Task { .. }));
    assert!(matches!(ci.cmds[1].value, Step::Defer(_)));
    assert!(matches!(
        ci.cmds[2].value,
        Step::Cmd {
            ignore_error: true,
            ..
        }
    ));
    let step = &file.tasks["build-linux"].value.cmds[0];
    assert_eq!(step.referenced.line(), 14);
    assert_eq!(step.referenced.column(), 9);
}

#[test]
fn unknown_key_is_rejected_with_a_hint_and_position() {
    let err = parse("tasks:\n  a:\n    desk: hi\n").unwrap_err();
    let Error::Taskfile {
        origin,
        message,
        help,
    } = err
    else {
        panic!("{err:?}")
    };
    assert!(message.contains("unknown field `desk`"), "{message}");
    assert_eq!(help.as_deref(), Some("did you mean `desc`?"));
    assert_eq!(origin.line, 3);
}

#[test]
fn syntax_error_has_position() {
    let err = parse("tasks:\n  a: [\n").unwrap_err();
    assert!(matches!(err, Error::Taskfile { .. }), "{err:?}");
    assert!(err.origin().is_some());
}

#[test]
fn merge_keys_work() {
    let file = parse(
        "x-common: &common\n  silent: true\n  desc: shared\ntasks:\n  a:\n    <<: *common\n    cmds: [echo a]\n",
    );
    // Top-level extension keys are not part of the format; merge inside tasks is.
    assert!(file.is_err());
    let file = parse(
        "tasks:\n  base: &b\n    silent: true\n    cmds: [echo]\n  a:\n    <<: *b\n    desc: A\n",
    )
    .unwrap();
    assert!(file.tasks["a"].value.silent);
    assert_eq!(file.tasks["a"].value.desc.as_ref().unwrap().value, "A");
}

#[test]
fn image_steps_parse() {
    let file = parse(
        r#"
tasks:
  build-image:
    cmds:
      - build:
          context: .
          image: "{{ PROJECT_NAME }}"
          tags: [latest, "{{ VERSION }}"]
          latest: auto
      - push: {image: app, to: "localhost:5000/app", tags: [latest]}
      - tag: {image: "app:latest", as: "app:stable"}
"#,
    )
    .unwrap();
    let cmds = &file.tasks["build-image"].value.cmds;
    assert!(matches!(
        [&cmds[0].value, &cmds[1].value, &cmds[2].value],
        [Step::Build(_), Step::Push(_), Step::Tag(_)]
    ));
}

#[test]
fn a_step_with_two_kinds_is_an_error() {
    let err = parse("tasks:\n  a:\n    cmds:\n      - {cmd: echo, task: b}\n").unwrap_err();
    assert!(err.to_string().contains("only one of"), "{err}");
}

#[test]
fn unknown_build_key_is_rejected() {
    let err = parse("tasks:\n  a:\n    cmds:\n      - build: {image: x, tgas: [a]}\n").unwrap_err();
    assert_eq!(err.help().as_deref(), Some("did you mean `tags`?"));
}

#[test]
fn aliases_resolve_and_collisions_fail() {
    let file = parse("tasks:\n  build:\n    aliases: [b]\n    cmds: [echo]\n").unwrap();
    assert_eq!(file.find("b").unwrap().0, "build");
    let err = parse("tasks:\n  build:\n    aliases: [test]\n  test: echo\n").unwrap_err();
    assert!(err.to_string().contains("already used"), "{err}");
}

#[test]
fn unknown_task_suggests() {
    let file = parse("tasks:\n  build-image: echo\n  upload-image: echo\n").unwrap();
    let Error::TaskNotFound { suggestions, .. } = file.unknown_task("upload-imag") else {
        panic!()
    };
    assert_eq!(suggestions[0], "upload-image");
}

#[test]
fn shorthand_task_has_a_position() {
    let file = parse("tasks:\n  a: \"echo {{ x }}\"\n  b:\n    cmds: [echo]\n").unwrap();
    assert_eq!(file.tasks["a"].referenced.line(), 2);
    assert_eq!(file.tasks["b"].referenced.line(), 4);
}
