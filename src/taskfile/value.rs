//! The value types the task file model and its steps share: spanned text,
//! variable maps, and variable values as written: scalars and lists/maps of them (strings are
//! templates), or `{sh: COMMAND}` whose trimmed stdout is the value.

use indexmap::IndexMap;
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use serde_saphyr::Spanned;
use std::fmt;

/// A string template with its position in the task file.
pub(crate) type Text = Spanned<String>;

/// Variables in file order.
pub(crate) type VarMap = IndexMap<String, Spanned<VarValue>>;

/// A string whose position is filled in by the enclosing `Spanned` (the
/// shorthand forms are plain scalars, so the outer span is the string's span).
pub(super) fn unspanned(v: &str) -> Text {
    Spanned::new(
        v.to_owned(),
        serde_saphyr::Location::UNKNOWN,
        serde_saphyr::Location::UNKNOWN,
    )
}

#[derive(Debug, Clone, PartialEq)]
pub(crate) enum VarValue {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    List(Vec<VarValue>),
    Map(IndexMap<String, VarValue>),
    /// A command run with `sh -c`; its trimmed stdout is the value.
    Sh(String),
}

impl<'de> Deserialize<'de> for VarValue {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ValueVisitor;
        impl<'de> Visitor<'de> for ValueVisitor {
            type Value = VarValue;
            fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
                f.write_str("a value (string, number, boolean, list, map) or {sh: COMMAND}")
            }
            fn visit_bool<E>(self, v: bool) -> Result<VarValue, E> {
                Ok(VarValue::Bool(v))
            }
            fn visit_i64<E>(self, v: i64) -> Result<VarValue, E> {
                Ok(VarValue::Int(v))
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<VarValue, E> {
                i64::try_from(v)
                    .map(VarValue::Int)
                    .or(Ok(VarValue::Float(v as f64)))
            }
            fn visit_f64<E>(self, v: f64) -> Result<VarValue, E> {
                Ok(VarValue::Float(v))
            }
            fn visit_str<E>(self, v: &str) -> Result<VarValue, E> {
                Ok(VarValue::Str(v.to_owned()))
            }
            fn visit_string<E>(self, v: String) -> Result<VarValue, E> {
                Ok(VarValue::Str(v))
            }
            fn visit_unit<E>(self) -> Result<VarValue, E> {
                Ok(VarValue::Null)
            }
            fn visit_none<E>(self) -> Result<VarValue, E> {
                Ok(VarValue::Null)
            }
            fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<VarValue, D::Error> {
                VarValue::deserialize(d)
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<VarValue, A::Error> {
                let mut items = Vec::new();
                while let Some(item) = seq.next_element()? {
                    items.push(item);
                }
                Ok(VarValue::List(items))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<VarValue, A::Error> {
                let mut entries = IndexMap::new();
                while let Some((key, value)) = map.next_entry::<String, VarValue>()? {
                    entries.insert(key, value);
                }
                if entries.len() == 1 {
                    if let Some(sh) = entries.get("sh") {
                        return match sh {
                            VarValue::Str(cmd) => Ok(VarValue::Sh(cmd.clone())),
                            _ => Err(de::Error::custom("`sh:` takes a command string")),
                        };
                    }
                }
                Ok(VarValue::Map(entries))
            }
        }
        deserializer.deserialize_any(ValueVisitor)
    }
}
