//! The command line as a whole: flags that cannot go together are refused.

use crate::common::Test;

#[test]
fn conflicting_modes_are_refused_instead_of_one_winning() {
    let test = Test::new().hoist_yml("tasks:\n  default: {desc: d, cmds: [echo hi]}\n");
    for (args, message) in [
        (
            &["--list", "--vars"][..],
            "--list and --vars cannot be used together: pick one",
        ),
        (
            &["--summary", "--graph"][..],
            "--graph and --summary cannot be used together: pick one",
        ),
        (
            &["--list", "--dry"][..],
            "--dry only applies when tasks run, not with --list",
        ),
        (
            &["--json"][..],
            "--json goes with --list, --list-all or --vars",
        ),
    ] {
        let mut test = Test::new().hoist_yml("tasks:\n  default: {desc: d, cmds: [echo hi]}\n");
        test.run_with(args)
            .status(2)
            .stdout("")
            .stderr(&format!("error: {message}\n"));
    }
    // go-task's spelling of "all tasks" still works.
    let mut test = test;
    test.run_with(&["--list", "--list-all"])
        .success()
        .stdout_has("default");
}
