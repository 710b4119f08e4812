//! Presence attributes (PROTOCOL.md section 4) and their container, `PresenceSubList`.
//!
//! Every attribute is a struct whose children are all optional, so the same type serves as
//! a request's empty "I want this attribute" element and as data with `Qualifier` and value.

use crate::error::DecodeError;
use crate::node::Node;
use crate::types::{Base64Text, MimeType, Url};
use crate::xml::reader::{Child, XmlReader};
use crate::xml::writer::XmlWriter;
use crate::{element, plain_node, value_enum};

use super::capability::ClientType;

value_enum! {
    /// `UserAvailability` values.
    pub enum Availability: open Other {
        /// Available.
        Available = "AVAILABLE",
        /// Not available.
        NotAvailable = "NOT_AVAILABLE",
        /// Discreet.
        Discreet = "DISCREET",
    }
}

value_enum! {
    /// `StatusMood` values.
    pub enum Mood: open Other {
        /// Happy.
        Happy = "HAPPY",
        /// Sad.
        Sad = "SAD",
        /// Angry.
        Angry = "ANGRY",
        /// Anxious.
        Anxious = "ANXIOUS",
        /// Ashamed.
        Ashamed = "ASHAMED",
        /// Bored.
        Bored = "BORED",
        /// Excited.
        Excited = "EXCITED",
        /// In love.
        InLove = "IN_LOVE",
        /// Invincible.
        Invincible = "INVINCIBLE",
        /// Jealous.
        Jealous = "JEALOUS",
        /// Sleepy.
        Sleepy = "SLEEPY",
        /// Other.
        OtherMood = "OTHER",
    }
}

value_enum! {
    /// `Cap` / `PrefC`: a communication capability.
    pub enum CommCapability: open Other {
        /// Voice call.
        Call = "CALL",
        /// SMS.
        Sms = "SMS",
        /// MMS.
        Mms = "MMS",
        /// Instant messaging.
        Im = "IM",
        /// E-mail.
        Email = "EMAIL",
        /// Audio call.
        AudioCall = "AUDIO_CALL",
        /// Video call.
        VideoCall = "VIDEO_CALL",
        /// Video stream.
        VideoStream = "VIDEO_STREAM",
    }
}

value_enum! {
    /// `Status` / `Cstatus` of a capability.
    pub enum CapStatus: open Other {
        /// Usable.
        Open = "OPEN",
        /// Not usable.
        Closed = "CLOSED",
    }
}

