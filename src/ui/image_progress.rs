//! How image steps look while they work. On an interactive terminal a build
//! shows a spinner naming the step at work (each step printed above it) and a
//! push a bar per layer; in CI and pipes the build's output goes, line by
//! line, to the task's output (prefixed or grouped like a command's), and
//! there are no bars. Narration and warnings go through the [`Printer`].

use super::Printer;
use crate::docker::{BuildReport, Event, EventSink};
use indicatif::{ProgressBar, ProgressStyle};
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

/// The [`EventSink`] of one image step of task `task`.
pub(crate) struct ImageProgress<'a> {
    printer: &'a Printer,
    task: &'a str,
    /// Where the build's output lines go when they are not drawn over a
    /// spinner: the task's output.
    output: &'a (dyn Fn(&str) + Sync),
    bars: Mutex<Bars>,
    layer_style: ProgressStyle,
}

#[derive(Default)]
struct Bars {
    /// The build's spinner, while the build runs on a terminal.
    spinner: Option<ProgressBar>,
    /// A bar per layer of each tag's push, by tag and layer size.
    layers: HashMap<(String, u64), ProgressBar>,
}

impl<'a> ImageProgress<'a> {
    pub(crate) fn new(
        printer: &'a Printer,
        task: &'a str,
        output: &'a (dyn Fn(&str) + Sync),
    ) -> Self {
        let layer_style =
            ProgressStyle::with_template("{prefix} {bar:30} {bytes}/{total_bytes} {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_bar());
        ImageProgress {
            printer,
            task,
            output,
            bars: Mutex::default(),
            layer_style,
        }
    }

    fn bars(&self) -> std::sync::MutexGuard<'_, Bars> {
        self.bars
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn status(&self, text: &str) {
        self.printer.status(self.task, text);
    }

    fn warn(&self, text: &str) {
        self.printer.warn(&format!("task `{}`: {text}", self.task));
    }

    fn build_started(&self, image: &str) {
        let Some(multi) = self.printer.multi_progress() else {
            return;
        };
        let spinner = multi.add(ProgressBar::new_spinner());
        spinner.enable_steady_tick(Duration::from_millis(120));
        spinner.set_message(format!("[{}] building {image}", self.task));
        if let Some(old) = self.bars().spinner.replace(spinner) {
            old.finish_and_clear();
        }
    }

    /// On a terminal a line per step above the spinner, which shows the step
    /// at work; elsewhere steps are output lines like any other.
    fn build_step(&self, line: &str) {
        match &self.bars().spinner {
            Some(spinner) => {
                self.status(line);
                spinner.set_message(format!("[{}] {line}", self.task));
            }
            None => self.output_line(line),
        }
    }

    /// The output of a build on a terminal is left out (a failed step's
    /// lines are in its error).
    fn build_output(&self, line: &str) {
        if self.bars().spinner.is_none() {
            self.output_line(line);
        }
    }

    fn output_line(&self, line: &str) {
        if !self.printer.silent {
            (self.output)(line);
        }
    }

    fn built(&self, report: &BuildReport) {
        let short_id: String = report
            .id
            .trim_start_matches("sha256:")
            .chars()
            .take(12)
            .collect();
        self.status(&format!(
            "built {} ({short_id}, {}, {} layers)",
            report.refs.join(", "),
            human_bytes(report.size.max(0) as u64),
            report.layers
        ));
        let c = &report.context;
        let mut context = format!("context sent: {} files, {}", c.files, human_bytes(c.bytes));
        if c.has_dockerignore {
            context.push_str(&format!(
                "; .dockerignore kept out {} files ({})",
                c.excluded_files,
                human_bytes(c.excluded_bytes)
            ));
        }
        self.status(&context);
    }

    /// Bars only on a terminal. Two layers of one size share a bar.
    fn layer_progress(&self, tag: &str, current: u64, total: u64, status: &str) {
        let Some(multi) = self.printer.multi_progress() else {
            return;
        };
        let mut bars = self.bars();
        let bar = bars
            .layers
            .entry((tag.to_owned(), total))
            .or_insert_with(|| {
                let bar = multi.add(ProgressBar::new(total).with_style(self.layer_style.clone()));
                bar.set_prefix(format!("[{}] {tag}", self.task));
                bar
            });
        bar.set_position(current);
        bar.set_message(status.to_owned());
    }

    fn push_ended(&self, tag: &str) {
        self.bars().layers.retain(|(of, _), bar| {
            if of == tag {
                bar.finish_and_clear();
            }
            of != tag
        });
    }
}

impl EventSink for ImageProgress<'_> {
    fn send(&self, event: Event<'_>) {
        match event {
            Event::BuildStarted { image } => self.build_started(image),
            Event::BuildStep { line } => self.build_step(line),
            Event::BuildOutput { line } => self.build_output(line),
            Event::BuildEnded => {
                if let Some(spinner) = self.bars().spinner.take() {
                    spinner.finish_and_clear();
                }
            }
            Event::BuildRetry { reason } => self.warn(&format!("{reason}; building once more")),
            Event::Built { report } => self.built(report),
            Event::LayerProgress {
                tag,
                current,
                total,
                status,
            } => self.layer_progress(tag, current, total, status),
            Event::PushEnded { tag } => self.push_ended(tag),
            Event::PushRetry {
                reference,
                reason,
                wait,
            } => self.warn(&format!(
                "push of {reference} failed ({reason}); retrying in {:.1} s",
                wait.as_secs_f32()
            )),
            Event::TagPushed { reference, digest } => {
                self.status(&format!("pushed {reference} {digest}"));
            }
            Event::TagUpToDate { reference, digest } => {
                self.status(&format!(
                    "{reference} is up to date ({digest}): nothing to push"
                ));
            }
            Event::Tagged { source, target } => {
                self.status(&format!("tagged {source} as {target}"));
            }
            Event::Warning { message } => self.warn(message),
        }
    }
}

