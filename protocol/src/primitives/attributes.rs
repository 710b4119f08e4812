//! Presence attributes (PROTOCOL.md section 4) and their container, `PresenceSubList`.

use crate::element;
use crate::error::DecodeError;
use crate::node::Node;
use crate::xml::reader::{Child, XmlReader};
use crate::xml::writer::XmlWriter;

element! {
    /// `PresenceSubList`: presence attributes. In a request the attributes are empty elements
    /// naming what is wanted; in data each carries `Qualifier` and a value. Attributes this
    /// crate does not know are kept in `unknown` and written back.
    pub struct PresenceSubList {
        ;
        /// Attributes not modelled here (vendor extensions), kept verbatim.
        ..unknown
    }
}

/// Written with the PA namespace of the message's version.
impl Node for PresenceSubList {
    fn decode(r: &mut XmlReader<'_>, el: &Child<'_>) -> Result<Self, DecodeError> {
        Self::decode_content(r, el)
    }

    fn encode(&self, tag: &'static str, w: &mut XmlWriter<'_>) {
        w.begin_start(tag);
        w.attribute("xmlns", w.version().pa_namespace());
        let mark = w.end_start();
        self.encode_content(w);
        w.close(tag, mark);
    }
}
