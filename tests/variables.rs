use crate::common::Test;

const FILE: &str = r#"
vars:
  PROJECT_NAME: hbaas-server
  CONTAINER_REGISTRY: "{{ env.REGISTRY | default('localhost:5000') }}"
  CONTAINER_URI: "{{ CONTAINER_REGISTRY }}/go-with-the-flow/{{ PROJECT_NAME }}"
  WHO: global
tasks:
  default:
    cmds:
      - echo {{ CONTAINER_URI }}
  who:
    vars: {WHO: task-default}
    cmds: ["echo {{ WHO }}"]
  caller:
    cmds:
      - task: who
        vars: {WHO: from-call}
"#;

#[test]
fn templates_and_env_default() {
    let test = Test::new().hoist_yml(FILE).args(&["-s"]);
    test.run()
        .success()
        .stdout("localhost:5000/go-with-the-flow/hbaas-server\n");
    let test = Test::new()
        .hoist_yml(FILE)
        .args(&["-s"])
        .env("REGISTRY", "registry.example:443");
    test.run()
        .success()
        .stdout("registry.example:443/go-with-the-flow/hbaas-server\n");
    test_cli_overrides(&mut Test::new().hoist_yml(FILE));
}

fn test_cli_overrides(test: &mut Test) {
    test.run_with(&["-s", "PROJECT_NAME=other"])
        .success()
        .stdout("localhost:5000/go-with-the-flow/other\n");
}

#[test]
fn precedence_cli_over_call_over_task_over_global() {
    let mut test = Test::new().hoist_yml(FILE);
    test.run_with(&["-s", "who"])
        .success()
        .stdout("task-default\n");
    test.run_with(&["-s", "caller"])
        .success()
        .stdout("from-call\n");
    test.run_with(&["-s", "caller", "WHO=cli"])
        .success()
        .stdout("cli\n");
}

#[test]
fn filters_quote_and_tag() {
    Test::new()
        .hoist_yml(
            r#"
            vars:
              BRANCH: "feature/Containerise API"
              MSG: "it's a $test"
            tasks:
              default:
                cmds:
                  - echo {{ BRANCH | tag }}
                  - echo {{ MSG | quote }}
                  - echo {{ "a,b,c" | split(",") | join("+") | upper }}
            "#,
        )
        .args(&["-s"])
        .run()
        .success()
        .stdout("feature-containerise-api\nit's a $test\nA+B+C\n");
}

#[test]
fn sh_vars_run_once_per_invocation() {
    let test = Test::new()
        .hoist_yml(
            r#"
            vars:
              STAMP: {sh: "echo x >> sh-count.txt; echo stamp"}
            tasks:
              default: {deps: [a, b], cmds: ["echo {{ STAMP }}"]}
              a: "echo {{ STAMP }}"
              b: "echo {{ STAMP }}"
            "#,
        )
        .args(&["-s"]);
    test.run().success();
    assert_eq!(test.read("sh-count.txt"), "x\n");
}

#[test]
fn cli_args_after_double_dash() {
    Test::new()
        .hoist_yml("tasks:\n  default: \"echo args: {{ CLI_ARGS }}\"\n")
        .args(&["-s", "--", "-run", "TestX"])
        .run()
        .success()
        .stdout("args: -run TestX\n");
}

#[test]
fn requires_names_the_missing_vars() {
    let mut test = Test::new().hoist_yml(
        "tasks:\n  deploy:\n    requires: {vars: [TARGET, VERSION]}\n    cmds: [\"echo {{ TARGET }}\"]\n",
    );
    test.run_with(&["deploy"])
        .status(206)
        .stderr_has("error: task `deploy` requires variables `TARGET`, `VERSION` to be set");
    test.run_with(&["-s", "deploy", "TARGET=prod", "VERSION=1.0"])
        .success()
        .stdout("prod\n");
}

#[test]
fn vars_listing_and_json_redacts_secrets() {
    let mut test = Test::new().hoist_yml(
        "vars:\n  NAME: app\n  REGISTRY_PASSWORD: \"{{ env.PW }}\"\ntasks:\n  t:\n    vars: {LOCAL: \"{{ NAME }}-x\"}\n    cmds: [echo]\n",
    );
    test = test.env("PW", "hunter2").env("SOURCE_DATE_EPOCH", "0");
    let out = test.run_with(&["--vars"]);
    out.success()
        .stdout_has("NAME")
        .stdout_has("= app")
        .stdout_has("BUILD_TIME        = 1970-01-01T00:00:00Z");
    assert!(!out.stdout.contains("hunter2"));
    let out = test.run_with(&["--vars", "--json", "t"]);
    out.success();
    let json: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(json["LOCAL"], "app-x");
    assert_eq!(json["TASK"], "t");
    assert_eq!(json["REGISTRY_PASSWORD"], "********");
}

#[test]
fn builtins_os_arch_root_dir() {
    let test = Test::new()
        .hoist_yml("tasks:\n  default: \"echo {{ OS }} {{ ARCH }} {{ ROOT_DIR }}\"\n")
        .args(&["-s"]);
    let out = test.run();
    out.success();
    let root = std::fs::canonicalize(test.path()).unwrap();
    let expected_arch = if cfg!(target_arch = "x86_64") {
        "amd64"
    } else {
        "arm64"
    };
    let line = out.stdout.trim();
    assert!(
        line.starts_with(&format!("linux {expected_arch} ")),
        "{line}"
    );
    let printed = std::fs::canonicalize(line.rsplit(' ').next().unwrap()).unwrap();
    assert_eq!(printed, root);
}

#[test]
fn builtins_are_empty_outside_git() {
    Test::new()
        .hoist_yml(
            "tasks:\n  default: \"echo [{{ VERSION }}][{{ GIT_BRANCH }}][{{ GIT_COMMIT }}]\"\n",
        )
        .env("GIT_CEILING_DIRECTORIES", "/")
        .args(&["-s"])
        .run()
        .success()
        .stdout("[][][]\n");
}
