//! Elements kept as they came: extension blocks, vendor data and unknown presence attributes.

use crate::error::DecodeError;
use crate::node::Node;
use crate::xml::reader::{Child, XmlReader};
use crate::xml::writer::XmlWriter;

/// An element preserved verbatim (name as written, prefix included; attributes, namespace
/// declarations among them; children in order).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RawElement {
    /// Qualified name.
    pub name: String,
    /// Attributes in document order, unescaped.
    pub attributes: Vec<(String, String)>,
    /// Child elements and text.
    pub children: Vec<RawNode>,
}

/// A child of a [`RawElement`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RawNode {
    /// A nested element.
    Element(RawElement),
    /// Text, unescaped.
    Text(String),
}

impl RawElement {
    /// The local name (after any prefix).
    pub fn local_name(&self) -> &str {
        self.name.rsplit(':').next().unwrap_or(&self.name)
    }

    /// The concatenated text of the direct children.
    pub fn text(&self) -> String {
        let mut out = String::new();
        for child in &self.children {
            if let RawNode::Text(t) = child {
                out.push_str(t);
            }
        }
        out
    }

    /// Writes the element under its own name.
    pub fn write(&self, w: &mut XmlWriter<'_>) {
        w.begin_start(&self.name);
        for (k, v) in &self.attributes {
            w.attribute(k, v);
        }
        let mark = w.end_start();
        for child in &self.children {
            match child {
                RawNode::Element(e) => e.write(w),
                RawNode::Text(t) => w.text(t),
            }
        }
        w.close(&self.name, mark);
    }
}

impl Node for RawElement {
    fn decode(r: &mut XmlReader<'_>, el: &Child<'_>) -> Result<Self, DecodeError> {
        r.raw(el)
    }

    /// Raw elements keep their own name; `tag` is ignored.
    fn encode(&self, _tag: &'static str, w: &mut XmlWriter<'_>) {
        self.write(w);
    }
}
