//! Image steps against Podman's Docker-compatible service (`podman system
//! service`, which scripts/setup.sh starts on `HOIST_PODMAN_HOST`) and the
//! same loopback registry as the Docker tests. hoist reaches it the way a
//! user does: `DOCKER_HOST=unix://…/podman.sock`.

use crate::common::{git, Made, Test};
use crate::images::{engine_cli, example_checkout, registry_tags, services, sorted, unique};
use std::process::Command;

/// The test dockerd's socket (scripts/setup.sh), for the Docker side of a comparison.
const DOCKER: &str = "unix:///var/run/docker.sock";

struct Podman {
    /// `unix://…/podman.sock`, for `DOCKER_HOST`.
    host: String,
    registry: String,
}

/// The Podman service and registry of scripts/setup.sh. Without them (or
/// when the service does not answer) the test fails and says what to do.
fn podman() -> Podman {
    let registry = services().registry;
    let host = std::env::var("HOIST_PODMAN_HOST")
        .expect("HOIST_PODMAN_HOST is not set: source the env file of scripts/setup.sh");
    let socket = host
        .strip_prefix("unix://")
        .expect("HOIST_PODMAN_HOST is unix://PATH");
    assert_eq!(
        String::from_utf8_lossy(&get(socket, "/_ping")),
        "OK",
        "the Podman service at {host} does not answer: run scripts/setup.sh"
    );
    Podman { host, registry }
}

/// `GET path` of the engine API on a unix socket, as curl gets it.
fn get(socket: &str, path: &str) -> Vec<u8> {
    Command::new("curl")
        .args(["-s", "--max-time", "5", "--unix-socket", socket])
        .arg(format!("http://engine{path}"))
        .output()
        .unwrap()
        .stdout
}

/// `podman ARGS`: rootful podman shares the service's storage.
fn podman_cli(args: &[&str]) -> String {
    engine_cli("podman", args)
}

/// The example pipeline through Podman: its build steps are shown as steps,
/// the tags of a branch and of a release land in the registry, and the
/// pushed image prints the version it was built with.
#[test]
#[ignore = "needs the Podman service and registries: scripts/test.sh runs it"]
fn example_pipeline_through_podman_lands_its_tags() {
    let p = podman();
    let test = example_checkout();
    let dir = test.path();
    let project = unique("podman-hbaas");
    let _made = Made::by(&[&project]).on("podman");

    let check = |scenario: &str, version: &str, expected: &[&str]| {
        let repo = format!("go-with-the-flow/{project}-{scenario}");
        let uri = format!("{}/{repo}", p.registry);
        let out = test
            .command()
            .env("DOCKER_HOST", &p.host)
            // Keep Go's build cache out of the context (the test's HOME is the context).
            .env("GOCACHE", std::env::temp_dir().join("hoist-test-gocache"))
            .args([
                "upload-image",
                &format!("PROJECT_NAME={project}"),
                &format!("CONTAINER_URI={uri}"),
            ])
            .output()
            .unwrap();
        let (stdout, stderr) = (
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr),
        );
        assert!(out.status.success(), "{scenario}: {stderr}");
        // Buildah's `[2/2] STEP 1/9: FROM …` read as a step, in Docker's words
        // (its count holds a LABEL step for each of hoist's labels).
        assert!(
            stdout
                .lines()
                .any(|l| l.starts_with("[build-image] Step 1/")
                    && l.ends_with(" (stage 2/2) : FROM hoist-test/busybox:latest AS runner")),
            "{stdout}"
        );
        assert!(!stdout.contains("STEP "), "{stdout}");
        assert!(
            stderr.contains(&format!("pushed {uri}:{version} sha256:")),
            "{stderr}"
        );
        assert_eq!(
            registry_tags(&p.registry, &repo, None),
            sorted(expected),
            "scenario {scenario}"
        );
        let printed = podman_cli(&["run", "--rm", &format!("{uri}:{version}"), "--version"]);
        assert_eq!(printed, version, "scenario {scenario}");
    };

    git(dir, &["checkout", "-q", "-b", "develop"]);
    let short = git(dir, &["rev-parse", "--short", "HEAD"]);
    check("develop", &short, &["latest", &short, "develop"]);

    git(dir, &["checkout", "-q", "main"]);
    git(dir, &["tag", "-a", "v1.1.0", "-m", "release 1.1.0"]);
    check("release", "v1.1.0", &["latest", "v1.1.0", "main"]);
}

