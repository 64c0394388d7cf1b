//! Image steps against the real Docker engine and registries that
//! `scripts/setup.sh` starts (`scripts/test.sh` sets HOIST_DOCKER_TESTS=1).

use crate::common::{git, Test};
use std::path::Path;
use std::process::Command;

/// The registries and credentials of scripts/setup.sh, or `None` (and a note)
/// when the services were not started for this run.
struct Services {
    registry: String,
    auth_registry: String,
    tls_registry: String,
    user: String,
    password: String,
}

fn services() -> Option<Services> {
    if std::env::var("HOIST_DOCKER_TESTS").as_deref() != Ok("1") {
        eprintln!("skipped: run scripts/test.sh, which starts the engine and registries and sets HOIST_DOCKER_TESTS=1");
        return None;
    }
    let var = |name: &str| {
        std::env::var(name).unwrap_or_else(|_| {
            panic!("{name} is not set: source the env file of scripts/setup.sh")
        })
    };
    Some(Services {
        registry: var("HOIST_TEST_REGISTRY"),
        auth_registry: var("HOIST_TEST_AUTH_REGISTRY"),
        tls_registry: var("HOIST_TEST_TLS_REGISTRY"),
        user: var("HOIST_TEST_AUTH_USER"),
        password: var("HOIST_TEST_AUTH_PASSWORD"),
    })
}

/// A repository path no other test run uses.
fn unique(name: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    format!("test-{name}-{}-{nanos}", std::process::id())
}

/// The tags in `repo` as the registry's HTTP API lists them, sorted.
fn registry_tags(registry: &str, repo: &str, auth: Option<(&str, &str)>) -> Vec<String> {
    let scheme = if registry.ends_with(":5002") {
        "https"
    } else {
        "http"
    };
    let mut curl = Command::new("curl");
    curl.args(["-sk", &format!("{scheme}://{registry}/v2/{repo}/tags/list")]);
    if let Some((user, password)) = auth {
        curl.args(["-u", &format!("{user}:{password}")]);
    }
    let out = curl.output().unwrap();
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap_or_default();
    let mut tags: Vec<String> = json["tags"]
        .as_array()
        .map(|a| a.iter().map(|t| t.as_str().unwrap().to_owned()).collect())
        .unwrap_or_default();
    tags.sort();
    tags
}

