//! minijinja's filters that take a size from the template and allocate or
//! loop that much at once, with the size bounded. Fuzzing found
//! `{{ x | indent(99999999999) }}` aborting hoist ("memory allocation of
//! 99999999999 bytes failed"); `batch` with a fill value and `tojson` with an
//! indent have the same shape. Within the bounds they are minijinja's own.

use minijinja::value::{Kwargs, StringInput, Value};
use minijinja::{Error, ErrorKind, State};

/// Widest indent `indent` and `tojson` accept.
pub(crate) const MAX_INDENT: usize = 1_000;
/// Largest batch `batch` pads with its fill value (minijinja's `range` limit).
pub(crate) const MAX_BATCH: usize = 100_000;

fn too_large(what: &str, value: usize, max: usize) -> Error {
    Error::new(
        ErrorKind::InvalidOperation,
        format!("{what} {value} is more than {max}"),
    )
}

pub(crate) fn indent(
    value: StringInput<'_>,
    width: Option<usize>,
    first: Option<bool>,
    blank: Option<bool>,
    kwargs: Kwargs,
) -> Result<Value, Error> {
    let asked = match width {
        Some(width) => Some(width),
        None => kwargs.get::<Option<usize>>("width")?,
    };
    if let Some(width) = asked.filter(|w| *w > MAX_INDENT) {
        return Err(too_large("the indent width", width, MAX_INDENT));
    }
    minijinja::filters::indent(value, width, first, blank, kwargs)
}

pub(crate) fn batch(
    state: &State,
    value: Value,
    count: usize,
    fill_with: Option<Value>,
) -> Result<Value, Error> {
    if fill_with.is_some() && count > MAX_BATCH {
        return Err(too_large("a filled batch of", count, MAX_BATCH));
    }
    minijinja::filters::batch(state, value, count, fill_with)
}

pub(crate) fn tojson(value: &Value, indent: Option<Value>, kwargs: Kwargs) -> Result<Value, Error> {
    let asked = match &indent {
        Some(indent) => Some(indent.clone()),
        None => kwargs.get::<Option<Value>>("indent")?,
    };
    if let Some(width) = asked
        .and_then(|v| usize::try_from(v).ok())
        .filter(|w| *w > MAX_INDENT)
    {
        return Err(too_large("the JSON indent", width, MAX_INDENT));
    }
    minijinja::filters::tojson(value, indent, kwargs)
}

#[cfg(test)]
mod tests {
    use crate::template::Engine;
    use minijinja::Value;

    #[test]
    fn huge_sizes_are_errors_and_small_ones_work() {
        let engine = Engine::new();
        let render = |s: &str| {
            engine
                .render(s, Value::from(()), super::super::Target::Plain)
                .map(|r| r.text)
        };
        for source in [
            "{{ 'a\nb' | indent(99999999999) }}",
            "{{ 'a\nb' | indent(width=1001) }}",
            "{{ [1] | batch(99999999999, 'x') | list }}",
            "{{ [[1]] | tojson(indent=99999999999) }}",
            "{{ [[1]] | tojson(5000) }}",
        ] {
            let error = render(source).unwrap_err();
            assert!(
                error.message.contains("is more than"),
                "{source}: {}",
                error.message
            );
        }
        assert_eq!(render("{{ 'a\nb' | indent(2) }}").unwrap(), "a\n  b");
        assert_eq!(
            render("{{ [1, 2, 3] | batch(2, 0) | list }}").unwrap(),
            "[[1, 2], [3, 0]]"
        );
        assert_eq!(
            render("{{ [1] | batch(99999999999) | list }}").unwrap(),
            "[[1]]"
        );
        assert_eq!(render("{{ [1] | tojson(indent=2) }}").unwrap(), "[\n  1\n]");
        assert_eq!(render("{{ [1] | tojson(true) }}").unwrap(), "[\n  1\n]");
    }
}