/// A RUN step that fails: the error names the task, the image and the step
/// (as Docker's would), with the engine's message and the step's output.
#[test]
#[ignore = "needs the Podman service and registries: scripts/test.sh runs it"]
fn a_failing_step_through_podman_names_the_step() {
    let p = podman();
    let image = unique("podman-failing");
    let _made = Made::by(&[&image]).on("podman");
    Test::new()
        .file(
            "Dockerfile",
            "FROM hoist-test/busybox:latest\nRUN echo fine\nRUN echo boom-output >&2 && exit 3\n",
        )
        .hoist_yml(&format!(
            "tasks:\n  b:\n    cmds:\n      - build: {{image: {image}, tags: [x]}}\n"
        ))
        .env("DOCKER_HOST", &p.host)
        .args(&["b", "-s"])
        .run()
        .status(210)
        .stderr_has(&format!(
            "error: task `b`: building `{image}:x` failed at `Step 3/"
        ))
        .stderr_has(" : RUN echo boom-output >&2 && exit 3`: ")
        .stderr_has("exit status 3\nboom-output\n")
        .stderr_has("\n  --> hoist.yml:4:24\n");
}

/// A build the engine refuses with an HTTP status instead of a message in
/// the stream (Podman answers a bad platform with an empty 400; Docker with
/// its reason): the error names the task and image and says what the engine
/// answered, on either engine.
#[test]
#[ignore = "needs the Podman service and registries: scripts/test.sh runs it"]
fn an_error_answer_names_the_image_on_either_engine() {
    let p = podman();
    let image = unique("refused");
    let _made = (Made::by(&[&image]).on("podman"), Made::by(&[&image]));
    let run = |host: &str| {
        Test::new()
            .file("Dockerfile", "FROM hoist-test/busybox:latest\n")
            .hoist_yml(&format!(
                "tasks:\n  b:\n    cmds:\n      - build: {{image: {image}, platform: a/b/c/d}}\n"
            ))
            .args(&["b"])
            .env("DOCKER_HOST", host)
            .run()
    };
    let failed =
        format!("error: task `b`: building `{image}:latest` failed: the engine answered HTTP 400");
    run(&p.host)
        .status(210)
        .stderr_has(&format!(
            "{failed} without a reason (Podman answers some errors so; `podman --log-level=info system service` logs each with its reason)\n"
        ));
    run(DOCKER).status(210).stderr_has(&format!(
        "{failed}: \"a/b/c/d\": cannot parse platform specifier"
    ));
}

/// A push of an image Podman does not have: the error names the task, the
/// action and Podman's own answer (an HTTP 404 with its message).
#[test]
#[ignore = "needs the Podman service and registries: scripts/test.sh runs it"]
fn a_missing_image_on_podman_names_the_action() {
    let p = podman();
    let image = unique("podman-none");
    let to = format!("{}/podman/{image}", p.registry);
    Test::new()
        .hoist_yml(&format!(
            "tasks:\n  p:\n    cmds:\n      - push: {{image: \"{image}:v1\", to: \"{to}\", tags: [v1]}}\n"
        ))
        .env("DOCKER_HOST", &p.host)
        .args(&["p", "-s"])
        .run()
        .status(210)
        .stderr(&format!(
            "error: task `p`: tagging {image}:v1 as {to}:v1: the engine answered HTTP 404: \
             failed to find image {image}:v1: docker.io/library/{image}:v1: image not known\n"
        ));
    assert_eq!(
        registry_tags(&p.registry, &format!("podman/{image}"), None),
        Vec::<String>::new()
    );
}