/// Declares attributes of the form `(Qualifier?, PresenceValue?)`.
macro_rules! simple_attributes {
    ($($(#[$meta:meta])* $name:ident: $value:ty),* $(,)?) => {$(
        element! {
            $(#[$meta])*
            pub struct $name {
                /// T: the value is valid.
                qualifier: Option<bool> = "Qualifier",
                /// The value.
                value: Option<$value> = "PresenceValue",
            }
        }
        plain_node!($name);
    )*};
}

simple_attributes! {
    /// `OnlineStatus`: T when the client is online.
    OnlineStatus: bool,
    /// `Registration`: T when registered to the mobile network.
    Registration: bool,
    /// `FreeTextLocation`.
    FreeTextLocation: String,
    /// `PLMN`: the operator.
    Plmn: String,
    /// `UserAvailability`.
    UserAvailability: Availability,
    /// `PreferredLanguage` (ISO 639-2).
    PreferredLanguage: String,
    /// `StatusText`.
    StatusText: String,
    /// `StatusMood`.
    StatusMood: Mood,
    /// `Alias`: a nickname.
    Alias: String,
}

element! {
    /// `ClientInfo`: about the client device and software.
    pub struct ClientInfo {
        /// T: the value is valid.
        qualifier: Option<bool> = "Qualifier",
        /// Kind of client.
        client_type: Option<ClientType> = "ClientType",
        /// Device manufacturer.
        dev_manufacturer: Option<String> = "DevManufacturer",
        /// Client producer.
        client_producer: Option<String> = "ClientProducer",
        /// Device model.
        model: Option<String> = "Model",
        /// Client version.
        client_version: Option<String> = "ClientVersion",
        /// Language.
        language: Option<String> = "Language",
        /// 1.3: content limit.
        client_content_limit: Option<u32> = "ClientContentLimit",
        /// 1.3: IM priority.
        client_im_priority: Option<u32> = "ClientIMPriority",
        /// 1.3: largest pull.
        max_pull_length: Option<u32> = "MaxPullLength",
        /// 1.3: largest push.
        max_push_length: Option<u32> = "MaxPushLength",
    }
}

element! {
    /// `TimeZone`.
    pub struct TimeZone {
        /// T: the value is valid.
        qualifier: Option<bool> = "Qualifier",
        /// Offset like `+02`.
        zone: Option<String> = "Zone",
    }
}

element! {
    /// `GeoLocation`.
    pub struct GeoLocation {
        /// T: the value is valid.
        qualifier: Option<bool> = "Qualifier",
        /// Longitude.
        longitude: Option<String> = "Longitude",
        /// Latitude.
        latitude: Option<String> = "Latitude",
        /// Altitude.
        altitude: Option<String> = "Altitude",
        /// Accuracy in metres.
        accuracy: Option<String> = "Accuracy",
    }
}

element! {
    /// `Address`: a street address.
    pub struct Address {
        /// T: the value is valid.
        qualifier: Option<bool> = "Qualifier",
        /// Country.
        country: Option<String> = "Country",
        /// City.
        city: Option<String> = "City",
        /// Street.
        street: Option<String> = "Street",
        /// First crossing street.
        crossing1: Option<String> = "Crossing1",
        /// Second crossing street.
        crossing2: Option<String> = "Crossing2",
        /// Building.
        building: Option<String> = "Building",
        /// Named area.
        named_area: Option<String> = "NamedArea",
        /// Accuracy in metres.
        accuracy: Option<String> = "Accuracy",
    }
}

element! {
    /// `CommC`: one communication capability.
    pub struct CommC {
        /// The capability.
        cap: Option<CommCapability> = "Cap",
        /// Open or closed.
        status: Option<CapStatus> = "Status",
        /// How to reach the user with it.
        contact: Option<String> = "Contact",
        /// A note.
        note: Option<String> = "Note",
    }
}

element! {
    /// `CommCap`: communication capabilities.
    pub struct CommCap {
        /// T: the value is valid.
        qualifier: Option<bool> = "Qualifier",
        /// The capabilities.
        comm_c: Vec<CommC> = "CommC",
    }
}

element! {
    /// `AddrPref`: one preferred contact.
    pub struct AddrPref {
        /// The capability.
        pref_c: Option<CommCapability> = "PrefC",
        /// The address.
        caddr: Option<String> = "Caddr",
        /// Open or closed.
        cstatus: Option<CapStatus> = "Cstatus",
        /// A name.
        cname: Option<String> = "Cname",
        /// Priority.
        cpriority: Option<u32> = "Cpriority",
    }
}

element! {
    /// `PreferredContacts`.
    pub struct PreferredContacts {
        /// T: the value is valid.
        qualifier: Option<bool> = "Qualifier",
        /// The contacts, in order of preference.
        addr_pref: Vec<AddrPref> = "AddrPref",
    }
}

element! {
    /// `StatusContent`: an image or other media (avatar).
    pub struct StatusContent {
        /// T: the value is valid.
        qualifier: Option<bool> = "Qualifier",
        /// The content inline, Base64.
        direct_content: Option<Base64Text> = "DirectContent",
        /// The content by reference.
        referred_content: Option<Url> = "ReferredContent",
        /// 1.1 examples: preferred content reference.
        preferred_content: Option<Url> = "PreferredContent",
        /// The content's MIME type.
        content_type: Option<MimeType> = "ContentType",
    }
}

element! {
    /// `ContactInfo`: a vCard.
    pub struct ContactInfo {
        /// T: the value is valid.
        qualifier: Option<bool> = "Qualifier",
        /// The vCard inline.
        contained_vcard: Option<String> = "ContainedvCard",
        /// The vCard by reference.
        referred_vcard: Option<Url> = "ReferredvCard",
        /// 1.1 examples: preferred vCard reference.
        preferred_vcard: Option<Url> = "PreferredvCard",
    }
}

element! {
    /// `Inf_link`: one link.
    pub struct InfLink {
        /// The link.
        link: Option<Url> = "Link",
        /// Its text.
        text: Option<String> = "Text",
        /// Its MIME type.
        content_type: Option<MimeType> = "ContentType",
    }
}

element! {
    /// `InfoLink` (1.2): links about the user.
    pub struct InfoLink {
        /// T: the value is valid.
        qualifier: Option<bool> = "Qualifier",
        /// The links.
        links: Vec<InfLink> = "Inf_link",
    }
}

plain_node!(
    ClientInfo,
    TimeZone,
    GeoLocation,
    Address,
    CommC,
    CommCap,
    AddrPref,
    PreferredContacts,
    StatusContent,
    ContactInfo,
    InfLink,
    InfoLink,
);

/// Declares `PresenceSubList` and its attribute bookkeeping from one table.
macro_rules! presence_sub_list {
    ($($(#[$meta:meta])* $field:ident: $ty:ty = $tag:literal),* $(,)?) => {
        element! {
            /// `PresenceSubList`: presence attributes. In a request the attributes are empty
            /// elements naming what is wanted; in data each carries `Qualifier` and a value.
            /// Attributes this crate does not know are kept in `unknown` and written back.
            pub struct PresenceSubList {
                $( $(#[$meta])* $field: Option<$ty> = $tag, )*
                ;
                /// Attributes not modelled here (vendor extensions), kept verbatim.
                ..unknown
            }
        }

        /// The element name of every modelled presence attribute, in spec order.
        pub const ATTRIBUTE_NAMES: &[&str] = &[$( $tag, )*];

        impl PresenceSubList {
            /// True when no attribute is present.
            pub fn is_empty(&self) -> bool {
                $( self.$field.is_none() && )* self.unknown.is_empty()
            }

            /// The names of the attributes present (unknown ones by their local name).
            pub fn names(&self) -> Vec<&str> {
                let mut out = Vec::new();
                $( if self.$field.is_some() { out.push($tag); } )*
                for raw in &self.unknown {
                    out.push(raw.local_name());
                }
                out
            }

            /// Copies every attribute present in `update` over this one: an update changes
            /// only the attributes it carries.
            pub fn merge_from(&mut self, update: &PresenceSubList) {
                $( if let Some(v) = &update.$field { self.$field = Some(v.clone()); } )*
                // Vendor attributes keep their position when replaced (so positions
                // name them stably across successive values), new ones are appended.
                for raw in &update.unknown {
                    let name = raw.local_name();
                    match self.unknown.iter_mut().find(|old| old.local_name() == name) {
                        Some(old) => *old = raw.clone(),
                        None => self.unknown.push(raw.clone()),
                    }
                }
            }

            /// A list naming `names` with empty attribute elements (as requests and
            /// attribute lists carry them); names this crate does not model are kept as
            /// unknown elements.
            pub fn naming<'a>(names: impl IntoIterator<Item = &'a str>) -> Self {
                let mut out = Self::default();
                for name in names {
                    match name {
                        $( $tag => out.$field = Some(Default::default()), )*
                        other => out.unknown.push($crate::raw::RawElement {
                            name: other.to_owned(),
                            attributes: Vec::new(),
                            children: Vec::new(),
                        }),
                    }
                }
                out
            }

            /// Keeps only the attributes `allowed` says yes to (by element name).
            pub fn retain(&mut self, mut allowed: impl FnMut(&str) -> bool) {
                $( if !allowed($tag) { self.$field = None; } )*
                self.unknown.retain(|raw| allowed(raw.local_name()));
            }
        }
    };
}

presence_sub_list! {
    /// Online or not.
    online_status: OnlineStatus = "OnlineStatus",
    /// Registered to the mobile network.
    registration: Registration = "Registration",
    /// Client device and software.
    client_info: ClientInfo = "ClientInfo",
    /// Time zone.
    time_zone: TimeZone = "TimeZone",
    /// Geographical location.
    geo_location: GeoLocation = "GeoLocation",
    /// Street address.
    address: Address = "Address",
    /// Location as text.
    free_text_location: FreeTextLocation = "FreeTextLocation",
    /// Operator.
    plmn: Plmn = "PLMN",
    /// Communication capabilities.
    comm_cap: CommCap = "CommCap",
    /// Availability.
    user_availability: UserAvailability = "UserAvailability",
    /// Preferred contacts.
    preferred_contacts: PreferredContacts = "PreferredContacts",
    /// Preferred language.
    preferred_language: PreferredLanguage = "PreferredLanguage",
    /// Status text.
    status_text: StatusText = "StatusText",
    /// Mood.
    status_mood: StatusMood = "StatusMood",
    /// Nickname.
    alias: Alias = "Alias",
    /// Avatar or other media.
    status_content: StatusContent = "StatusContent",
    /// vCard.
    contact_info: ContactInfo = "ContactInfo",
    /// Links (1.2).
    info_link: InfoLink = "InfoLink",
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

/// The attribute classes of the Features and Functions document.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AttributeClass {
    /// About one client of the user (OnlineStatus, ClientInfo, CommCap, ...).
    ClientStatus,
    /// About the user (UserAvailability, StatusText, ...).
    UserStatus,
}

/// The class of a presence attribute; unknown attributes count as user status.
pub fn attribute_class(name: &str) -> AttributeClass {
    const CLIENT: &[&str] = &[
        "OnlineStatus",
        "Registration",
        "ClientInfo",
        "TimeZone",
        "GeoLocation",
        "Address",
        "FreeTextLocation",
        "PLMN",
        "CommCap",
    ];
    if CLIENT.contains(&name) {
        AttributeClass::ClientStatus
    } else {
        AttributeClass::UserStatus
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn merge_changes_only_what_the_update_carries() {
        let mut current = PresenceSubList {
            online_status: Some(OnlineStatus {
                qualifier: Some(true),
                value: Some(true),
            }),
            status_text: Some(StatusText {
                qualifier: Some(true),
                value: Some("old".into()),
            }),
            ..Default::default()
        };
        let update = PresenceSubList {
            status_text: Some(StatusText {
                qualifier: Some(true),
                value: Some("new".into()),
            }),
            ..Default::default()
        };
        current.merge_from(&update);
        assert_eq!(current.names(), vec!["OnlineStatus", "StatusText"]);
        assert_eq!(
            current.status_text.and_then(|s| s.value).as_deref(),
            Some("new")
        );
    }

    #[test]
    fn naming_builds_request_lists() {
        let list = PresenceSubList::naming(["StatusMood", "OnlineStatus", "x:Vendor"]);
        assert_eq!(list.names(), vec!["OnlineStatus", "StatusMood", "Vendor"]);
        assert_eq!(list.status_mood, Some(StatusMood::default()));
        assert!(PresenceSubList::naming([]).is_empty());
    }

    #[test]
    fn retain_filters_by_name() {
        let mut list = PresenceSubList {
            online_status: Some(OnlineStatus::default()),
            alias: Some(Alias::default()),
            ..Default::default()
        };
        list.retain(|n| n == "Alias");
        assert_eq!(list.names(), vec!["Alias"]);
        assert!(!list.is_empty());
        list.retain(|_| false);
        assert!(list.is_empty());
        assert_eq!(attribute_class("CommCap"), AttributeClass::ClientStatus);
        assert_eq!(attribute_class("StatusMood"), AttributeClass::UserStatus);
    }
}
