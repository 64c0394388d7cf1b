use crate::common::Test;

const PIPELINE: &str = r#"
vars:
  PROJECT_NAME: hbaas-server
  NEVER: {sh: "touch sh-var-ran; echo x"}
tasks:
  build-linux:
    desc: Build the Linux API executable.
    aliases: [bl]
    cmds: [go build]
  build-image:
    desc: Build the container image.
    deps: [build-linux]
    cmds: [echo image]
  helper:
    cmds: [echo help]
  secret:
    internal: true
    cmds: [echo s]
"#;

#[test]
fn list_shows_described_tasks_in_file_order() {
    Test::new()
        .hoist_yml(PIPELINE)
        .args(&["--list"])
        .run()
        .success()
        .stdout(
            "
        Available tasks:
          build-linux  Build the Linux API executable. (aliases: bl)
          build-image  Build the container image.
        ",
        );
}

#[test]
fn list_all_includes_undescribed_but_not_internal_and_runs_nothing() {
    let test = Test::new().hoist_yml(PIPELINE).args(&["--list-all"]);
    test.run().success().stdout(
        "
        Available tasks:
          build-linux  Build the Linux API executable. (aliases: bl)
          build-image  Build the container image.
          helper
        ",
    );
    assert!(
        !test.path().join("sh-var-ran").exists(),
        "listing evaluated an sh: var"
    );
}

#[test]
fn list_json() {
    let out = Test::new()
        .hoist_yml(PIPELINE)
        .args(&["--list", "--json"])
        .run();
    out.success();
    let value: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(value["tasks"][0]["name"], "build-linux");
    assert_eq!(value["tasks"][0]["aliases"][0], "bl");
}

#[test]
fn summary_shows_deps_and_commands() {
    Test::new()
        .hoist_yml(PIPELINE)
        .args(&["--summary", "build-image"])
        .run()
        .success()
        .stdout(
            "
        task: build-image

        Build the container image.

        dependencies:
         - build-linux

        commands:
         - echo image
        ",
        );
}

#[test]
fn graph_mermaid_and_dot() {
    let test = Test::new().hoist_yml(PIPELINE);
    let mut test = test;
    test.run_with(&["--graph", "--", "build-image"]).success();
    let out = test.run_with(&["build-image", "--graph"]);
    out.success().stdout(
        "
        graph TD
          build_image[\"build-image\"] --> build_linux[\"build-linux\"]
          build_linux[\"build-linux\"]
        ",
    );
    let out = test.run_with(&["build-image", "--graph=dot"]);
    out.success()
        .stdout_has("\"build-image\" -> \"build-linux\";");
}

#[test]
fn completion_script_is_printed() {
    Test::new()
        .args(&["--completion", "bash"])
        .run()
        .success()
        .stdout_has("_hoist()");
}

#[test]
fn list_without_a_file_says_where_it_looked() {
    let out = Test::new().args(&["--list"]).run();
    out.status(100)
        .stderr_has("error: no hoist.yml found in")
        .stderr_has("help: create a hoist.yml");
}

#[test]
fn file_is_found_in_a_parent_directory() {
    Test::new()
        .hoist_yml("tasks:\n  default: echo from-root\n")
        .file("sub/dir/.keep", "")
        .cwd("sub/dir")
        .run()
        .success()
        .stdout("from-root\n")
        .stderr("hoist: [default] echo from-root\n");
}

#[test]
fn hoist_yaml_and_explicit_taskfile_and_dir() {
    let mut test = Test::new()
        .file("hoist.yaml", "tasks:\n  default: echo yaml\n")
        .file("other/x.yml", "tasks:\n  t: echo other\n");
    test.run()
        .success()
        .stdout("yaml\n")
        .stderr("hoist: [default] echo yaml\n");
    test.run_with(&["-t", "other/x.yml", "t"])
        .success()
        .stdout("other\n")
        .stderr("hoist: [t] echo other\n");
    test.run_with(&["-d", "other", "-t", "x.yml", "t"])
        .success()
        .stdout("other\n")
        .stderr("hoist: [t] echo other\n");
}

#[test]
fn init_writes_a_starter_file_and_refuses_to_overwrite() {
    let mut test = Test::new();
    test.run_with(&["--init"]).success();
    assert!(test.read("hoist.yml").contains("upload-image"));
    test.run_with(&["--list"])
        .success()
        .stdout_has("build-image");
    test.run_with(&["--init"])
        .status(2)
        .stderr_has("already exists");
}

#[test]
fn an_internal_task_cannot_be_run_from_the_command_line() {
    let out = Test::new()
        .hoist_yml("tasks:\n  helper:\n    internal: true\n    cmds: [echo helper]\n  main:\n    deps: [helper]\n    cmds: [echo main]\n")
        .args(&["helper"])
        .run();
    assert_eq!(out.status, 2);
    assert_eq!(out.stdout, "");
    out.stderr_has("task `helper` is internal");
    let out = Test::new()
        .hoist_yml("tasks:\n  helper:\n    internal: true\n    cmds: [echo helper]\n  main:\n    deps: [helper]\n    cmds: [echo main]\n")
        .args(&["-s", "main"])
        .run();
    assert_eq!(out.status, 0);
    out.stderr_lacks("error");
    assert_eq!(out.stdout, "helper\nmain\n");
}
