//! What image steps report while they work. This module says what happens;
//! the caller's [`EventSink`] decides whether and how to show it (the runner
//! passes `ui::ImageProgress`: bars and spinners on a terminal, plain lines
//! in CI and pipes).

use super::BuildReport;
use std::time::Duration;

/// One thing that happened in a `build`, `push` or `tag` step.
#[derive(Debug)]
pub(crate) enum Event<'a> {
    /// A build started; `image` is the first reference it makes.
    BuildStarted { image: &'a str },
    /// The engine began a step of the build: `Step 2/5 : RUN make`.
    BuildStep { line: &'a str },
    /// Any other line of the build's output, control characters removed.
    BuildOutput { line: &'a str },
    /// The build's stream is over: built, failed or interrupted.
    BuildEnded,
    /// The connection to the engine broke during the build (`reason`); it
    /// runs once more.
    BuildRetry { reason: &'a str },
    /// The image is built and has every tag.
    Built { report: &'a BuildReport },
    /// How far the upload of one layer for `tag` has come. The engine's
    /// layer ids do not reach us (bollard drops them), so a layer is known
    /// by its size in bytes, `total`.
    LayerProgress {
        tag: &'a str,
        current: u64,
        total: u64,
        /// The engine's word for the layer's state: `Pushing`, `Pushed`, ...
        status: &'a str,
    },
    /// An attempt to push `tag` is over: landed, failed or stopped.
    PushEnded { tag: &'a str },
    /// Pushing `reference` failed (`reason`); it is tried again after `wait`.
    PushRetry {
        reference: &'a str,
        reason: &'a str,
        wait: Duration,
    },
    /// `reference` has landed in the registry as `digest`.
    TagPushed { reference: &'a str, digest: &'a str },
    /// `reference` already names this image in the registry: not pushed.
    TagUpToDate { reference: &'a str, digest: &'a str },
    /// The local image `source` has the name `target` as well.
    Tagged { source: &'a str, target: &'a str },
    /// Something worth knowing that does not stop the step.
    Warning { message: &'a str },
}

/// Receives a step's events. Pushes of several tags run at once, so events
/// may come from concurrent futures of one step.
pub(crate) trait EventSink: Sync {
    fn send(&self, event: Event<'_>);
}

/// Records every event it is sent, for the module's tests.
#[cfg(test)]
#[derive(Default)]
pub(super) struct Recorder(pub std::sync::Mutex<Vec<String>>);

#[cfg(test)]
impl EventSink for Recorder {
    fn send(&self, event: Event<'_>) {
        self.0.lock().unwrap().push(format!("{event:?}"));
    }
}
