//! Values from git and the CI environment reach a shell as one inert word;
//! the file's own variables keep their word splitting.

use crate::common::{git, Test};

const HOSTILE_BRANCH: &str = "feat/$(touch${IFS}PWNED)";
const HOSTILE_TAG: &str = "v2;touch${IFS}PWNED";

/// A repository on `branch` whose hoist.yml uses the git values everywhere a shell reads.
fn repo_on(branch: &str, yml: &str) -> Test {
    let test = Test::new()
        .hoist_yml(yml)
        .file(".gitignore", ".hoist/\nPWNED\n")
        .args(&["-s"]);
    git(test.path(), &["init", "-q"]);
    git(test.path(), &["checkout", "-q", "-b", branch]);
    git(test.path(), &["add", "."]);
    git(test.path(), &["commit", "-qm", "one"]);
    test
}

const EVERYWHERE: &str = r#"
    vars:
      IMG: "app:{{ GIT_BRANCH }}"
      FROM_SH: {sh: "echo sh={{ GIT_BRANCH }}"}
    tasks:
      default:
        status: ["test {{ GIT_BRANCH }} = never"]
        preconditions: ["test -n {{ GIT_BRANCH }}"]
        cmds:
          - defer: "echo deferred={{ GIT_BRANCH }}"
          - echo branch={{ GIT_BRANCH }}
          - echo img={{ IMG }}
          - echo {{ FROM_SH }}
          - echo tag={{ GIT_TAG }} version={{ VERSION }}
          - echo quoted={{ GIT_BRANCH | quote }}
          - echo upper={{ GIT_BRANCH | upper }}
          - task: called
            vars: {B: "{{ GIT_BRANCH }}"}
      called: "echo called={{ B }}"
    "#;

#[test]
fn a_hostile_branch_name_is_one_word_everywhere_a_shell_reads() {
    let test = repo_on(HOSTILE_BRANCH, EVERYWHERE);
    let out = test.run();
    out.success();
    assert!(!test.path().join("PWNED").exists(), "{}", out.stdout);
    for line in [
        "branch=feat/$(touch${IFS}PWNED)",
        "img=app:feat/$(touch${IFS}PWNED)",
        "sh=feat/$(touch${IFS}PWNED)",
        "quoted=feat/$(touch${IFS}PWNED)",
        "upper=FEAT/$(TOUCH${IFS}PWNED)",
        "called=feat/$(touch${IFS}PWNED)",
        "deferred=feat/$(touch${IFS}PWNED)",
    ] {
        assert!(
            out.stdout.lines().any(|l| l == line),
            "no line {line:?} in\n{}",
            out.stdout
        );
    }
}

#[test]
fn a_hostile_tag_is_one_word_too() {
    let test = repo_on("main", EVERYWHERE);
    git(test.path(), &["tag", HOSTILE_TAG]);
    let out = test.run();
    out.success()
        .stdout_has("tag=v2;touch${IFS}PWNED version=v2;touch${IFS}PWNED\n");
    assert!(!test.path().join("PWNED").exists());
}

#[test]
fn the_ci_branch_of_a_fork_pull_request_is_untrusted() {
    let test = repo_on("main", EVERYWHERE);
    git(test.path(), &["checkout", "-q", "--detach"]);
    let test = test
        .env("GITHUB_ACTIONS", "true")
        .env("GITHUB_HEAD_REF", "x$(touch PWNED)");
    let out = test.run();
    out.success()
        .stdout_has("branch=x$(touch PWNED)\n")
        .stderr_has("::group::default\n");
    assert!(!test.path().join("PWNED").exists());
}

#[test]
fn dry_run_shows_the_quoting_and_safe_names_stay_as_they_are() {
    let yml = "tasks:\n  default: \"echo {{ GIT_BRANCH }} {{ IMG }}\"\nvars:\n  IMG: \"app:{{ GIT_BRANCH }}\"\n";
    repo_on("feature/x", yml)
        .args(&["--dry"])
        .run()
        .success()
        .stdout("")
        .stderr("hoist: [default] echo feature/x app:feature/x\n");
    repo_on(HOSTILE_BRANCH, yml)
        .args(&["--dry"])
        .run()
        .success()
        .stderr(
            "hoist: [default] echo 'feat/$(touch${IFS}PWNED)' 'app:feat/$(touch${IFS}PWNED)'\n",
        );
}