fn docker(args: &[&str]) -> String {
    let out = Command::new("docker").args(args).output().unwrap();
    assert!(
        out.status.success(),
        "docker {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

fn copy_example(to: &Path) {
    let example = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples/hbaas");
    for name in [
        "go.mod",
        "main.go",
        "main_test.go",
        "Dockerfile",
        ".dockerignore",
        "hoist.yml",
        ".gitignore",
    ] {
        std::fs::copy(example.join(name), to.join(name)).unwrap();
    }
}

fn sorted(tags: &[&str]) -> Vec<String> {
    let mut tags: Vec<String> = tags.iter().map(|t| t.to_string()).collect();
    tags.sort();
    tags
}

/// The example's pipeline on a git-flow history: the exact tags that land,
/// and the VERSION the pushed image was built with.
#[test]
fn example_pipeline_on_a_git_flow_history() {
    let Some(s) = services() else { return };
    let test = Test::new();
    let dir = test.path();
    copy_example(dir);
    git(dir, &["init", "-q"]);
    git(dir, &["add", "."]);
    git(dir, &["commit", "-qm", "hbaas"]);
    let project = unique("hbaas");

    let run = |scenario: &str, env: &[(&str, &str)]| -> (String, String) {
        let repo = format!("go-with-the-flow/{project}-{scenario}");
        let uri = format!("{}/{repo}", s.registry);
        let mut command = test.command();
        // Keep Go's build cache out of the context (the test's HOME is the context).
        command.env("GOCACHE", std::env::temp_dir().join("hoist-test-gocache"));
        command.args([
            "upload-image",
            &format!("PROJECT_NAME={project}"),
            &format!("CONTAINER_URI={uri}"),
        ]);
        for (k, v) in env {
            command.env(k, v);
        }
        let out = command.output().unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{scenario}: {stderr}");
        (repo, uri)
    };
    let check = |scenario: &str, env: &[(&str, &str)], version: &str, expected: &[&str]| {
        let (repo, uri) = run(scenario, env);
        assert_eq!(
            registry_tags(&s.registry, &repo, None),
            sorted(expected),
            "scenario {scenario}"
        );
        let printed = docker(&[
            "run",
            "--rm",
            "--network",
            "host",
            &format!("{uri}:{version}"),
            "--version",
        ]);
        assert_eq!(printed, version, "scenario {scenario}");
    };

    git(dir, &["checkout", "-q", "-b", "develop"]);
    let short = git(dir, &["rev-parse", "--short", "HEAD"]);
    check("develop", &[], &short, &["latest", &short, "develop"]);

    git(dir, &["checkout", "-q", "-b", "feature/containerise-api"]);
    check(
        "feature",
        &[],
        &short,
        &["latest", &short, "feature-containerise-api"],
    );

    git(dir, &["checkout", "-q", "main"]);
    git(dir, &["tag", "-a", "v1.1.0", "-m", "release 1.1.0"]);
    check("release", &[], "v1.1.0", &["latest", "v1.1.0", "main"]);

    git(dir, &["checkout", "-q", "develop"]);
    git(
        dir,
        &["commit", "-q", "--allow-empty", "-m", "after release"],
    );
    git(dir, &["checkout", "-q", "--detach"]);
    let described = git(dir, &["describe", "--tags", "--always"]);
    assert!(described.starts_with("v1.1.0-1-g"), "{described}");
    let ci = [
        ("GITHUB_REF_NAME", "develop"),
        ("GITHUB_REF_TYPE", "branch"),
    ];
    check(
        "detached",
        &ci,
        &described,
        &["latest", &described, "develop"],
    );
}

/// A small image for the registry tests: busybox plus a file.
fn tiny_image_test(push_to: &str) -> Test {
    Test::new()
        .file("Dockerfile", "FROM hoist-test/busybox:latest\nCOPY hello.txt /hello.txt\n")
        .file("hello.txt", "hello\n")
        .hoist_yml(&format!(
            r#"
            tasks:
              push:
                cmds:
                  - build: {{image: hoist-tiny, tags: [v1, latest]}}
                  - push: {{image: "hoist-tiny:v1", to: "{push_to}", tags: [v1, "{{{{ GIT_BRANCH }}}}"]}}
            "#
        ))
}

#[test]
fn push_with_credentials_from_config_json() {
    let Some(s) = services() else { return };
    let repo = unique("config");
    let test = tiny_image_test(&format!("{}/{repo}/app", s.auth_registry));
    let auth = base64_encode(&format!("{}:{}", s.user, s.password));
    let config = format!(
        r#"{{"auths": {{"{}": {{"auth": "{auth}"}}}}}}"#,
        s.auth_registry
    );
    let test = test.file("docker-config/config.json", &config);
    let config_dir = test.path().join("docker-config");
    let test = test
        .env("DOCKER_CONFIG", config_dir.to_str().unwrap())
        .args(&["push"]);
    let out = test.run();
    out.success();
    assert!(!out.stderr.contains(&s.password) && !out.stdout.contains(&s.password));
    let tags = registry_tags(
        &s.auth_registry,
        &format!("{repo}/app"),
        Some((&s.user, &s.password)),
    );
    assert_eq!(tags, ["v1"]);
}

#[test]
fn push_with_a_credential_helper_and_to_a_tls_registry() {
    let Some(s) = services() else { return };
    let repo = unique("helper");
    let test = tiny_image_test(&format!("{}/{repo}/app", s.tls_registry));
    let helper = format!(
        "#!/bin/sh\nread server\nprintf '{{\"ServerURL\":\"%s\",\"Username\":\"{}\",\"Secret\":\"{}\"}}' \"$server\"\n",
        s.user, s.password
    );
    let test = test.file("bin/docker-credential-hoisttest", &helper).file(
        "docker-config/config.json",
        &format!(
            r#"{{"credHelpers": {{"{}": "hoisttest"}}}}"#,
            s.tls_registry
        ),
    );
    let bin = test.path().join("bin");
    std::fs::set_permissions(
        bin.join("docker-credential-hoisttest"),
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .unwrap();
    let path = format!("{}:{}", bin.display(), std::env::var("PATH").unwrap());
    let config_dir = test.path().join("docker-config");
    let out = test
        .env("PATH", &path)
        .env("DOCKER_CONFIG", config_dir.to_str().unwrap())
        .args(&["push"])
        .run();
    out.success();
    assert!(!out.stderr.contains(&s.password));
    assert_eq!(
        registry_tags(
            &s.tls_registry,
            &format!("{repo}/app"),
            Some((&s.user, &s.password))
        ),
        ["v1"]
    );
}

#[test]
fn wrong_credentials_fail_clearly_without_the_secret() {
    let Some(s) = services() else { return };
    let repo = unique("wrong");
    let secret = "wr0ng+s3cret/value";
    let out = tiny_image_test(&format!("{}/{repo}/app", s.auth_registry))
        .env("HOIST_REGISTRY_USER", &s.user)
        .env("HOIST_REGISTRY_PASSWORD", secret)
        .args(&["push", "-v"])
        .run();
    out.status(210)
        .stderr_has(&format!(
            "error: task `push`: push to {} failed for {repo}/app: tag `v1`:",
            s.auth_registry
        ))
        .stderr_has("no tag landed")
        .stderr_has(&format!(
            "help: check the credentials for {}: `docker login {}`",
            s.auth_registry, s.auth_registry
        ));
    assert!(!out.stderr.contains(secret) && !out.stdout.contains(secret));
}

#[test]
fn env_credentials_work_when_their_encoding_needs_url_safe_base64() {
    let Some(s) = services() else { return };
    let repo = unique("env");
    let out = tiny_image_test(&format!("{}/{repo}/app", s.auth_registry))
        .env("HOIST_REGISTRY_USER", &s.user)
        .env("HOIST_REGISTRY_PASSWORD", &s.password)
        .args(&["push"])
        .run();
    out.success();
    assert_eq!(
        registry_tags(
            &s.auth_registry,
            &format!("{repo}/app"),
            Some((&s.user, &s.password))
        ),
        ["v1"]
    );
}

#[test]
fn daemon_down_says_where_it_looked() {
    if services().is_none() {
        return;
    }
    tiny_image_test("127.0.0.1:5000/x/app")
        .env("DOCKER_HOST", "unix:///tmp/hoist-no-such-docker.sock")
        .args(&["push"])
        .run()
        .status(210)
        .stderr_has("error: task `push`: cannot reach the Docker engine at unix:///tmp/hoist-no-such-docker.sock")
        .stderr_has("help: start the engine");
}

#[test]
fn failing_run_step_shows_the_step_and_its_output() {
    if services().is_none() {
        return;
    }
    Test::new()
        .file(
            "Dockerfile",
            "FROM hoist-test/busybox:latest\nRUN echo boom-output && exit 3\n",
        )
        .hoist_yml("tasks:\n  b:\n    cmds:\n      - build: {image: hoist-failing, tags: [x]}\n")
        .args(&["b", "-s"])
        .run()
        .status(210)
        .stderr_has("error: task `b`: building `hoist-failing:x` failed at `Step 2/")
        .stderr_has(" : RUN echo boom-output && exit 3`")
        .stderr_has("boom-output")
        .stderr_has("returned a non-zero code: 3");
}

#[test]
fn missing_dockerfile() {
    if services().is_none() {
        return;
    }
    Test::new()
        .hoist_yml("tasks:\n  b:\n    cmds:\n      - build: {image: hoist-nothing, dockerfile: build/Dockerfile}\n")
        .args(&["b"])
        .run()
        .status(210)
        .stderr_has("build/Dockerfile does not exist")
        .stderr_has("help: set `dockerfile:`");
}

#[test]
fn registry_refusing_the_connection_names_registry_repo_and_tag() {
    if services().is_none() {
        return;
    }
    tiny_image_test("127.0.0.1:1/refused/app")
        .args(&["push"])
        .run()
        .status(210)
        .stderr_has("error: task `push`: push to 127.0.0.1:1 failed for refused/app: tag `v1`:")
        .stderr_has("retrying")
        .stderr_has("no tag landed");
}

#[test]
fn invalid_repository_fails_before_anything_is_built() {
    Test::new()
        .file("Dockerfile", "FROM hoist-test/busybox:latest\n")
        .hoist_yml(
            r#"
            vars: {ORG: "Go With The Flow"}
            tasks:
              release:
                cmds:
                  - touch built-marker
                  - build: {image: app}
                  - push: {image: app, to: "localhost:5000/{{ ORG }}/app"}
            "#,
        )
        .args(&["release"])
        .run()
        .status(210)
        .stderr_has("invalid repository `localhost:5000/Go With The Flow/app` (from `localhost:5000/{{ ORG }}/app` at ")
        .stderr_lacks("hoist: [release] touch built-marker");
}

#[test]
fn dry_run_describes_image_steps_and_contacts_no_daemon() {
    let out = Test::new()
        .file("Dockerfile", "FROM scratch\n")
        .hoist_yml(
            r#"
            vars: {BRANCH: "feature/Containerise API"}
            tasks:
              release:
                cmds:
                  - build: {image: app, args: {version: "1.0"}, tags: [latest, "{{ BRANCH }}", "", latest]}
                  - push: {image: "app:latest", to: "localhost:5000/org/app", tags: [latest, "{{ BRANCH }}"]}
                  - tag: {image: "app:latest", as: "app:stable"}
            "#,
        )
        .env("DOCKER_HOST", "unix:///tmp/hoist-no-such-docker.sock")
        .env("GIT_CEILING_DIRECTORIES", "/")
        .args(&["--dry", "release"])
        .run();
    out.success()
        .stderr_has("hoist: [release] build app from context .")
        .stderr_has("hoist: [release]   arg: version=1.0")
        .stderr_has("hoist: [release]   tag: app:latest\nhoist: [release]   tag: app:feature-containerise-api\n")
        .stderr_has("hoist: [release]   push: localhost:5000/org/app:feature-containerise-api")
        .stderr_has("hoist: [release] tag app:latest as app:stable");
}

#[test]
fn latest_policy_auto_keeps_latest_only_for_releases_and_the_default_branch() {
    let test = Test::new().file("Dockerfile", "FROM scratch\n").hoist_yml(
        "tasks:\n  r:\n    cmds:\n      - build: {image: app, tags: [latest, \"{{ GIT_BRANCH }}\"], latest: auto}\n",
    );
    git(test.path(), &["init", "-q"]);
    git(test.path(), &["add", "."]);
    git(test.path(), &["commit", "-qm", "x"]);
    let mut test = test;
    test.run_with(&["--dry", "r"])
        .success()
        .stderr_has("tag: app:latest");
    git(test.path(), &["checkout", "-q", "-b", "feature/x"]);
    let out = test.run_with(&["--dry", "r"]);
    out.success().stderr_has("tag: app:feature-x");
    assert!(!out.stderr.contains("tag: app:latest"), "{}", out.stderr);
    git(test.path(), &["tag", "v2.0.0"]);
    test.run_with(&["--dry", "r"])
        .success()
        .stderr_has("tag: app:latest");
}

fn base64_encode(text: &str) -> String {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.encode(text)
}

#[test]
fn ci_logs_group_build_output_without_control_characters() {
    if services().is_none() {
        return;
    }
    let out = Test::new()
        .file(
            "Dockerfile",
            "FROM hoist-test/busybox:latest\nRUN echo to-stderr >&2\n",
        )
        .hoist_yml(
            "tasks:\n  b:\n    cmds:\n      - build: {image: hoist-grouped, no_cache: true}\n",
        )
        .env("GITHUB_ACTIONS", "true")
        .args(&["b"])
        .run();
    out.success();
    // The group markers are on stderr, the build output they wrap on stdout.
    assert!(out.stdout.contains("Step 1/"), "{}", out.stdout);
    assert!(!out.stdout.contains("::"), "{}", out.stdout);
    let group = out
        .stderr
        .find("::group::b\n")
        .expect("a group for the task");
    let end = out.stderr.find("::endgroup::").expect("the group ends");
    assert!(group < end, "{}", out.stderr);
    assert!(out.stdout.contains("to-stderr"));
    let control = |c: char| c.is_control() && c != '\n';
    assert!(
        !out.stdout.contains(control) && !out.stderr.contains(control),
        "{:?}",
        out.stdout
    );
    out.stderr_has("hoist: [b] built hoist-grouped:latest");
}

/// DOCKER_HOST over tcp with DOCKER_TLS_VERIFY and DOCKER_CERT_PATH, as the
/// docker CLI reads them; without TLS the same endpoint is refused clearly.
#[test]
fn engine_over_tcp_with_tls() {
    if services().is_none() {
        return;
    }
    let host = std::env::var("HOIST_TEST_ENGINE_TLS_HOST").expect("set by scripts/setup.sh");
    let certs = std::env::var("HOIST_TEST_ENGINE_TLS_CERTS").expect("set by scripts/setup.sh");
    let test = Test::new()
        .file(
            "Dockerfile",
            "FROM hoist-test/busybox:latest\nCOPY hello.txt /hello.txt\n",
        )
        .file("hello.txt", "hello\n")
        .hoist_yml(
            "tasks:\n  b:\n    cmds:\n      - build: {image: hoist-tls-engine, tags: [v1]}\n",
        )
        .env("DOCKER_HOST", &host)
        .args(&["b"]);
    let test = test.env("DOCKER_CERT_PATH", &certs);
    test.run()
        .status(210)
        .stderr_has(&format!("cannot reach the Docker engine at {host}"))
        .stderr_has("help: this endpoint speaks TLS: set DOCKER_TLS_VERIFY=1");
    let test = test.env("DOCKER_TLS_VERIFY", "1");
    test.run()
        .success()
        .stderr_has("hoist: [b] built hoist-tls-engine:v1");
}
