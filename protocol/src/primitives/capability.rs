//! Capability and service negotiation: `ClientCapability-Request/-Response` and
//! `Service-Request/-Response` with the `WVCSPFeat` feature tree.

use crate::common::ClientId;
use crate::error::DecodeError;
use crate::node::{Node, Required};
use crate::types::{MimeType, Url};
use crate::xml::reader::{Child, XmlReader};
use crate::xml::writer::XmlWriter;
use crate::{element, plain_node, value_enum};

value_enum! {
    /// `DeliveryMethod` / `InitialDeliveryMethod`.
    pub enum DeliveryMethod {
        /// Push: the server sends `NewMessage`.
        Push = "P",
        /// Notify/get: the server sends `MessageNotification`, the client fetches.
        Notify = "N",
    }
}

value_enum! {
    /// `ClientType` of a capability list or `ClientInfo`.
    pub enum ClientType: open Other {
        /// A mobile phone.
        MobilePhone = "MOBILE_PHONE",
        /// A computer.
        Computer = "COMPUTER",
        /// A PDA.
        Pda = "PDA",
        /// A command-line client.
        Cli = "CLI",
        /// Anything else.
        OtherType = "OTHER",
    }
}

value_enum! {
    /// `SupportedBearer`.
    pub enum Bearer: open Other {
        /// SMS.
        Sms = "SMS",
        /// WAP WSP.
        Wsp = "WSP",
        /// HTTP.
        Http = "HTTP",
        /// HTTPS.
        Https = "HTTPS",
    }
}

value_enum! {
    /// `SupportedCIRMethod`: how the server may wake the client.
    pub enum CirMethod: open Other {
        /// WAP push over SMS.
        WapSms = "WAPSMS",
        /// WAP push over UDP.
        WapUdp = "WAPUDP",
        /// Standalone UDP.
        Sudp = "SUDP",
        /// Standalone TCP.
        Stcp = "STCP",
        /// Standalone SMS (1.2).
        Ssms = "SSMS",
        /// Standalone HTTP (1.2).
        Shttp = "SHTTP",
    }
}

element! {
    /// `CapabilityList`: what the client can do (request) or what was agreed (1.1 response).
    /// Every child is optional here so that incomplete real-world lists still read.
    pub struct CapabilityList {
        /// Kind of client.
        client_type: Option<ClientType> = "ClientType",
        /// Push or notify/get delivery.
        initial_delivery_method: Option<DeliveryMethod> = "InitialDeliveryMethod",
        /// MIME types accepted.
        accepted_content_types: Vec<MimeType> = "AcceptedContentType",
        /// T: any content type.
        any_content: Option<bool> = "AnyContent",
        /// Charsets accepted with `AnyContent`.
        accepted_charsets: Vec<String> = "AcceptedCharset",
        /// Transfer encodings (`BASE64`).
        accepted_transfer_encodings: Vec<String> = "AcceptedTransferEncoding",
        /// Largest content accepted, bytes.
        accepted_content_length: Option<u32> = "AcceptedContentLength",
        /// Bearers.
        supported_bearers: Vec<Bearer> = "SupportedBearer",
        /// Transactions per message the client handles.
        multi_trans: Option<u32> = "MultiTrans",
        /// Largest message the client parses, bytes.
        parser_size: Option<u32> = "ParserSize",
        /// Wake-up methods.
        supported_cir_methods: Vec<CirMethod> = "SupportedCIRMethod",
        /// The client's UDP port for SUDP.
        udp_port: Option<u32> = "UDPPort",
        /// The server's STCP address (1.1 response).
        tcp_address: Option<String> = "TCPAddress",
        /// The server's STCP port (1.1 response).
        tcp_port: Option<u32> = "TCPPort",
        /// Minimum seconds between polls.
        server_poll_min: Option<u32> = "ServerPollMin",
        /// The client's language.
        default_language: Option<String> = "DefaultLanguage",
        /// 1.3: transactions per message.
        multi_trans_per_message: Option<u32> = "MultiTransPerMessage",
        /// 1.3: largest pulled message.
        accepted_pull_length: Option<u32> = "AcceptedPullLength",
        /// 1.3: largest pushed message.
        accepted_push_length: Option<u32> = "AcceptedPushLength",
        /// 1.3: largest rich content.
        accepted_rich_content_length: Option<u32> = "AcceptedRichContentLength",
        /// 1.3: largest text content.
        accepted_text_content_length: Option<u32> = "AcceptedTextContentLength",
        /// 1.3: charset of plain text.
        plain_text_charset: Option<String> = "PlainTextCharset",
        /// 1.3: session priority.
        session_priority: Option<u32> = "SessionPriority",
        /// 1.3: bearers for offline delivery.
        supported_offline_bearers: Vec<Bearer> = "SupportedOfflineBearer",
        /// 1.3: sessions per user.
        user_session_limit: Option<u32> = "UserSessionLimit",
        /// 1.3: the client's SHTTP address.
        cir_http_address: Option<Url> = "CIRHTTPAddress",
        /// 1.3: the client's SSMS address.
        cir_sms_address: Option<String> = "CIRSMSAddress",
        /// 1.3: the client's SUDP address.
        udp_address: Option<String> = "UDPAddress",
        ;
        /// 1.3 and vendor capabilities not modelled, kept.
        ..extensions
    }
}