#[test]
fn the_files_own_variables_keep_their_word_splitting() {
    let yml = r#"
        vars:
          FLAGS: "-v -race"
          TRIMMED: "{{ FLAGS | trim }}"
          LIST: [a, b c]
        tasks:
          default:
            cmds:
              - printf '[%s]' {{ FLAGS }} {{ TRIMMED }} {{ CLI_FLAG }}; echo
              - printf '[%s]' {{ LIST | join(' ') }}; echo
              - printf '[%s]' {{ CLI_ARGS }}; echo
        "#;
    Test::new()
        .hoist_yml(yml)
        .args(&["-s", "default", "CLI_FLAG=-x -y", "--", "-run", "TestX"])
        .run()
        .success()
        .stdout("[-v][-race][-v][-race][-x][-y]\n[a][b][c]\n[-run][TestX]\n");
}

#[test]
fn environment_values_are_quoted_and_safe_opts_out() {
    let yml = r"
        tasks:
          default:
            cmds:
              - printf '[%s]' {{ env.HOIST_T_WORDS }}; echo
              - printf '[%s]' {{ env.HOIST_T_WORDS | safe }}; echo
              - printf '[%s]' {{ env.HOIST_T_WORDS | quote }}; echo
              - printf '[%s]' {{ env.HOIST_T_HOSTILE }}; echo
        ";
    let test = Test::new()
        .hoist_yml(yml)
        .args(&["-s"])
        .env("HOIST_T_WORDS", "a b")
        .env("HOIST_T_HOSTILE", "x;touch PWNED");
    test.run()
        .success()
        .stdout("[a b]\n[a][b]\n[a b]\n[x;touch PWNED]\n");
    assert!(!test.path().join("PWNED").exists());
}

#[test]
fn image_steps_take_values_as_they_are() {
    // No shell reads an image ref: the tag is the branch's tag filter, never quoted.
    let yml = "tasks:\n  default:\n    cmds:\n      - tag: {image: \"app:latest\", as: \"app:{{ GIT_BRANCH | tag }}\"}\n";
    repo_on(HOSTILE_BRANCH, yml)
        .args(&["--dry"])
        .run()
        .success()
        .stderr_has("app:feat-touch-ifs-pwned");
}

#[test]
fn the_image_pre_flight_runs_no_command_before_the_deps() {
    // The dep writes the file the `sh:` var reads: the pre-flight must leave
    // that var alone, and the step then fails only on the missing engine.
    let yml = r#"
        vars:
          V: {sh: "cat v.txt"}
        tasks:
          write: "echo 1.2.3 > v.txt"
          upload:
            deps: [write]
            cmds:
              - push: {image: "app", tags: ["{{ V }}"]}
        "#;
    let test = Test::new()
        .hoist_yml(yml)
        .args(&["-s", "upload"])
        .env("DOCKER_HOST", "unix:///nonexistent/docker.sock");
    let out = test.run();
    out.status(210)
        .stderr_lacks("(global vars)")
        .stderr_lacks("cat v.txt");
    assert_eq!(test.read("v.txt"), "1.2.3\n");
}

#[test]
fn a_global_sh_var_that_fails_names_the_task_that_needed_it() {
    let yml = "vars:\n  V: {sh: \"exit 4\"}\ntasks:\n  show: \"echo {{ V }}\"\n";
    Test::new()
        .hoist_yml(yml)
        .args(&["show"])
        .run()
        .status(201)
        .stderr_has("error: task `show`: variable `V`: command `exit 4` failed with exit code 4");
}

#[test]
fn a_slow_sh_var_does_not_stall_the_other_tasks() {
    // `slow` evaluates its var for a second; `fast` runs three commands
    // meanwhile, so by the time `slow` runs its command, `fast` is done.
    let yml = r#"
        tasks:
          default: {deps: [slow, fast]}
          slow:
            vars: {S: {sh: "sleep 1; echo s"}}
            cmds: ["test -f fast-done && echo fast-first-{{ S }} || echo fast-later"]
          fast: ["true", "true", "touch fast-done"]
        "#;
    Test::new()
        .hoist_yml(yml)
        .args(&["-s"])
        .run()
        .success()
        .stdout("fast-first-s\n");
}

#[test]
fn booleans_are_true_and_false_in_env_vars_and_templates() {
    let yml = r#"
        vars: {FLAG: true}
        env: {X: true, Y: false}
        tasks:
          default: "echo $X $Y {{ FLAG }}"
        "#;
    let test = Test::new().hoist_yml(yml).args(&["-s"]);
    test.run().success().stdout("true false true\n");
    let mut test = test;
    let out = test.run_with(&["--vars"]);
    let line = out
        .stdout
        .lines()
        .find(|l| l.starts_with("FLAG "))
        .unwrap_or_default();
    assert!(line.contains("= true "), "{}", out.stdout);
}