/// The engine's name and version, and its Docker API version, as its own
/// `GET /version` says them.
fn engine_version(socket: &str, component: &str) -> (String, String) {
    let json: serde_json::Value = serde_json::from_slice(&get(socket, "/version")).unwrap();
    let version = json["Components"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["Name"] == component)
        .and_then(|c| c["Version"].as_str())
        .unwrap_or_else(|| panic!("no {component} in {json}"))
        .to_owned();
    (version, json["ApiVersion"].as_str().unwrap().to_owned())
}

/// `--verbose` names the engine, its version and the API version spoken,
/// as the engine itself reports them, on Podman and on Docker.
#[test]
#[ignore = "needs the Podman service and registries: scripts/test.sh runs it"]
fn verbose_names_the_engine_and_its_api_version() {
    let p = podman();
    let image = unique("verbose");
    let _made = (Made::by(&[&image]).on("podman"), Made::by(&[&image]));
    let test = Test::new()
        .file("Dockerfile", "FROM hoist-test/busybox:latest\n")
        .hoist_yml(&format!(
            "tasks:\n  b:\n    cmds:\n      - build: {{image: {image}}}\n"
        ));
    let said = |host: &str| {
        let out = test
            .command()
            .args(["--verbose", "b"])
            .env("DOCKER_HOST", host)
            .output()
            .unwrap();
        let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
        assert!(out.status.success(), "{stderr}");
        stderr
    };
    let socket = p.host.strip_prefix("unix://").unwrap();
    let (version, api) = engine_version(socket, "Podman Engine");
    let stderr = said(&p.host);
    let line = format!("hoist: Podman Engine {version} at {} (API {api})\n", p.host);
    assert!(stderr.contains(&line), "{line} in:\n{stderr}");
    let (version, api) = engine_version(DOCKER.strip_prefix("unix://").unwrap(), "Engine");
    let stderr = said(DOCKER);
    let line = format!("hoist: Docker Engine {version} at {DOCKER} (API {api})\n");
    assert!(stderr.contains(&line), "{line} in:\n{stderr}");
}

/// An image Podman itself names `localhost/…` (made with `podman import`,
/// as `podman build` names them too) is found by the push step under its
/// short name and under the `localhost/` one, and lands in the registry;
/// the tag step finds it by its short name too.
#[test]
#[ignore = "needs the Podman service and registries: scripts/test.sh runs it"]
fn a_localhost_image_of_podman_is_pushed() {
    let p = podman();
    let name = unique("podman-local");
    let _made = Made::by(&[&name]).on("podman");
    podman_cli(&["tag", "hoist-test/busybox:latest", &format!("{name}:v1")]);
    assert!(
        podman_cli(&["images", "--format", "{{.Repository}}:{{.Tag}}"])
            .lines()
            .any(|l| l == format!("localhost/{name}:v1")),
        "podman names its own images localhost/…"
    );
    let repo = format!("podman/{name}");
    let uri = format!("{}/{repo}", p.registry);
    Test::new()
        .hoist_yml(&format!(
            "tasks:\n  p:\n    cmds:\n      \
             - push: {{image: \"{name}:v1\", to: \"{uri}\", tags: [short]}}\n      \
             - push: {{image: \"localhost/{name}:v1\", to: \"{uri}\", tags: [qualified]}}\n      \
             - tag: {{image: \"{name}:v1\", as: \"{name}:retagged\"}}\n"
        ))
        .env("DOCKER_HOST", &p.host)
        .args(&["p"])
        .run()
        .success()
        .stderr_has(&format!("pushed {uri}:short sha256:"))
        .stderr_has(&format!("pushed {uri}:qualified sha256:"))
        .stderr_has(&format!("tagged {name}:v1 as {name}:retagged"));
    assert_eq!(
        registry_tags(&p.registry, &repo, None),
        sorted(&["qualified", "short"])
    );
    let id = |reference: &str| podman_cli(&["image", "inspect", "--format", "{{.Id}}", reference]);
    assert_eq!(
        id(&format!("{name}:retagged")),
        id(&format!("localhost/{name}:v1"))
    );
}