element! {
    /// `CIRURL` (1.2): where an SHTTP client polls for wake-ups.
    pub struct CirUrl {
        /// The URL.
        url: Url = "URL",
    }
}

element! {
    /// `AgreedCapabilityList` (1.2+): what the server accepts of the client's capabilities.
    pub struct AgreedCapabilityList {
        /// Bearers.
        supported_bearers: Vec<Bearer> = "SupportedBearer",
        /// Wake-up methods.
        supported_cir_methods: Vec<CirMethod> = "SupportedCIRMethod",
        /// The server's STCP address.
        tcp_address: Option<String> = "TCPAddress",
        /// The server's STCP port.
        tcp_port: Option<u32> = "TCPPort",
        /// Minimum seconds between polls.
        server_poll_min: Option<u32> = "ServerPollMin",
        /// The SHTTP wake-up URL.
        cir_url: Option<CirUrl> = "CIRURL",
        /// Agreed delivery method.
        initial_delivery_method: Option<DeliveryMethod> = "InitialDeliveryMethod",
        /// Agreed largest content.
        accepted_content_length: Option<u32> = "AcceptedContentLength",
        /// Agreed transactions per message.
        multi_trans: Option<u32> = "MultiTrans",
        /// Agreed parser size.
        parser_size: Option<u32> = "ParserSize",
        /// The client's UDP port.
        udp_port: Option<u32> = "UDPPort",
        ;
        /// 1.3 and vendor capabilities not modelled, kept.
        ..extensions
    }
}

element! {
    /// `ClientCapability-Request`.
    pub struct ClientCapabilityRequest {
        /// The client application (1.1; real 1.2 clients send it too).
        client_id: Option<ClientId> = "ClientID",
        /// What the client can do.
        capability_list: Option<CapabilityList> = "CapabilityList",
    }
}

element! {
    /// `ClientCapability-Response`: 1.1 answers with `CapabilityList`, 1.2+ with
    /// `AgreedCapabilityList`.
    pub struct ClientCapabilityResponse {
        /// The client application (1.1).
        client_id: Option<ClientId> = "ClientID",
        /// 1.1: the agreed capabilities.
        capability_list: Option<CapabilityList> = "CapabilityList",
        /// 1.2+: the agreed capabilities.
        agreed_capability_list: Option<AgreedCapabilityList> = "AgreedCapabilityList",
    }
}

/// A function element name and the leaf codes under it.
pub type FunctionLeaves = (&'static str, &'static [&'static str]);

/// The feature tree: feature → function → leaf primitive code, as CSP 1.1 and 1.2 define it.
/// A 1.2 whole-feature shorthand (`MF`, `MP`, `MM`, `MG`) appears as a function without
/// leaves.
pub const FEATURES: &[(&str, &[FunctionLeaves])] = &[
    (
        "FundamentalFeat",
        &[
            ("ServiceFunc", &["GETSPI"]),
            ("SearchFunc", &["SRCH", "STSRC"]),
            ("InviteFunc", &["INVIT", "CAINV"]),
            ("VerifyIDFunc", &["VRID"]),
            ("MF", &[]),
        ],
    ),
    (
        "PresenceFeat",
        &[
            ("ContListFunc", &["GCLI", "CCLI", "DCLI", "MCLS"]),
            ("PresenceAuthFunc", &["GETWL", "REACT", "CAAUT", "GETAUT"]),
            ("PresenceDeliverFunc", &["GETPR", "UPDPR"]),
            ("AttListFunc", &["CALI", "DALI", "GALS"]),
            ("MP", &[]),
        ],
    ),
    (
        "IMFeat",
        &[
            ("IMSendFunc", &["MDELIV", "FWMSG"]),
            (
                "IMReceiveFunc",
                &["SETD", "GETLM", "GETM", "REJCM", "NOTIF", "NEWM"],
            ),
            ("IMAuthFunc", &["GLBLU", "BLENT"]),
            ("MM", &[]),
        ],
    ),
    (
        "GroupFeat",
        &[
            ("GroupMgmtFunc", &["CREAG", "DELGR", "GETGP", "SETGP"]),
            ("GroupUseFunc", &["SUBGCN", "GRCHN", "GETJU"]),
            (
                "GroupAuthFunc",
                &["GETGM", "ADDGM", "RMVGM", "MBRAC", "REJEC"],
            ),
            ("MG", &[]),
        ],
    ),
];

/// One function of a feature and the leaf codes named under it.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Function {
    /// The function element name (`SearchFunc`, `MF`, ...).
    pub name: String,
    /// Leaf codes (`SRCH`, ...). Empty means the whole function.
    pub leaves: Vec<String>,
}

/// One feature of the tree and its functions.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Feature {
    /// The feature element name (`PresenceFeat`, ...).
    pub name: String,
    /// Functions named. Empty means the whole feature.
    pub functions: Vec<Function>,
}

