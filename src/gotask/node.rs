//! A Taskfile as YAML nodes, typed the way go-task's YAML decoder types
//! plain scalars (`1.20` is the float 1.2, `010` the octal 8, `yes` a string),
//! so that values print as go-task prints them.

use crate::gotmpl::Value;
use indexmap::IndexMap;
use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::Deserialize;
use std::fmt;

/// One YAML node. Mapping keys are kept as text, in file order.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Node {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str(String),
    List(Vec<Node>),
    Map(IndexMap<String, Node>),
}

impl Node {
    pub(crate) fn parse(text: &str) -> Result<Node, String> {
        let mut options = serde_saphyr::Options::default();
        options.with_snippet = false;
        options.legacy_octal_numbers = true;
        options.strict_booleans = true;
        serde_saphyr::from_str_with_options::<Node>(text, options).map_err(|e| e.to_string())
    }

    pub(crate) fn as_map(&self) -> Option<&IndexMap<String, Node>> {
        match self {
            Node::Map(m) => Some(m),
            _ => None,
        }
    }

    pub(crate) fn get(&self, key: &str) -> Option<&Node> {
        self.as_map().and_then(|m| m.get(key))
    }

    pub(crate) fn kind(&self) -> &'static str {
        match self {
            Node::Null => "null",
            Node::Bool(_) => "bool",
            Node::Int(_) => "int",
            Node::Float(_) => "float",
            Node::Str(_) => "string",
            Node::List(_) => "sequence",
            Node::Map(_) => "mapping",
        }
    }

    /// A scalar as text (go-task reads command strings and names this way).
    pub(crate) fn scalar_text(&self) -> Option<String> {
        match self {
            Node::Null => Some(String::new()),
            Node::Bool(b) => Some(b.to_string()),
            Node::Int(i) => Some(i.to_string()),
            Node::Float(f) => Some(Value::Float(*f).to_string()),
            Node::Str(s) => Some(s.clone()),
            Node::List(_) | Node::Map(_) => None,
        }
    }

    /// The node as a template value.
    pub(crate) fn to_value(&self) -> Value {
        match self {
            Node::Null => Value::Nil,
            Node::Bool(b) => Value::Bool(*b),
            Node::Int(i) => Value::Int(*i),
            Node::Float(f) => Value::Float(*f),
            Node::Str(s) => Value::String(s.clone()),
            Node::List(items) => Value::List(items.iter().map(Node::to_value).collect()),
            Node::Map(m) => Value::Map(m.iter().map(|(k, v)| (k.clone(), v.to_value())).collect()),
        }
    }

    pub(crate) fn truthy(&self) -> bool {
        match self {
            Node::Bool(b) => *b,
            Node::Str(s) => s == "true",
            _ => false,
        }
    }
}

impl<'de> Deserialize<'de> for Node {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_any(NodeVisitor)
    }
}

struct NodeVisitor;

impl<'de> Visitor<'de> for NodeVisitor {
    type Value = Node;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a YAML value")
    }
    fn visit_bool<E>(self, v: bool) -> Result<Node, E> {
        Ok(Node::Bool(v))
    }
    fn visit_i64<E>(self, v: i64) -> Result<Node, E> {
        Ok(Node::Int(v))
    }
    fn visit_u64<E>(self, v: u64) -> Result<Node, E> {
        // Beyond i64 Go keeps a uint64; its digits print the same.
        Ok(i64::try_from(v).map_or_else(|_| Node::Str(v.to_string()), Node::Int))
    }
    fn visit_f64<E>(self, v: f64) -> Result<Node, E> {
        Ok(Node::Float(v))
    }
    fn visit_str<E>(self, v: &str) -> Result<Node, E> {
        Ok(Node::Str(v.to_owned()))
    }
    fn visit_string<E>(self, v: String) -> Result<Node, E> {
        Ok(Node::Str(v))
    }
    fn visit_unit<E>(self) -> Result<Node, E> {
        Ok(Node::Null)
    }
    fn visit_none<E>(self) -> Result<Node, E> {
        Ok(Node::Null)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Node, D::Error> {
        Node::deserialize(d)
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Node, A::Error> {
        let mut items = Vec::new();
        while let Some(item) = seq.next_element::<Node>()? {
            items.push(item);
        }
        Ok(Node::List(items))
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Node, A::Error> {
        let mut out = IndexMap::new();
        while let Some(key) = map.next_key::<Node>()? {
            let key = key
                .scalar_text()
                .ok_or_else(|| de::Error::custom("a mapping key must be a scalar"))?;
            let value = map.next_value::<Node>()?;
            out.insert(key, value);
        }
        Ok(Node::Map(out))
    }
}
