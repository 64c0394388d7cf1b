//! What Podman's Docker-compatible service says otherwise than dockerd.
//!
//! Its builds run Buildah, which words the steps of the build stream in its
//! own way: `STEP 2/5: RUN make`, and in a multi-stage build each stage
//! counts its own steps: `[2/3] STEP 1/4: FROM golang AS build`. hoist reads
//! them as Docker's `Step 2/5 : RUN make`, so that the output and a failed
//! step's error look the same on either engine.

/// A Buildah step line in Docker's words, the stage kept after the number:
/// `Step 1/4 (stage 2/3) : FROM golang AS build`. `None` for any other line.
pub(super) fn step_line(line: &str) -> Option<String> {
    let (stage, rest) = match line.strip_prefix('[') {
        Some(bracketed) => {
            let (stage, rest) = bracketed.split_once("] ")?;
            (Some(fraction(stage)?), rest)
        }
        None => (None, line),
    };
    let (step, instruction) = rest.strip_prefix("STEP ")?.split_once(": ")?;
    let step = fraction(step)?;
    Some(match stage {
        Some(stage) => format!("Step {step} (stage {stage}) : {instruction}"),
        None => format!("Step {step} : {instruction}"),
    })
}

/// `2/5`, both numbers of digits alone.
fn fraction(text: &str) -> Option<&str> {
    let (n, of) = text.split_once('/')?;
    let digits = |s: &str| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit());
    (digits(n) && digits(of)).then_some(text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buildah_steps_read_as_docker_steps() {
        // As podman 4.3's compat build streams them.
        assert_eq!(
            step_line("STEP 2/3: RUN echo hello").as_deref(),
            Some("Step 2/3 : RUN echo hello")
        );
        assert_eq!(
            step_line("[2/2] STEP 1/3: FROM 0801276ebcdc AS runner").as_deref(),
            Some("Step 1/3 (stage 2/2) : FROM 0801276ebcdc AS runner")
        );
        assert_eq!(
            step_line("STEP 1/1: RUN a: b").as_deref(),
            Some("Step 1/1 : RUN a: b")
        );
    }

    #[test]
    fn other_lines_are_not_steps() {
        for line in [
            "--> 0801276ebcd",
            "[2/2] COMMIT docker.io/library/app:v1",
            "Successfully tagged localhost/app:v1",
            "STEP: RUN x",
            "STEP 1/x: RUN x",
            "[a/2] STEP 1/2: RUN x",
            "Step 1/2 : RUN x",
            "step 1/2: RUN x",
            "RUN echo STEP 1/2: x",
        ] {
            assert_eq!(step_line(line), None, "{line}");
        }
    }
}
