//! Where a task's command output goes (`--output`): as it comes, prefixed,
//! or held and printed as one group when the task ends.

use super::Runner;
use crate::error::Result;
use crate::exec::{OutputMode, Sink};
use crate::taskfile::Task;
use crate::vars::{Effects, Scope};
use serde_saphyr::Spanned;
use std::sync::Arc;

pub(super) fn sink_for(
    mode: OutputMode,
    scope: &Arc<Scope>,
    task: &Spanned<Task>,
    label: &str,
    fx: Effects,
) -> Result<Sink> {
    Ok(match mode {
        OutputMode::Interleaved => Sink::Direct,
        OutputMode::Prefixed => {
            let prefix = match &task.value.prefix {
                Some(p) => scope.render(p, &task.referenced, "`prefix`", fx)?,
                None => label.to_owned(),
            };
            Sink::Prefixed(prefix)
        }
        OutputMode::Group => Sink::Buffered(Arc::default()),
    })
}

impl Runner {
    /// A grouped task's output, at once, inside the CI's log group markers.
    pub(super) fn flush_group(&self, label: &str, sink: &Sink) {
        let Sink::Buffered(buffer) = sink else { return };
        let lines = std::mem::take(
            &mut *buffer
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner),
        );
        if lines.is_empty() {
            return;
        }
        self.printer.group_start(label);
        for (is_stderr, line) in lines {
            self.printer.out_line(&line, is_stderr);
        }
        self.printer.group_end(label);
    }
}
