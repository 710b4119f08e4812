//! CSP versions, their namespaces, DOCTYPE public ids and HTTP content types.

/// A CSP protocol version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Version {
    /// Wireless Village CSP 1.1.
    V1_1,
    /// OMA IMPS CSP 1.2.
    V1_2,
    /// OMA IMPS CSP 1.3.
    V1_3,
}

/// The two wire encodings of CSP.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Encoding {
    /// Textual XML.
    Xml,
    /// Binary WBXML.
    Wbxml,
}

impl Version {
    /// Every version this codec speaks, oldest first.
    pub const ALL: [Version; 3] = [Version::V1_1, Version::V1_2, Version::V1_3];

    /// The version as written in CIR and VersionDiscovery (`1.1`, `1.2`, `1.3`).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::V1_1 => "1.1",
            Self::V1_2 => "1.2",
            Self::V1_3 => "1.3",
        }
    }

    /// Parses `1.1`, `1.2` or `1.3`.
    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.as_str() == s.trim())
    }

    /// Namespace of `WV-CSP-Message`.
    pub fn csp_namespace(self) -> &'static str {
        match self {
            Self::V1_1 => "http://www.wireless-village.org/CSP1.1",
            Self::V1_2 => "http://www.openmobilealliance.org/DTD/WV-CSP1.2",
            Self::V1_3 => "http://www.openmobilealliance.org/DTD/IMPS-CSP1.3",
        }
    }

    /// Namespace of `TransactionContent`.
    pub fn trc_namespace(self) -> &'static str {
        match self {
            Self::V1_1 => "http://www.wireless-village.org/TRC1.1",
            Self::V1_2 => "http://www.openmobilealliance.org/DTD/WV-TRC1.2",
            Self::V1_3 => "http://www.openmobilealliance.org/DTD/IMPS-TRC1.3",
        }
    }

    /// Namespace of `PresenceSubList`.
    pub fn pa_namespace(self) -> &'static str {
        match self {
            Self::V1_1 => "http://www.wireless-village.org/PA1.1",
            Self::V1_2 => "http://www.openmobilealliance.org/DTD/WV-PA1.2",
            Self::V1_3 => "http://www.openmobilealliance.org/DTD/IMPS-PA1.3",
        }
    }

    /// DOCTYPE public identifier.
    pub fn public_id(self) -> &'static str {
        match self {
            Self::V1_1 => "-//OMA//DTD WV-CSP 1.1//EN",
            Self::V1_2 => "-//OMA//DTD WV-CSP 1.2//EN",
            Self::V1_3 => "-//OMA//DTD IMPS-CSP 1.3//EN",
        }
    }

    /// WBXML public identifier.
    pub fn wbxml_public_id(self) -> u32 {
        match self {
            Self::V1_1 => 0x10,
            Self::V1_2 => 0x11,
            Self::V1_3 => 0x12,
        }
    }

    /// The HTTP content type a server answers with in this version and encoding.
    pub fn content_type(self, encoding: Encoding) -> &'static str {
        match (self, encoding) {
            (Self::V1_3, Encoding::Xml) => "application/vnd.wv.csp+xml",
            (Self::V1_3, Encoding::Wbxml) => "application/vnd.wv.csp+wbxml",
            (_, Encoding::Xml) => "application/vnd.wv.csp.xml",
            (_, Encoding::Wbxml) => "application/vnd.wv.csp.wbxml",
        }
    }

    /// The version a namespace URI names, from any of its CSP, TRC or PA namespaces.
    pub fn from_namespace(uri: &str) -> Option<Self> {
        let uri = uri.trim();
        Self::ALL.into_iter().find(|v| {
            uri.eq_ignore_ascii_case(v.csp_namespace())
                || uri.eq_ignore_ascii_case(v.trc_namespace())
                || uri.eq_ignore_ascii_case(v.pa_namespace())
        })
    }

    /// True for a URI of the Wireless Village / OMA family, whatever its version: a root
    /// namespace like that which [`Version::from_namespace`] does not know (CSP 1.0, say) is
    /// a version this codec does not speak, not a foreign document.
    pub fn is_wv_namespace(uri: &str) -> bool {
        let lower = uri.to_ascii_lowercase();
        lower.contains("wireless-village.org") || lower.contains("openmobilealliance.org")
    }

    /// The version a DOCTYPE public identifier names (also the old Wireless Village spelling).
    pub fn from_public_id(id: &str) -> Option<Self> {
        let id = id.trim();
        if id.eq_ignore_ascii_case("-//WIRELESSVILLAGE//DTD CSP 1.1//EN") {
            return Some(Self::V1_1);
        }
        Self::ALL
            .into_iter()
            .find(|v| id.eq_ignore_ascii_case(v.public_id()))
    }

    /// The version for a WBXML public identifier.
    pub fn from_wbxml_public_id(id: u32) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.wbxml_public_id() == id)
    }
}

impl std::fmt::Display for Version {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What an HTTP `Content-Type` says about a CSP body.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ContentType {
    /// XML or WBXML.
    pub encoding: Encoding,
    /// `Some(V1_3)` for the `+xml`/`+wbxml` forms; `None` when the type does not tell
    /// (the dotted forms serve both 1.1 and 1.2).
    pub version: Option<Version>,
}

impl ContentType {
    /// Classifies a `Content-Type` header value; parameters such as `charset` are ignored.
    /// `None` for types that carry no CSP.
    pub fn parse(value: &str) -> Option<Self> {
        let mime = value
            .split(';')
            .next()
            .unwrap_or("")
            .trim()
            .to_ascii_lowercase();
        let (encoding, version) = match mime.as_str() {
            "application/vnd.wv.csp.xml" => (Encoding::Xml, None),
            "application/vnd.wv.csp.wbxml" => (Encoding::Wbxml, None),
            "application/vnd.wv.csp+xml" => (Encoding::Xml, Some(Version::V1_3)),
            "application/vnd.wv.csp+wbxml" => (Encoding::Wbxml, Some(Version::V1_3)),
            "application/xml" | "text/xml" => (Encoding::Xml, None),
            _ => return None,
        };
        Some(Self { encoding, version })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn namespaces_name_their_version() {
        for v in Version::ALL {
            assert_eq!(Version::from_namespace(v.csp_namespace()), Some(v));
            assert_eq!(Version::from_namespace(v.trc_namespace()), Some(v));
            assert_eq!(Version::from_namespace(v.pa_namespace()), Some(v));
            assert_eq!(Version::from_public_id(v.public_id()), Some(v));
            assert_eq!(Version::from_wbxml_public_id(v.wbxml_public_id()), Some(v));
            assert_eq!(Version::parse(v.as_str()), Some(v));
        }
        let csp10 = "http://www.wireless-village.org/CSP1.0";
        assert_eq!(Version::from_namespace(csp10), None);
        assert!(Version::is_wv_namespace(csp10));
        assert!(!Version::is_wv_namespace("http://example.com/x"));
    }

    #[test]
    fn content_types() {
        let ct = ContentType::parse("application/vnd.wv.csp+xml; charset=utf-8");
        assert_eq!(
            ct,
            Some(ContentType {
                encoding: Encoding::Xml,
                version: Some(Version::V1_3)
            })
        );
        let ct = ContentType::parse("Application/VND.WV.CSP.WBXML");
        assert_eq!(
            ct,
            Some(ContentType {
                encoding: Encoding::Wbxml,
                version: None
            })
        );
        assert_eq!(ContentType::parse("text/html"), None);
        assert_eq!(
            Version::V1_2.content_type(Encoding::Xml),
            "application/vnd.wv.csp.xml"
        );
    }
}
