//! `hoist --init` in a Go module: the Dockerfile, .dockerignore and hoist.yml
//! of the founding tutorials, filled with the module's name, never
//! overwriting; then the pipeline they make, end to end on the real engine.

use crate::common::{git, Made, Test};
use crate::images::{docker, registry_tags, services, unique};

const MAIN_GO: &str = r#"package main

import "fmt"

// Version is set at build time with -ldflags "-X main.Version=...".
var Version = "dev"

func main() { fmt.Println("hello-svc", Version) }
"#;

/// A stdlib-only Go module in a git repository, tagged v1.2.0 on main.
fn go_module() -> Test {
    let test = Test::new()
        .file("go.mod", "module example.com/team/hello-svc\n\ngo 1.19\n")
        .file("main.go", MAIN_GO);
    git(test.path(), &["init", "-q"]);
    git(test.path(), &["add", "."]);
    git(test.path(), &["commit", "-qm", "hello"]);
    git(test.path(), &["tag", "v1.2.0"]);
    test
}

#[test]
fn init_in_a_go_module_writes_the_service_files_and_never_overwrites() {
    let mut test = go_module();
    test.run_with(&["--init"])
        .success()
        .stdout("created Dockerfile\ncreated .dockerignore\ncreated hoist.yml\n");
    let dockerfile = test.read("Dockerfile");
    for needle in [
        "ARG GO_IMAGE=golang:1.19\n",
        "COPY go.mod go.sum* ./\nRUN --mount=type=cache,target=/go/pkg/mod go mod download\n",
        "-X main.Version=${VERSION}\" -o /out/hello-svc .",
        "FROM scratch\n",
        "USER 10001:10001\n",
        "ENTRYPOINT [\"/hello-svc\"]",
    ] {
        assert!(dockerfile.contains(needle), "{needle:?} in\n{dockerfile}");
    }
    let ignore = test.read(".dockerignore");
    assert!(ignore.contains(".git\n") && ignore.contains(".env\n") && ignore.contains("vendor\n"));
    assert!(test
        .read("hoist.yml")
        .contains("# hoist.yml for example.com/team/hello-svc"));
    test.run_with(&["--list"])
        .success()
        .stdout_has("  upload-image    Push the image to the registry.\n")
        .stdout_has("  release-start   ");
    // A file the user has is kept, and said so; the missing one is written.
    std::fs::write(test.path().join("Dockerfile"), "FROM mine\n").unwrap();
    std::fs::remove_file(test.path().join("hoist.yml")).unwrap();
    test.run_with(&["--init"]).success().stdout(
        "created hoist.yml\nskipped Dockerfile: it exists\nskipped .dockerignore: it exists\n",
    );
    assert_eq!(test.read("Dockerfile"), "FROM mine\n");
    test.run_with(&["--init"])
        .status(2)
        .stderr("error: Dockerfile, .dockerignore, hoist.yml already exist here; not overwriting (remove a file to have it written again)\n");
}

/// The semver tags: the full version, `X.Y`, `X` and `latest` for a release;
/// only the full version and the branch otherwise.
#[test]
fn init_tags_releases_and_pre_releases_as_metadata_action_does() {
    let mut test = go_module();
    test.run_with(&["--init"]).success();
    let tags = |out: &str| -> Vec<String> {
        out.lines()
            .filter_map(|l| l.split_once("  push: localhost:5000/hello-svc:"))
            .map(|(_, tag)| tag.to_owned())
            .collect()
    };
    let out = test.run_with(&["--dry", "upload-image"]);
    out.success().stderr_has("arg: VERSION=1.2.0\n");
    assert_eq!(tags(&out.stderr), ["1.2.0", "1.2", "1", "main", "latest"]);
    git(test.path(), &["checkout", "-q", "-b", "develop"]);
    git(
        test.path(),
        &["commit", "-q", "--allow-empty", "-m", "next"],
    );
    let out = test.run_with(&["--dry", "upload-image"]);
    out.success().stderr_has("arg: VERSION=1.3.0-alpha.1\n");
    assert_eq!(tags(&out.stderr), ["1.3.0-alpha.1", "develop"]);
}

#[test]
#[ignore = "needs the Docker engine and registries: scripts/test.sh runs it"]
fn init_then_upload_image_lands_the_tags_and_the_image_prints_its_version() {
    let services = services();
    let mut test = go_module();
    let _made = Made::by(&["hello-svc"]);
    test.run_with(&["--init"]).success();
    let repo = unique("init");
    let test = test
        .env("REGISTRY", &format!("{}/{repo}", services.registry))
        // No registry mirror here: the builder's base image is a local one.
        .env("GO_IMAGE", "hoist-test/golang:local")
        .args(&["upload-image"]);
    test.run()
        .success()
        .stderr_has("hoist: [build-image] built hello-svc:1.2.0, hello-svc:1.2, hello-svc:1, hello-svc:main, hello-svc:latest");
    assert_eq!(
        registry_tags(&services.registry, &format!("{repo}/hello-svc"), None),
        ["1", "1.2", "1.2.0", "latest", "main"]
    );
    let image = format!("{}/{repo}/hello-svc:1.2.0", services.registry);
    assert_eq!(
        docker(&["run", "--rm", "--network", "none", &image]),
        "hello-svc 1.2.0"
    );
    // FROM scratch: the binary, CA certificates and a passwd for its user only.
    assert_eq!(
        docker(&[
            "image",
            "inspect",
            "--format",
            "{{.Config.User}} {{len .RootFS.Layers}}",
            &image
        ]),
        "10001:10001 2"
    );
}