/// `WVCSPFeat`: a set of features, functions and leaves. Names are kept as written so that
/// 1.3 and vendor additions survive.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FeatureTree {
    /// The features named.
    pub features: Vec<Feature>,
}

impl Node for FeatureTree {
    fn decode(r: &mut XmlReader<'_>, el: &Child<'_>) -> Result<Self, DecodeError> {
        let mut features = Vec::new();
        while let Some(feat) = r.next_child(el)? {
            let mut feature = Feature {
                name: feat.name().to_owned(),
                functions: Vec::new(),
            };
            while let Some(func) = r.next_child(&feat)? {
                let mut function = Function {
                    name: func.name().to_owned(),
                    leaves: Vec::new(),
                };
                while let Some(leaf) = r.next_child(&func)? {
                    function.leaves.push(leaf.name().to_owned());
                    r.skip(&leaf)?;
                }
                feature.functions.push(function);
            }
            features.push(feature);
        }
        Ok(Self { features })
    }

    fn encode(&self, tag: &'static str, w: &mut XmlWriter<'_>) {
        let mark = w.open(tag);
        for feature in &self.features {
            let fmark = w.open(&feature.name);
            for function in &feature.functions {
                let gmark = w.open(&function.name);
                for leaf in &function.leaves {
                    let lmark = w.open(leaf);
                    w.close(leaf, lmark);
                }
                w.close(&function.name, gmark);
            }
            w.close(&feature.name, fmark);
        }
        w.close(tag, mark);
    }
}
impl Required for FeatureTree {}

impl FeatureTree {
    /// Every leaf code of [`FEATURES`] (the whole service).
    pub fn everything() -> Self {
        Self {
            features: FEATURES
                .iter()
                .map(|(feat, funcs)| Feature {
                    name: (*feat).to_owned(),
                    functions: funcs
                        .iter()
                        .filter(|(_, leaves)| !leaves.is_empty())
                        .map(|(func, leaves)| Function {
                            name: (*func).to_owned(),
                            leaves: leaves.iter().map(|l| (*l).to_owned()).collect(),
                        })
                        .collect(),
                })
                .collect(),
        }
    }

    /// The leaf codes this tree names, expanding empty features, empty functions and the
    /// whole-feature shorthands through [`FEATURES`]. An empty tree names nothing.
    pub fn leaves(&self) -> Vec<&'static str> {
        let mut out = Vec::new();
        for feature in &self.features {
            let Some((_, funcs)) = FEATURES.iter().find(|(f, _)| *f == feature.name) else {
                continue;
            };
            let whole = feature.functions.is_empty()
                || feature
                    .functions
                    .iter()
                    .any(|f| f.leaves.is_empty() && f.name.len() == 2);
            for (func, leaves) in funcs.iter() {
                let named = feature.functions.iter().find(|f| f.name == *func);
                for leaf in leaves.iter() {
                    let wanted = whole
                        || named.is_some_and(|f| {
                            f.leaves.is_empty() || f.leaves.iter().any(|l| l == leaf)
                        });
                    if wanted {
                        out.push(*leaf);
                    }
                }
            }
        }
        out
    }
}

#[cfg(any(test, feature = "sample"))]
impl crate::sample::Sample for FeatureTree {
    fn sample(g: &mut crate::sample::Gen) -> Self {
        let mut features = Vec::new();
        for (feat, funcs) in FEATURES {
            if !g.coin() {
                continue;
            }
            let mut functions = Vec::new();
            for (func, leaves) in funcs.iter() {
                if g.below(3) != 0 {
                    continue;
                }
                let leaves = leaves
                    .iter()
                    .filter(|_| g.coin())
                    .map(|l| (*l).to_owned())
                    .collect();
                functions.push(Function {
                    name: (*func).to_owned(),
                    leaves,
                });
            }
            features.push(Feature {
                name: (*feat).to_owned(),
                functions,
            });
        }
        Self { features }
    }
}

element! {
    /// `Functions` / `AllFunctions` / `NotAvailableFunctions`: a feature tree.
    pub struct Functions {
        /// The tree.
        tree: FeatureTree = "WVCSPFeat",
    }
}

element! {
    /// `Service-Request`: which features the client wants.
    pub struct ServiceRequest {
        /// The client application (1.1).
        client_id: Option<ClientId> = "ClientID",
        /// Features wanted (an empty feature element = the whole feature).
        functions: Option<Functions> = "Functions",
        /// T: also list everything the server supports.
        all_functions_request: Option<bool> = "AllFunctionsRequest",
    }
}

element! {
    /// `Service-Response`.
    pub struct ServiceResponse {
        /// The client application (1.1).
        client_id: Option<ClientId> = "ClientID",
        /// The agreed features.
        functions: Option<Functions> = "Functions",
        /// Everything the server supports (when asked).
        all_functions: Option<Functions> = "AllFunctions",
        /// What the server cannot give (1.3).
        not_available_functions: Option<Functions> = "NotAvailableFunctions",
    }
}

plain_node!(
    CapabilityList,
    CirUrl,
    AgreedCapabilityList,
    ClientCapabilityRequest,
    ClientCapabilityResponse,
    Functions,
    ServiceRequest,
    ServiceResponse,
);