/// A step that ends early (a cancelled push drops its streams) leaves no bar
/// on the screen.
impl Drop for ImageProgress<'_> {
    fn drop(&mut self) {
        let bars = std::mem::take(&mut *self.bars());
        for bar in bars.spinner.iter().chain(bars.layers.values()) {
            bar.finish_and_clear();
        }
    }
}

fn human_bytes(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["B", "kB", "MB", "GB", "TB"];
    let mut value = bytes as f64;
    let mut unit = 0;
    while value >= 1000.0 && unit < UNITS.len() - 1 {
        value /= 1000.0;
        unit += 1;
    }
    if unit == 0 {
        format!("{bytes} B")
    } else {
        format!("{value:.1} {}", UNITS[unit])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    use std::sync::Mutex as StdMutex;

    fn build_events(progress: &ImageProgress<'_>) {
        progress.send(Event::BuildStarted { image: "app:v1" });
        progress.send(Event::BuildStep {
            line: "Step 1/1 : RUN make",
        });
        progress.send(Event::BuildOutput { line: "compiling" });
        progress.send(Event::BuildEnded);
    }

    /// Without a terminal, steps and output alike are the task's output lines.
    #[test]
    fn off_a_terminal_build_lines_go_to_the_task_output() {
        let printer = Printer::plain();
        let lines = StdMutex::new(Vec::new());
        let output = |line: &str| lines.lock().unwrap().push(line.to_owned());
        build_events(&ImageProgress::new(&printer, "b", &output));
        assert_eq!(*lines.lock().unwrap(), ["Step 1/1 : RUN make", "compiling"]);
    }

    #[test]
    fn silent_runs_show_no_build_output() {
        let mut printer = Printer::plain();
        printer.silent = true;
        let lines = StdMutex::new(Vec::<String>::new());
        let output = |line: &str| lines.lock().unwrap().push(line.to_owned());
        build_events(&ImageProgress::new(&printer, "b", &output));
        assert!(lines.lock().unwrap().is_empty());
    }

    #[test]
    fn sizes() {
        assert_eq!(human_bytes(999), "999 B");
        assert_eq!(human_bytes(8_500_000), "8.5 MB");
    }
}
