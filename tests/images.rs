//! Image steps against the real Docker engine and registries that
//! `scripts/setup.sh` starts (`scripts/test.sh` sets `HOIST_DOCKER_TESTS=1`).

use crate::common::{git, Made, Test};
use std::path::Path;
use std::process::Command;

/// The registries and credentials of scripts/setup.sh, or `None` (and a note)
/// when the services were not started for this run.
pub(crate) struct Services {
    pub(crate) registry: String,
    auth_registry: String,
    tls_registry: String,
    user: String,
    password: String,
}

/// The engine and registries `scripts/setup.sh` starts. Tests that need them
/// are `#[ignore]`d with this reason, so a plain `cargo test` lists them as
/// ignored instead of passing them; `scripts/test.sh` runs them with `--ignored`.
/// Run without the services, they fail and say what to do.
pub(crate) fn services() -> Services {
    assert!(
        std::env::var("HOIST_DOCKER_TESTS").as_deref() == Ok("1"),
        "this test needs the Docker engine and registries: run scripts/test.sh, which starts \
         them and sets HOIST_DOCKER_TESTS=1"
    );
    let var = |name: &str| {
        std::env::var(name).unwrap_or_else(|_| {
            panic!("{name} is not set: source the env file of scripts/setup.sh")
        })
    };
    Services {
        registry: var("HOIST_TEST_REGISTRY"),
        auth_registry: var("HOIST_TEST_AUTH_REGISTRY"),
        tls_registry: var("HOIST_TEST_TLS_REGISTRY"),
        user: var("HOIST_TEST_AUTH_USER"),
        password: var("HOIST_TEST_AUTH_PASSWORD"),
    }
}

/// A repository path no other test run uses.
pub(crate) fn unique(name: &str) -> String {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    format!("test-{name}-{}-{nanos}", std::process::id())
}