/// Whether a process whose command line holds `marker` runs on this machine
/// (rootful Podman's build steps are ordinary processes here).
fn running(marker: &str) -> bool {
    Command::new("pgrep")
        .args(["-f", marker])
        .output()
        .unwrap()
        .status
        .success()
}

/// Ctrl-C during a `RUN`: hoist exits 130 at once and says what Podman does
/// (unlike dockerd it lets the step run to its end); the build is then
/// dropped, and no image is tagged.
#[test]
#[ignore = "needs the Podman service and registries: scripts/test.sh runs it"]
fn an_interrupted_build_on_podman_says_what_the_engine_does() {
    let p = podman();
    let image = unique("podman-interrupted");
    let _made = Made::by(&[&image]).on("podman");
    let marker = format!("{image}-step");
    let test = Test::new()
        .file(
            "Dockerfile",
            &format!(
                "FROM hoist-test/busybox:latest\nRUN printf 'started %s\\n' {marker} && sleep 5 && echo {marker}-done\n"
            ),
        )
        .hoist_yml(&format!(
            "tasks:\n  b:\n    cmds:\n      - build: {{image: {image}}}\n"
        ))
        .env("DOCKER_HOST", &p.host)
        .args(&["b"]);
    let (out, context) =
        crate::common::interrupt_when_started(&test, &marker, std::time::Duration::from_secs(3));
    assert!(
        out.stderr.contains(&format!(
            "warning: task `b`: building `{image}:latest` interrupted at `Step 2/"
        )) && out.stderr.contains(
            "; Podman lets the step at work run to its end, then drops the build (nothing is tagged)\n"
        ),
        "{context}"
    );
    assert!(out.stderr.ends_with("error: interrupted\n"), "{context}");
    assert!(
        running(&marker),
        "the step was still expected to run: {context}"
    );
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while running(&marker) && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    assert!(!running(&marker), "the step still runs after 30 s");
    // The engine drops the build once the step ends: give it a moment.
    std::thread::sleep(std::time::Duration::from_secs(2));
    let images = podman_cli(&["images", "--format", "{{.Repository}}:{{.Tag}}"]);
    assert!(
        !images.contains(&image),
        "{image} was tagged after all:\n{images}"
    );
}

/// Podman has no BuildKit: `builder: auto` builds with Buildah, while
/// `builder: buildkit` and secrets are refused before anything is built.
#[test]
#[ignore = "needs the Podman service and registries: scripts/test.sh runs it"]
fn buildkit_on_podman_is_refused_before_building() {
    let p = podman();
    let image = unique("podman-buildkit");
    let _made = Made::by(&[&image]).on("podman");
    let test = |step: &str| {
        Test::new()
            .file(
                "Dockerfile",
                "FROM hoist-test/busybox:latest\nRUN echo built\n",
            )
            .hoist_yml(&format!(
                "tasks:\n  b:\n    cmds:\n      - build: {{image: {image}{step}}}\n"
            ))
            .env("DOCKER_HOST", &p.host)
            .args(&["b"])
            .run()
    };
    test(", builder: buildkit")
        .status(210)
        .stderr_has(&format!(
            "error: task `b`: building `{image}:latest` needs BuildKit, but Podman builds with Buildah and has no BuildKit API"
        ))
        .stderr_has("help: use `builder: auto` or `builder: classic` on this engine");
    test(", secrets: {token: {env: HOME}}")
        .status(210)
        .stderr_has("needs BuildKit (the step has secrets), but Podman builds with Buildah")
        .stderr_lacks("Step 1/");
    test("")
        .success()
        .stderr_has(&format!("hoist: [b] built {image}:latest"));
}
