//! BuildKit builds (`builder: auto|buildkit|classic`, `secrets`, cache mounts)
//! against the real engine that `scripts/setup.sh` starts: Docker 20.10, whose
//! BuildKit is reached through `/session` and `/build?version=2`, with no
//! bridge network.

use crate::common::{Made, Test};
use crate::images::{docker, services, unique};
use std::process::Command;

/// A test whose task `b` builds `image` from `dockerfile` with `step` (more
/// keys of the build step, as YAML flow-map entries).
fn build_test(image: &str, dockerfile: &str, step: &str) -> Test {
    Test::new()
        .file("Dockerfile", dockerfile)
        .hoist_yml(&format!(
            "tasks:\n  b:\n    cmds:\n      - build: {{image: {image}{step}}}\n"
        ))
}

/// What `cmd` prints inside a container of `image`.
fn run_in(image: &str, cmd: &str) -> String {
    docker(&["run", "--rm", "--network", "none", image, "sh", "-c", cmd])
}

/// Everything the engine keeps of an image: its layers and config (`docker
/// save`), its inspection and its history.
fn saved_image_text(image: &str) -> [(&'static str, String); 3] {
    let out = Command::new("docker")
        .args(["save", image])
        .output()
        .unwrap();
    assert!(out.status.success());
    [
        (
            "docker save",
            String::from_utf8_lossy(&out.stdout).into_owned(),
        ),
        ("docker image inspect", docker(&["image", "inspect", image])),
        ("docker history", docker(&["history", "--no-trunc", image])),
    ]
}

#[test]
#[ignore = "needs the Docker engine and registries: scripts/test.sh runs it"]
fn secrets_reach_run_mounts_and_nothing_else() {
    services();
    let image = unique("hoist-bk-secret");
    let _made = Made::by(&[&image]);
    let env_value = format!("env-secret-{}", std::process::id());
    let file_value = format!("file-secret-{}", std::process::id());
    let mut test = build_test(
        &image,
        // A secret is not part of the step's cache key: the image name
        // makes this RUN new to the builder's cache.
        &format!(
            "FROM hoist-test/busybox:latest\n\
             RUN --mount=type=secret,id=token --mount=type=secret,id=netrc echo {image} && \
             wc -c < /run/secrets/token > /token-bytes && wc -c < /run/secrets/netrc > /netrc-bytes\n"
        ),
        ", tags: [x], secrets: {token: {env: HOIST_TEST_TOKEN}, netrc: {file: secret.txt}}",
    )
    .file("secret.txt", &file_value)
    .env("HOIST_TEST_TOKEN", &env_value)
    .args(&["b"]);
    let out = test.run();
    out.success().stderr_any();
    for text in [&out.stdout, &out.stderr] {
        assert!(
            !text.contains(&env_value) && !text.contains(&file_value),
            "{text}"
        );
    }
    let reference = format!("{image}:x");
    // Each RUN saw its secret's bytes ...
    assert_eq!(
        run_in(&reference, "cat /token-bytes /netrc-bytes"),
        format!("{}\n{}", env_value.len(), file_value.len())
    );
    // ... and the image, its config and its history hold neither.
    for (what, kept) in saved_image_text(&reference) {
        for value in [&env_value, &file_value] {
            assert!(!kept.contains(value.as_str()), "{what} holds {value}");
        }
    }
    // --dry names each secret's source, never its value.
    test.run_with(&["--dry", "b"])
        .success()
        .stderr_has("secret: token (env=HOIST_TEST_TOKEN)\n")
        .stderr_has("secret: netrc (file=")
        .stderr_lacks(&env_value)
        .stderr_lacks(&file_value);
}

#[test]
#[ignore = "needs the Docker engine and registries: scripts/test.sh runs it"]
fn a_missing_secret_stops_the_build_before_it_starts() {
    services();
    let image = unique("hoist-bk-nosecret");
    let _made = Made::by(&[&image]);
    build_test(
        &image,
        "FROM hoist-test/busybox:latest\nRUN --mount=type=secret,id=token true\n",
        ", secrets: {token: {env: HOIST_TEST_UNSET_SECRET}}",
    )
    .args(&["b"])
    .run()
    .status(210)
    .stderr_has(&format!(
        "error: task `b`: building `{image}:latest`: secret `token` (env=HOIST_TEST_UNSET_SECRET): \
         the environment variable HOIST_TEST_UNSET_SECRET is not set"
    ))
    .stderr_has("help: set the variable or create the file")
    .stderr_has("\n  --> hoist.yml:4:9\n")
    .stderr_lacks("] FROM ");
    assert_eq!(docker(&["images", "-q", &image]), "");
    build_test(
        &image,
        "FROM hoist-test/busybox:latest\nRUN --mount=type=secret,id=token true\n",
        ", secrets: {token: {file: no-such-file}}",
    )
    .args(&["b"])
    .run()
    .status(210)
    .stderr_has("secret `token` (file=")
    .stderr_has("no-such-file: No such file or directory");
}

#[test]
#[ignore = "needs the Docker engine and registries: scripts/test.sh runs it"]
fn secrets_on_the_classic_builder_are_refused_before_building() {
    services();
    let image = unique("hoist-bk-classic-secret");
    let _made = Made::by(&[&image]);
    build_test(
        &image,
        "FROM hoist-test/busybox:latest\nRUN --mount=type=secret,id=token true\n",
        ", builder: classic, secrets: {token: {env: HOME}}",
    )
    .args(&["b"])
    .run()
    .status(210)
    .stderr_has(&format!(
        "error: task `b`: building `{image}:latest` needs BuildKit (the step has secrets), but the step says `builder: classic`"
    ))
    .stderr_has("help: secrets need BuildKit")
    .stderr_lacks("Step 1/");
    assert_eq!(docker(&["images", "-q", &image]), "");
}

#[test]
#[ignore = "needs the Docker engine and registries: scripts/test.sh runs it"]
fn cache_mounts_persist_from_one_build_to_the_next() {
    services();
    let image = unique("hoist-bk-cache");
    let _made = Made::by(&[&image]);
    // A new `round` re-runs the RUN (`no_cache` would also leave the cache
    // mount out, with BuildKit); only the cache mount remembers earlier runs.
    let mut test = build_test(
        &image,
        &format!(
            "FROM hoist-test/busybox:latest\n\
             ARG round\n\
             RUN --mount=type=cache,id={image},target=/cache \
             echo run $round >> /cache/runs && wc -l < /cache/runs > /runs\n"
        ),
        ", args: {round: \"{{ ROUND }}\"}",
    );
    for expected in ["1", "2"] {
        test.run_with(&["b", &format!("ROUND={expected}")])
            .success()
            .stderr_any();
        assert_eq!(run_in(&format!("{image}:latest"), "cat /runs"), expected);
    }
    let _ = Command::new("docker")
        .args(["builder", "prune", "-f", "--filter", &format!("id={image}")])
        .output();
}

#[test]
#[ignore = "needs the Docker engine and registries: scripts/test.sh runs it"]
fn a_failing_buildkit_step_is_named_with_its_output() {
    services();
    let image = unique("hoist-bk-failing");
    let _made = Made::by(&[&image]);
    let out = build_test(
        &image,
        "FROM hoist-test/busybox:latest\nRUN echo boom-output && exit 3\n",
        ", tags: [x]",
    )
    .env("CI", "true")
    .args(&["b"])
    .run();
    out.status(210)
        .stderr_has(&format!(
            "error: task `b`: building `{image}:x` failed at `[2/2] RUN echo boom-output && exit 3`"
        ))
        .stderr_has("\nboom-output\n")
        .stderr_has("exit code: 3")
        .stderr_has("  --> hoist.yml:4:24\n");
    // In CI the build's lines are plain: steps and output, no control characters.
    // BuildKit names a vertex it shares with a concurrent build (the FROM) by
    // that build's stage, so only the part after the bracket is fixed.
    out.stdout_has("] FROM docker.io/hoist-test/busybox:latest\n")
        .stdout_has("[b] [2/2] RUN echo boom-output && exit 3\n[b] boom-output\n");
    assert!(
        !out.stdout.contains('\x1b') && !out.stderr.contains('\x1b'),
        "{out:?}",
        out = out.stdout
    );
}

/// One Dockerfile with a RUN, build args, labels and a target builds the same
/// with either builder (RUN without a bridge network on both), and the
/// image carries what the step says.
#[test]
#[ignore = "needs the Docker engine and registries: scripts/test.sh runs it"]
fn both_builders_build_the_same_dockerfile_with_args_labels_and_target() {
    services();
    let image = unique("hoist-bk-both");
    let _made = Made::by(&[&image]);
    let dockerfile = "FROM hoist-test/busybox:latest AS base\n\
                      ARG version\n\
                      RUN echo \"version $version\" > /version\n\
                      FROM base AS final\n\
                      RUN echo final > /stage\n\
                      FROM base AS other\n\
                      RUN echo other > /stage\n";
    for builder in ["buildkit", "classic", "auto"] {
        let out = build_test(
            &image,
            dockerfile,
            &format!(
                ", tags: [{builder}], builder: {builder}, target: final, \
                 args: {{version: 1.2.3}}, labels: {{team: core}}"
            ),
        )
        .env("CI", "true")
        .args(&["b"])
        .run();
        out.success().stderr_any();
        let classic = builder == "classic";
        assert_eq!(out.stdout.contains("Step 1/"), classic, "{}", out.stdout);
        // Not `[base 1/2] FROM`: a concurrent build sharing the FROM vertex may name it.
        assert_eq!(
            out.stdout
                .contains("] FROM docker.io/hoist-test/busybox:latest\n"),
            !classic,
            "{}",
            out.stdout
        );
        let reference = format!("{image}:{builder}");
        assert_eq!(
            run_in(&reference, "cat /version /stage"),
            "version 1.2.3\nfinal"
        );
        let labels = docker(&[
            "image",
            "inspect",
            "--format",
            "{{ index .Config.Labels \"team\" }} {{ index .Config.Labels \"org.opencontainers.image.title\" }}",
            &reference,
        ]);
        assert_eq!(labels, format!("core {image}"));
    }
}

#[test]
#[ignore = "needs the Docker engine and registries: scripts/test.sh runs it"]
fn builder_buildkit_on_an_engine_without_it_says_why() {
    services();
    let image = unique("hoist-bk-tls");
    // hoist opens BuildKit sessions over unix sockets and plain tcp; the test
    // engine's TLS endpoint stands for an engine hoist cannot reach BuildKit on.
    let var = |name: &str| std::env::var(name).unwrap();
    build_test(&image, "FROM hoist-test/busybox:latest\n", ", builder: buildkit")
        .env("DOCKER_HOST", &var("HOIST_TEST_ENGINE_TLS_HOST"))
        .env("DOCKER_TLS_VERIFY", "1")
        .env("DOCKER_CERT_PATH", &var("HOIST_TEST_ENGINE_TLS_CERTS"))
        .args(&["b"])
        .run()
        .status(210)
        .stderr_has(&format!("building `{image}:latest` needs BuildKit, but hoist opens BuildKit sessions over a unix socket or plain tcp"))
        .stderr_has("help: use `builder: auto` or `builder: classic` on this engine");
}

/// Ctrl-C while a BuildKit `RUN` sleeps: hoist closes the build's connection,
/// the engine cancels the build and kills the step's process, and hoist exits
/// 130 at once, naming the step.
#[test]
#[ignore = "needs the Docker engine and registries: scripts/test.sh runs it"]
fn interrupting_a_buildkit_build_stops_its_step() {
    services();
    let marker = unique("bk-sleeping");
    let image = unique("hoist-bk-interrupted");
    let _made = Made::by(&[&image]);
    let test = build_test(
        &image,
        &format!("FROM hoist-test/busybox:latest\nRUN echo started {marker} && sleep 60\n"),
        "",
    )
    .env("CI", "true")
    .args(&["b"]);
    let (out, context) =
        crate::common::interrupt_when_started(&test, &marker, std::time::Duration::from_secs(5));
    assert!(
        out.stderr.contains(&format!(
            "warning: task `b`: building `{image}:latest` interrupted at `[2/2] RUN echo started {marker} && sleep 60`"
        )),
        "{context}"
    );
    // The step's process is gone (at once, or soon on a busy engine).
    let running = || {
        let out = Command::new("pgrep")
            .args(["-f", &marker])
            .output()
            .unwrap();
        String::from_utf8_lossy(&out.stdout).trim().to_owned()
    };
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while !running().is_empty() && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
    assert_eq!(running(), "", "{context}");
    assert_eq!(docker(&["images", "-q", &image]), "", "{context}");
}

/// The context BuildKit gets over the session holds what the classic
/// builder's tar holds: `.dockerignore` with exceptions, dot files,
/// symlinks, nested directories, a Dockerfile outside the context.
#[test]
#[ignore = "needs the Docker engine and registries: scripts/test.sh runs it"]
fn both_builders_see_the_same_context() {
    services();
    let image = unique("hoist-bk-context");
    let _made = Made::by(&[&image]);
    let test = Test::new()
        .file(
            "build/Dockerfile",
            "FROM hoist-test/busybox:latest\nCOPY . /ctx\n\
             RUN cd /ctx && find . | sort > /list && cat a/b/c.txt .hidden > /content\n",
        )
        .file(
            "app/.dockerignore",
            "secret.env\nnode_modules\n!node_modules/keep.js\n**/*.log\n",
        )
        .file("app/secret.env", "TOKEN=x\n")
        .file("app/node_modules/drop.js", "drop\n")
        .file("app/node_modules/keep.js", "keep\n")
        .file("app/a/b/c.txt", "deep\n")
        .file("app/a/b/debug.log", "log\n")
        .file("app/.hidden", "dot\n")
        .file("app/main.go", "package main\n");
    std::os::unix::fs::symlink("main.go", test.path().join("app/link.go")).unwrap();
    let mut lists = Vec::new();
    for builder in ["buildkit", "classic"] {
        let mut test = Test::new().hoist_yml(&format!(
            "tasks:\n  b:\n    cmds:\n      - build: {{image: {image}, tags: [{builder}], builder: {builder}, \
             context: {ctx}/app, dockerfile: {ctx}/build/Dockerfile}}\n",
            ctx = test.path().display()
        ));
        test.run_with(&["b"]).success().stderr_any();
        let reference = format!("{image}:{builder}");
        lists.push((
            run_in(&reference, "cat /list"),
            run_in(&reference, "cat /content; readlink /ctx/link.go"),
        ));
    }
    assert_eq!(lists[0], lists[1]);
    let (list, content) = &lists[0];
    assert_eq!(content, "deep\ndot\nmain.go");
    for kept in [
        "./.hidden",
        "./a/b/c.txt",
        "./link.go",
        "./node_modules/keep.js",
    ] {
        assert!(list.lines().any(|l| l == kept), "{kept} in\n{list}");
    }
    for dropped in ["secret.env", "drop.js", "debug.log"] {
        assert!(!list.contains(dropped), "{dropped} in\n{list}");
    }
}