/// The tags in `repo` as the registry's HTTP API lists them, sorted.
pub(crate) fn registry_tags(registry: &str, repo: &str, auth: Option<(&str, &str)>) -> Vec<String> {
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

pub(crate) fn docker(args: &[&str]) -> String {
    engine_cli("docker", args)
}

/// What an engine's CLI (`docker`, `podman`) prints, which must succeed.
pub(crate) fn engine_cli(cli: &str, args: &[&str]) -> String {
    let out = Command::new(cli).args(args).output().unwrap();
    assert!(
        out.status.success(),
        "{cli} {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

pub(crate) fn copy_example(to: &Path) {
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

/// The example service in a git repository of one commit, on `main`.
pub(crate) fn example_checkout() -> Test {
    let test = Test::new();
    let dir = test.path();
    copy_example(dir);
    git(dir, &["init", "-q"]);
    git(dir, &["add", "."]);
    git(dir, &["commit", "-qm", "hbaas"]);
    test
}

pub(crate) fn sorted(tags: &[&str]) -> Vec<String> {
    let mut tags: Vec<String> = tags.iter().map(std::string::ToString::to_string).collect();
    tags.sort();
    tags
}

/// The example's pipeline on a git-flow history: the exact tags that land,
/// and the VERSION the pushed image was built with.
#[test]
#[ignore = "needs the Docker engine and registries: scripts/test.sh runs it"]
fn example_pipeline_on_a_git_flow_history() {
    let s = services();
    let test = example_checkout();
    let dir = test.path();
    let project = unique("hbaas");
    let _made = Made::by(&[&project]);

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
/// Its local name is made from `push_to`, so that tests running at once never
/// share (nor remove) each other's images.
fn tiny_image_test(push_to: &str) -> Test {
    let local = format!("hoist-tiny-{}", push_to.replace(['/', ':', '.'], "-"));
    Test::new()
        .file("Dockerfile", "FROM hoist-test/busybox:latest\nCOPY hello.txt /hello.txt\n")
        .file("hello.txt", "hello\n")
        .hoist_yml(&format!(
            r#"
            tasks:
              push:
                cmds:
                  - build: {{image: {local}, tags: [v1, latest]}}
                  - push: {{image: "{local}:v1", to: "{push_to}", tags: [v1, "{{{{ GIT_BRANCH }}}}"]}}
            "#
        ))
}

#[test]
#[ignore = "needs the Docker engine and registries: scripts/test.sh runs it"]
fn push_with_credentials_from_config_json() {
    let s = services();
    let repo = unique("config");
    let _made = Made::by(&[&repo]);
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
    out.success().stderr_has("/app:v1 sha256:");
    assert!(!out.stderr.contains(&s.password) && !out.stdout.contains(&s.password));
    let tags = registry_tags(
        &s.auth_registry,
        &format!("{repo}/app"),
        Some((&s.user, &s.password)),
    );
    assert_eq!(tags, ["v1"]);
}

#[test]
#[ignore = "needs the Docker engine and registries: scripts/test.sh runs it"]
fn push_with_a_credential_helper_and_to_a_tls_registry() {
    let s = services();
    let repo = unique("helper");
    let _made = Made::by(&[&repo]);
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
    out.success().stderr_has("/app:v1 sha256:");
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
#[ignore = "needs the Docker engine and registries: scripts/test.sh runs it"]
fn wrong_credentials_fail_clearly_without_the_secret() {
    let s = services();
    let repo = unique("wrong");
    let _made = Made::by(&[&repo]);
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
        .stderr_has("\n  --> hoist.yml:5:")
        .stderr_has(&format!(
            "help: check the credentials for {}: `docker login {}`",
            s.auth_registry, s.auth_registry
        ));
    // The snippet points at the tag that failed.
    let lines: Vec<&str> = out.stderr.lines().collect();
    let at = lines.iter().position(|l| l.starts_with("5 | ")).unwrap();
    // In characters: a long line is cropped behind a `…`.
    let caret = lines[at + 1].chars().position(|c| c == '^').unwrap();
    let under: String = lines[at].chars().skip(caret).take(2).collect();
    assert_eq!(under, "v1", "{}", out.stderr);
    assert!(!out.stderr.contains(secret) && !out.stdout.contains(secret));
}

#[test]
#[ignore = "needs the Docker engine and registries: scripts/test.sh runs it"]
fn env_credentials_work_when_their_encoding_needs_url_safe_base64() {
    let s = services();
    let repo = unique("env");
    let _made = Made::by(&[&repo]);
    let out = tiny_image_test(&format!("{}/{repo}/app", s.auth_registry))
        .env("HOIST_REGISTRY_USER", &s.user)
        .env("HOIST_REGISTRY_PASSWORD", &s.password)
        .args(&["push"])
        .run();
    out.success()
        .stderr_has("/app:v1 sha256:")
        .stderr_lacks(&s.password);
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
    tiny_image_test("127.0.0.1:5000/x/app")
        .env("DOCKER_HOST", "unix:///tmp/hoist-no-such-docker.sock")
        .args(&["push"])
        .run()
        .status(210)
        .stderr_has("error: task `push`: cannot reach the Docker engine at unix:///tmp/hoist-no-such-docker.sock")
        .stderr_has("help: start the engine");
}

/// The classic builder's `Step n/m` lines (BuildKit's: tests/buildkit.rs).
#[test]
#[ignore = "needs the Docker engine and registries: scripts/test.sh runs it"]
fn failing_run_step_shows_the_step_and_its_output() {
    services();
    let _made = Made::by(&["hoist-failing"]);
    Test::new()
        .file(
            "Dockerfile",
            "FROM hoist-test/busybox:latest\nRUN echo boom-output && exit 3\n",
        )
        .hoist_yml("tasks:\n  b:\n    cmds:\n      - build: {image: hoist-failing, tags: [x], builder: classic}\n")
        .args(&["b", "-s"])
        .run()
        .status(210)
        .stderr_has("error: task `b`: building `hoist-failing:x` failed at `Step 2/")
        .stderr_has(" : RUN echo boom-output && exit 3`")
        .stderr_has("boom-output")
        .stderr_has("returned a non-zero code: 3")
        .stderr_has("\n  --> hoist.yml:4:24\n  |\n4 |       - build: {image: hoist-failing, tags: [x], builder: classic}\n  |                        ^\n");
}

#[test]
#[ignore = "needs the Docker engine and registries: scripts/test.sh runs it"]
fn missing_dockerfile() {
    services();
    Test::new()
        .hoist_yml("tasks:\n  b:\n    cmds:\n      - build: {image: hoist-nothing, dockerfile: build/Dockerfile}\n")
        .args(&["b"])
        .run()
        .status(210)
        .stderr_has("build/Dockerfile does not exist\n  --> hoist.yml:4:9\n")
        .stderr_has("help: set `dockerfile:`");
}

#[test]
#[ignore = "needs the Docker engine and registries: scripts/test.sh runs it"]
fn registry_refusing_the_connection_names_registry_repo_and_tag() {
    services();
    let _made = Made::by(&["hoist-tiny-127-0-0-1-1-refused", "127.0.0.1:1/refused/"]);
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
        .stderr(
            r#"
            error: task `release`: invalid repository `localhost:5000/Go With The Flow/app` (from `localhost:5000/{{ ORG }}/app`): path component `Go With The Flow` has the uppercase letter `G` (repository names are lowercase)
              --> hoist.yml:7:32
              |
            7 |       - push: {image: app, to: "localhost:5000/{{ ORG }}/app"}
              |                                ^
            help: a repository is `[HOST[:PORT]/]path/name` in lowercase letters, digits and `._-`
            "#,
        );
}

/// Every image step's values point at their own line, in block and flow
/// mappings alike, with or without `--dry`.
#[test]
fn invalid_names_show_where_they_are_written() {
    let mut test = Test::new().hoist_yml(
        r#"
        tasks:
          b:
            cmds:
              - build:
                  image: "App"
          t:
            cmds:
              - tag: {image: app, as: "Bad Name:v1"}
        "#,
    );
    test.run_with(&["--dry", "b"])
        .status(210)
        .stderr_has("error: task `b`: invalid repository `App`: path component `App`")
        .stderr_has(
            "  --> hoist.yml:5:18\n  |\n5 |           image: \"App\"\n  |                  ^\n",
        );
    test.run_with(&["t"])
        .status(210)
        .stderr_has("error: task `t`: invalid repository `Bad Name` (from `Bad Name:v1`): ")
        .stderr_has("  --> hoist.yml:8:31\n  |\n8 |       - tag: {image: app, as: \"Bad Name:v1\"}\n  |                               ^\n");
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
#[ignore = "needs the Docker engine and registries: scripts/test.sh runs it"]
fn ci_logs_group_build_output_without_control_characters() {
    services();
    let _made = Made::by(&["hoist-grouped"]);
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
    assert!(
        out.stdout.contains("RUN echo to-stderr >&2\n"),
        "{}",
        out.stdout
    );
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

/// `DOCKER_HOST` over tcp with `DOCKER_TLS_VERIFY` and `DOCKER_CERT_PATH`, as the
/// docker CLI reads them; without TLS the same endpoint is refused clearly.
#[test]
#[ignore = "needs the Docker engine and registries: scripts/test.sh runs it"]
fn engine_over_tcp_with_tls() {
    services();
    let _made = Made::by(&["hoist-tls-engine"]);
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

/// An engine certificate that our ca.pem did not sign: the error says why the
/// handshake failed and the help points at `DOCKER_CERT_PATH`.
#[test]
#[ignore = "needs the Docker engine and registries: scripts/test.sh runs it"]
fn engine_whose_certificate_is_not_trusted() {
    services();
    let host = std::env::var("HOIST_TEST_ENGINE_TLS_HOST").expect("set by scripts/setup.sh");
    let certs = Path::new(&std::env::var("HOIST_TEST_ENGINE_TLS_CERTS").unwrap()).to_owned();
    let read = |name: &str| std::fs::read_to_string(certs.join(name)).unwrap();
    // Our own client certificate stands in for a CA that signed nothing.
    let test = Test::new()
        .file("certs/ca.pem", &read("cert.pem"))
        .file("certs/cert.pem", &read("cert.pem"))
        .file("certs/key.pem", &read("key.pem"))
        .hoist_yml("tasks:\n  b:\n    cmds:\n      - build: {image: hoist-untrusted}\n");
    let cert_path = test.path().join("certs");
    test.env("DOCKER_HOST", &host)
        .env("DOCKER_TLS_VERIFY", "1")
        .env("DOCKER_CERT_PATH", cert_path.to_str().unwrap())
        .args(&["b"])
        .run()
        .status(210)
        .stderr_has(&format!(
            "error: task `b`: cannot reach the Docker engine at {host}: "
        ))
        .stderr_has("invalid peer certificate: UnknownIssuer")
        .stderr_has(
            "help: check that DOCKER_HOST is the engine's TLS port and that DOCKER_CERT_PATH",
        );
}

#[test]
fn docker_host_with_an_unknown_scheme() {
    Test::new()
        .hoist_yml("tasks:\n  b:\n    cmds:\n      - build: {image: app}\n")
        .env("DOCKER_HOST", "ssh://builder@example.invalid")
        .args(&["b"])
        .run()
        .status(210)
        .stderr_has("error: task `b`: cannot reach the Docker engine at ssh://builder@example.invalid: DOCKER_HOST must start with unix://, tcp://, http:// or https://")
        .stderr_has("help: e.g. DOCKER_HOST=unix:///var/run/docker.sock");
}

/// Removes local images when a test ends, passed or not.
struct LocalImages(Vec<String>);

impl Drop for LocalImages {
    fn drop(&mut self) {
        let _ = Command::new("docker")
            .args(["rmi", "-f"])
            .args(&self.0)
            .output();
    }
}

/// Containers, running or not, whose command line holds `text`.
fn containers_of(text: &str) -> Vec<String> {
    docker(&[
        "ps",
        "-a",
        "--no-trunc",
        "--format",
        "{{.ID}} {{.Status}} {{.Command}}",
    ])
    .lines()
    .filter(|line| line.contains(text))
    .map(str::to_owned)
    .collect()
}

/// The classic builder: Ctrl-C or SIGTERM while a `RUN sleep 60` runs: hoist stops the build on the
/// engine and exits 130 at once, and no container of that build is left.
#[test]
#[ignore = "needs the Docker engine and registries: scripts/test.sh runs it"]
fn interrupting_a_build_stops_it_on_the_engine() {
    services();
    use nix::sys::signal::Signal;
    for signal in [Signal::SIGINT, Signal::SIGTERM] {
        let marker = unique("sleeping");
        let image = unique("hoist-interrupted");
        let _images = LocalImages(vec![format!("{image}:latest")]);
        let test = Test::new()
            .file(
                "Dockerfile",
                &format!("FROM hoist-test/busybox:latest\nRUN printf 'started %s\\n' {marker} && sleep 60\n"),
            )
            .hoist_yml(&format!(
                "tasks:\n  b:\n    cmds:\n      - build: {{image: {image}, builder: classic}}\n"
            ))
            .args(&["b"]);
        let started = format!("[b] started {marker}");
        let out = crate::common::signal_once_printed(&test, |line| line == started, signal);
        eprintln!(
            "{signal}: exit {:?} {} ms after the signal",
            out.status,
            out.took.as_millis()
        );
        let context = format!(
            "{signal}\n--- stdout\n{}\n--- stderr\n{}",
            out.stdout, out.stderr
        );
        assert_eq!(out.status, Some(130), "{context}");
        assert!(
            // About 2 s, with room for an engine busy with the other tests.
            out.took < std::time::Duration::from_secs(5),
            "took {:?}: {context}",
            out.took
        );
        let container = out
            .stdout
            .lines()
            .find_map(|l| l.strip_prefix("[b]  ---> Running in "))
            .unwrap_or_else(|| panic!("no build container in the output: {context}"));
        assert!(
            out.stderr.contains(&format!(
                "warning: task `b`: building `{image}:latest` interrupted at `Step 2/"
            )) && out.stderr.contains(" : RUN printf 'started %s\\n' ")
                && out.stderr.contains(&format!("its container {container}")),
            "{context}"
        );
        assert!(out.stderr.ends_with("error: interrupted\n"), "{context}");
        // Gone now, or (on an engine too busy to answer at once) very soon.
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while !containers_of(&marker).is_empty() && std::time::Instant::now() < deadline {
            std::thread::sleep(std::time::Duration::from_millis(200));
        }
        assert_eq!(containers_of(&marker), Vec::<String>::new(), "{context}");
        let inspect = Command::new("docker")
            .args(["container", "inspect", container])
            .output()
            .unwrap();
        assert!(
            !inspect.status.success(),
            "{container} still exists: {context}"
        );
    }
}

/// The test's push task: a fresh image with a large random layer (so that its
/// upload takes seconds and no registry has it yet), pushed under `tags`; then
/// a command, so that a signal that comes after the push still finds hoist.
fn large_push_test(image: &str, to: &str, tags: &[&str]) -> Test {
    // 256 MB the engine gzips (random data does not shrink) before it uploads.
    Test::new()
        .file(
            "Dockerfile",
            "FROM hoist-test/busybox:latest\nRUN head -c 256000000 /dev/urandom > /blob\n",
        )
        .hoist_yml(&format!(
            r#"
            tasks:
              p:
                cmds:
                  - build: {{image: {image}, tags: [v1], no_cache: true}}
                  - push: {{image: "{image}:v1", to: "{to}", tags: [{}]}}
                  - sleep 30
            "#,
            tags.join(", ")
        ))
        .args(&["p"])
}

/// The tags hoist said did and did not land, from its interruption warning.
fn interrupted_push_report(stderr: &str, repo: &str) -> Option<(Vec<String>, Vec<String>)> {
    let line = stderr
        .lines()
        .find(|l| l.contains(&format!(" interrupted for {repo}: ")))?;
    let list = |label: &str| -> Vec<String> {
        let Some(start) = line.find(label) else {
            return Vec::new();
        };
        let rest = &line[start + label.len()..];
        let mut tags: Vec<String> = rest
            .split(';')
            .next()
            .unwrap()
            .split(", ")
            .map(str::to_owned)
            .collect();
        tags.sort();
        tags
    };
    Some((
        list("tags that did land: "),
        list("tags that did not land: "),
    ))
}

/// Ctrl-C during the upload of the first tag: the engine stops the push (no
/// tag lands, then or later) and hoist says that no tag landed.
#[test]
#[ignore = "needs the Docker engine and registries: scripts/test.sh runs it"]
fn interrupting_a_push_stops_it_and_says_no_tag_landed() {
    let s = services();
    let image = unique("hoist-large");
    let repo = format!("{}/app", unique("interrupted"));
    let to = format!("{}/{repo}", s.registry);
    let tags = ["v1", "v2", "v3"];
    let mut refs = vec![format!("{image}:v1")];
    refs.extend(tags.iter().map(|t| format!("{to}:{t}")));
    let _images = LocalImages(refs);
    let test = large_push_test(&image, &to, &tags);
    let pushing = format!("hoist: [p] push {image}:v1");
    let out = crate::common::signal_once_printed(
        &test,
        |line| {
            // Into the upload of the layer (which takes seconds).
            line == pushing && {
                std::thread::sleep(std::time::Duration::from_secs(1));
                true
            }
        },
        nix::sys::signal::Signal::SIGINT,
    );
    eprintln!(
        "push interrupted: exit {:?} {} ms after the signal",
        out.status,
        out.took.as_millis()
    );
    let context = format!("--- stdout\n{}\n--- stderr\n{}", out.stdout, out.stderr);
    assert_eq!(out.status, Some(130), "{context}");
    assert!(
        out.took < std::time::Duration::from_secs(3),
        "took {:?}: {context}",
        out.took
    );
    assert!(
        out.stderr.contains(&format!(
            "warning: task `p`: push to {} interrupted for {repo}: tags that did not land: v1, v2, v3; no tag landed\n",
            s.registry
        )),
        "{context}"
    );
    assert!(out.stderr.ends_with("error: interrupted\n"), "{context}");
    // The engine stopped the upload rather than finishing it without hoist:
    // the registry holds part of the layer, and once it has written what was
    // under way (a moment), no more arrives.
    std::thread::sleep(std::time::Duration::from_secs(1));
    let uploaded = upload_bytes(&repo);
    assert!(uploaded > 0, "no upload had started: {context}");
    std::thread::sleep(std::time::Duration::from_secs(2));
    assert_eq!(
        upload_bytes(&repo),
        uploaded,
        "the upload goes on: {context}"
    );
    assert_eq!(
        registry_tags(&s.registry, &repo, None),
        Vec::<String>::new()
    );
}

/// The bytes of unfinished blob uploads to `repo` in the plain registry, as
/// its storage (under scripts/setup.sh's state directory) holds them.
fn upload_bytes(repo: &str) -> u64 {
    let state = std::env::var("HOIST_STATE_DIR")
        .expect("HOIST_STATE_DIR is not set: source the env file of scripts/setup.sh");
    let uploads = Path::new(&state)
        .join("registry-plain/data/docker/registry/v2/repositories")
        .join(repo)
        .join("_uploads");
    let Ok(entries) = std::fs::read_dir(uploads) else {
        return 0;
    };
    entries
        .filter_map(|e| std::fs::metadata(e.ok()?.path().join("data")).ok())
        .map(|m| m.len())
        .sum()
}

/// Ctrl-C once the first tag has landed, while the others follow (they land
/// about 0.1 s later): what hoist says did and did not land is what the
/// registry has.
#[test]
#[ignore = "needs the Docker engine and registries: scripts/test.sh runs it"]
fn interrupting_a_push_after_a_tag_landed_says_which_did() {
    let s = services();
    let image = unique("hoist-large");
    let repo = format!("{}/app", unique("half-pushed"));
    let to = format!("{}/{repo}", s.registry);
    let tags: Vec<String> = (1..=12).map(|i| format!("t{i}")).collect();
    let tags: Vec<&str> = tags.iter().map(String::as_str).collect();
    let mut refs = vec![format!("{image}:v1")];
    refs.extend(tags.iter().map(|t| format!("{to}:{t}")));
    let _images = LocalImages(refs);
    let test = large_push_test(&image, &to, &tags);
    let first_landed = format!("hoist: [p] pushed {to}:t1 sha256:");
    let out = crate::common::signal_once_printed(
        &test,
        |line| line.starts_with(&first_landed),
        nix::sys::signal::Signal::SIGINT,
    );
    let context = format!("--- stdout\n{}\n--- stderr\n{}", out.stdout, out.stderr);
    let in_registry = registry_tags(&s.registry, &repo, None);
    eprintln!(
        "push interrupted after t1 landed: exit {:?} {} ms after the signal; the registry has {in_registry:?}",
        out.status,
        out.took.as_millis()
    );
    assert_eq!(out.status, Some(130), "{context}");
    assert!(
        out.took < std::time::Duration::from_secs(3),
        "took {:?}: {context}",
        out.took
    );
    let Some((landed, not_landed)) = interrupted_push_report(&out.stderr, &repo) else {
        // The signal came after the last tag had landed (and stopped the next step).
        eprintln!("every tag had landed before the signal");
        assert_eq!(in_registry, sorted(&tags), "{context}");
        for tag in &tags {
            assert!(
                out.stderr
                    .contains(&format!("hoist: [p] pushed {to}:{tag} sha256:")),
                "{context}"
            );
        }
        return;
    };
    assert!(landed.contains(&"t1".to_owned()), "{context}");
    assert_eq!(landed, in_registry, "{context}");
    let mut all: Vec<String> = landed.iter().chain(&not_landed).cloned().collect();
    all.sort();
    assert_eq!(all, sorted(&tags), "{context}");
    // Every tag that landed was also reported as it landed.
    for tag in &landed {
        assert!(
            out.stderr
                .contains(&format!("hoist: [p] pushed {to}:{tag} sha256:")),
            "{context}"
        );
    }
}

/// A git repository (a `v1.0.0` tag on `main`) holding the Go service of
/// examples/hbaas and the Taskfile of examples/tutorial with `project` as its
/// `PROJECT_NAME`.
/// The example service's sources and Dockerfile (no task file).
pub(crate) fn copy_service(example: &Path, to: &Path) {
    for name in [
        "Dockerfile",
        "go.mod",
        "main.go",
        "main_test.go",
        ".dockerignore",
    ] {
        std::fs::copy(example.join(name), to.join(name)).unwrap();
    }
}

fn tutorial_copy(project: &str) -> Test {
    let examples = Path::new(env!("CARGO_MANIFEST_DIR")).join("examples");
    let example = examples.join("hbaas");
    let tutorial = std::fs::read_to_string(examples.join("tutorial/Taskfile.yml")).unwrap();
    let test = Test::new();
    let dir = test.path();
    copy_service(&example, dir);
    let taskfile = tutorial.replace(
        "PROJECT_NAME: hbaas-server",
        &format!("PROJECT_NAME: {project}"),
    );
    assert_ne!(
        taskfile, tutorial,
        "the tutorial names its project hbaas-server"
    );
    std::fs::write(dir.join("Taskfile.yml"), taskfile).unwrap();
    git(dir, &["init", "-q", "-b", "main"]);
    git(dir, &["add", "."]);
    git(dir, &["commit", "-qm", "tutorial"]);
    git(dir, &["tag", "-a", "v1.0.0", "-m", "release 1.0.0"]);
    test
}

/// The founding tutorial's Taskfile (examples/tutorial), unchanged but for
/// its project name (so that the two tools' images and repositories can be
/// told apart), run by go-task and by hoist: the same exit codes and the same
/// tags in the registry, on `main` with a release tag and on `feature/x`,
/// where both fail (`feature/x` is not a valid tag) and hoist says, once,
/// which step avoids it.
#[test]
#[ignore = "needs the Docker engine and registries: scripts/test.sh runs it"]
fn tutorial_taskfile_lands_what_go_task_lands() {
    let s = services();
    assert_eq!(
        s.registry, "127.0.0.1:5000",
        "the tutorial pushes to localhost:5000"
    );
    let go_task = crate::compat::go_task().unwrap_or_else(|why| {
        panic!("this test compares with go-task 3.54 (scripts/setup.sh installs it): {why}")
    });
    let tools = [
        ("go-task", unique("tut-gotask")),
        ("hoist", unique("tut-hoist")),
        ("hoist --migrate", unique("tut-migrated")),
    ];
    let _made = Made::by(&[&tools[0].1, &tools[1].1, &tools[2].1]);
    let tests: Vec<Test> = tools
        .iter()
        .map(|(_, project)| tutorial_copy(project))
        .collect();
    // The third copy runs the native file `hoist --migrate` writes.
    let migrate = tests[2]
        .command()
        .args(["--migrate", "--to", "hoist.yml"])
        .output()
        .unwrap();
    let summary = String::from_utf8_lossy(&migrate.stderr);
    assert!(migrate.status.success(), "{summary}");
    assert!(summary.contains("migrated everything"), "{summary}");
    let run = |i: usize| -> (i32, String) {
        let test = &tests[i];
        let mut command = if i == 0 {
            let mut c = Command::new(&go_task);
            c.current_dir(test.path()).env("HOME", test.path());
            c
        } else {
            test.command()
        };
        command.arg("upload-image").env_remove("VERSION");
        command.env("GOCACHE", std::env::temp_dir().join("hoist-test-gocache"));
        let out = command.output().unwrap();
        (
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let tags = |i: usize| {
        registry_tags(
            &s.registry,
            &format!("go-with-the-flow/{}", tools[i].1),
            None,
        )
    };

    let (task_code, task_err) = run(0);
    let (hoist_code, hoist_err) = run(1);
    assert_eq!(task_code, 0, "go-task on main: {task_err}");
    assert_eq!(hoist_code, 0, "hoist on main: {hoist_err}");
    assert_eq!(tags(0), sorted(&["latest", "main", "v1.0.0"]));
    assert_eq!(tags(1), tags(0), "hoist landed other tags than go-task");
    let (migrated_code, migrated_err) = run(2);
    assert_eq!(
        migrated_code, 0,
        "migrated hoist.yml on main: {migrated_err}"
    );
    assert_eq!(
        tags(2),
        tags(0),
        "the migrated file landed other tags than go-task"
    );

    for test in &tests {
        git(test.path(), &["checkout", "-q", "-b", "feature/x"]);
    }
    let (task_code, task_err) = run(0);
    let (hoist_code, hoist_err) = run(1);
    assert_eq!(task_code, 201, "go-task on feature/x: {task_err}");
    assert_eq!(hoist_code, task_code, "hoist on feature/x: {hoist_err}");
    assert_eq!(tags(0), sorted(&["latest", "main", "v1.0.0"]));
    assert_eq!(
        tags(1),
        tags(0),
        "hoist on feature/x changed the registry otherwise than go-task"
    );
    let hints: Vec<&str> = hoist_err
        .lines()
        .filter(|l| l.contains("is not a valid image reference"))
        .collect();
    assert_eq!(hints.len(), 1, "one hint line: {hoist_err}");
    assert!(
        hints[0].contains("feature/x")
            && hints[0].contains("feature-x")
            && hints[0].contains("--migrate"),
        "{}",
        hints[0]
    );
}

/// The same commit builds the same image: `created` is the commit's time
/// (not the clock's), so a second `upload-image` seconds later gets the
/// same image id from the build cache and finds every tag already naming
/// it in the registry: nothing is pushed, and hoist says so.
#[test]
#[ignore = "needs the Docker engine and registries: scripts/test.sh runs it"]
fn a_second_upload_of_the_same_commit_changes_nothing() {
    let s = services();
    let test = example_checkout();
    let dir = test.path();
    git(dir, &["tag", "-a", "v2.0.0", "-m", "release 2.0.0"]);
    let project = unique("repro");
    let _made = Made::by(&[&project]);
    let repo = format!("go-with-the-flow/{project}");
    let run = || {
        let out = test
            .command()
            .env("GOCACHE", std::env::temp_dir().join("hoist-test-gocache"))
            .args([
                "upload-image",
                &format!("PROJECT_NAME={project}"),
                &format!("CONTAINER_URI={}/{repo}", s.registry),
            ])
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(out.status.success(), "{stderr}");
        let id = docker(&[
            "image",
            "inspect",
            "--format",
            "{{.Id}}",
            &format!("{project}:v2.0.0"),
        ]);
        (stderr, id)
    };
    let (first, first_id) = run();
    assert!(
        first.contains(&format!("pushed {}/{repo}:v2.0.0", s.registry)),
        "{first}"
    );
    // Into another second, so that a clock-stamped label would differ.
    std::thread::sleep(std::time::Duration::from_millis(1100));
    let (second, second_id) = run();
    assert_eq!(
        second_id, first_id,
        "the rebuild made another image:\n{second}"
    );
    for tag in ["latest", "v2.0.0", "main"] {
        assert!(
            second.contains(&format!("{}/{repo}:{tag} is up to date", s.registry)),
            "{tag}:\n{second}"
        );
    }
    assert!(!second.contains("pushed "), "{second}");
    let created = docker(&[
        "image",
        "inspect",
        "--format",
        "{{ index .Config.Labels \"org.opencontainers.image.created\" }}",
        &first_id,
    ]);
    let epoch = git(dir, &["log", "-1", "--format=%ct"]);
    let out = Command::new("date")
        .args(["-u", "-d", &format!("@{epoch}"), "+%Y-%m-%dT%H:%M:%SZ"])
        .output()
        .unwrap();
    assert_eq!(created, String::from_utf8_lossy(&out.stdout).trim());
    assert_eq!(
        registry_tags(&s.registry, &repo, None),
        sorted(&["latest", "main", "v2.0.0"])
    );
}
