use super::*;
use crate::docker::ignore::DockerIgnore;

fn fixtures() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/dockerignore")
}

/// Builds a case's tree as scripts/record-dockerignore-cases.sh does.
fn build_case(case: &Path) -> tempfile::TempDir {
    let work = tempfile::tempdir().unwrap();
    for path in std::fs::read_to_string(case.join("tree.txt"))
        .unwrap()
        .lines()
        .filter(|l| !l.is_empty())
    {
        let file = work.path().join(path);
        std::fs::create_dir_all(file.parent().unwrap()).unwrap();
        std::fs::write(&file, format!("{path}\n")).unwrap();
    }
    std::fs::copy(case.join("dockerignore"), work.path().join(".dockerignore")).unwrap();
    std::fs::write(work.path().join("Dockerfile"), "FROM scratch\n").unwrap();
    work
}

/// Every case recorded from the real docker CLI: our context holds the same files.
#[test]
fn contexts_match_the_docker_cli() {
    let mut cases: Vec<_> = std::fs::read_dir(fixtures())
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    cases.sort();
    assert!(cases.len() >= 15, "expected the recorded cases");
    for case in cases {
        let work = build_case(&case);
        let mut ours: Vec<String> = list_context(work.path(), "Dockerfile")
            .unwrap()
            .into_iter()
            .filter(|name| work.path().join(name).is_file())
            .collect();
        // The daemon deletes the Dockerfile and .dockerignore from what COPY sees
        // when the patterns exclude them, although the CLI sent them: model that.
        let text = std::fs::read_to_string(case.join("dockerignore")).unwrap();
        let original = DockerIgnore::parse(&text).unwrap();
        ours.retain(|name| {
            !((name == "Dockerfile" || name == ".dockerignore") && original.excludes(name))
        });
        ours.sort();
        let expected: Vec<String> = std::fs::read_to_string(case.join("expected.txt"))
            .unwrap()
            .lines()
            .map(str::to_owned)
            .collect();
        assert_eq!(ours, expected, "case {}", case.display());
    }
}

#[test]
fn dockerfile_and_dockerignore_are_always_sent() {
    let work = build_case(&fixtures().join("always-sent"));
    let names = list_context(work.path(), "Dockerfile").unwrap();
    assert_eq!(names, [".dockerignore", "Dockerfile"]);
}

#[test]
fn missing_dockerfile_and_bad_dockerignore_are_errors() {
    let work = tempfile::tempdir().unwrap();
    let err = list_context(work.path(), "Dockerfile").err().unwrap();
    assert!(matches!(err, ContextError::DockerfileMissing(_)), "{err}");
    std::fs::write(work.path().join("Dockerfile"), "FROM scratch\n").unwrap();
    std::fs::write(work.path().join(".dockerignore"), "ok\n[z-a]\n").unwrap();
    let err = list_context(work.path(), "Dockerfile").err().unwrap();
    assert!(err.to_string().contains(".dockerignore: line 2"), "{err}");
}

#[tokio::test]
async fn streams_a_valid_complete_tar_with_stats() {
    use futures_util::StreamExt;
    let work = tempfile::tempdir().unwrap();
    std::fs::write(work.path().join("Dockerfile"), "FROM scratch\n").unwrap();
    std::fs::write(work.path().join(".dockerignore"), "skip\n").unwrap();
    std::fs::create_dir_all(work.path().join("skip/deep")).unwrap();
    std::fs::write(work.path().join("skip/deep/x"), "x").unwrap();
    std::fs::create_dir(work.path().join("data")).unwrap();
    // Larger than the channel holds, so the walker must wait for the reader.
    let big = vec![7u8; 5 * CHUNK * CHANNEL_DEPTH + 123];
    std::fs::write(work.path().join("data/big.bin"), &big).unwrap();
    std::os::unix::fs::symlink("big.bin", work.path().join("data/link")).unwrap();
    let name = format!("data/{}", "n".repeat(150));
    std::fs::write(work.path().join(&name), "long name").unwrap();

    let context = stream_context(work.path(), "Dockerfile").unwrap();
    let mut body = context.body;
    let mut tar = Vec::new();
    while let Some(chunk) = body.next().await {
        tar.extend_from_slice(&chunk.unwrap());
    }
    let stats = context.stats.await.unwrap().unwrap();
    assert_eq!(stats.files, 4);
    assert_eq!(stats.excluded_dirs, 1);
    assert!(stats.has_dockerignore);
    assert_eq!(stats.tar_bytes, tar.len() as u64);

    let mut archive = tar::Archive::new(tar.as_slice());
    let mut seen = Vec::new();
    for entry in archive.entries().unwrap() {
        let mut entry = entry.unwrap();
        let path = entry.path().unwrap().to_string_lossy().into_owned();
        if path == "data/big.bin" {
            let mut content = Vec::new();
            std::io::Read::read_to_end(&mut entry, &mut content).unwrap();
            assert_eq!(content, big);
        }
        if path == "data/link" {
            assert_eq!(entry.header().entry_type(), tar::EntryType::Symlink);
        }
        assert_eq!(entry.header().uid().unwrap(), 0);
        seen.push(path);
    }
    assert_eq!(
        seen,
        [
            ".dockerignore",
            "Dockerfile",
            "data/",
            "data/big.bin",
            "data/link",
            name.as_str()
        ]
    );
}
