//! Attribute masks: a set of presence attributes as bits of a `u32`.
//!
//! Bits `0..18` are the modelled attributes in [`ATTRIBUTE_NAMES`] order. In a mask over a
//! [`Snapshot`](super::publication::Snapshot), bits `18..31` name the snapshot's first 13
//! vendor (unknown) attributes by position. In an authorization, bit 31 ([`VENDOR`]) says
//! that some vendor attributes are granted; which ones is resolved per update.

use imps_protocol::primitives::{ATTRIBUTE_NAMES, PresenceSubList};

/// Bits of the modelled attributes.
pub const KNOWN: u32 = (1 << ATTRIBUTE_NAMES.len()) - 1;
/// First bit of vendor attributes in a snapshot mask.
const UNKNOWN_SHIFT: u32 = ATTRIBUTE_NAMES.len() as u32;
/// Vendor attributes a snapshot mask can name.
pub const MAX_VENDOR: usize = 31 - ATTRIBUTE_NAMES.len();
/// Bits of vendor attributes in a snapshot mask.
pub const UNKNOWN: u32 = ((1 << MAX_VENDOR) - 1) << UNKNOWN_SHIFT;
/// In an authorization: some vendor attributes are granted.
pub const VENDOR: u32 = 1 << 31;
/// Everything.
pub const ALL: u32 = u32::MAX;

/// The bit of a modelled attribute.
pub fn bit_of(name: &str) -> Option<u32> {
    ATTRIBUTE_NAMES
        .iter()
        .position(|n| *n == name)
        .map(|i| 1 << i)
}

/// The mask of attribute names: modelled ones by bit, any other sets [`VENDOR`].
pub fn of_names<'a>(names: impl IntoIterator<Item = &'a str>) -> u32 {
    names
        .into_iter()
        .fold(0, |m, n| m | bit_of(n).unwrap_or(VENDOR))
}

/// The bit naming the vendor attribute at `index` of a snapshot.
pub fn vendor_bit(index: usize) -> u32 {
    if index < MAX_VENDOR {
        1 << (UNKNOWN_SHIFT as usize + index)
    } else {
        0
    }
}

/// The attributes present in `list`, as a snapshot mask.
pub fn present(list: &PresenceSubList) -> u32 {
    let known = of_names(list.names()) & KNOWN;
    (0..list.unknown.len()).fold(known, |m, i| m | vendor_bit(i))
}

/// The snapshot bits of the vendor attributes of `list` whose names `granted` lists.
pub fn vendor_bits(list: &PresenceSubList, granted: &[String]) -> u32 {
    list.unknown
        .iter()
        .enumerate()
        .filter(|(_, raw)| granted.iter().any(|g| g == raw.local_name()))
        .fold(0, |m, (i, _)| m | vendor_bit(i))
}

/// A copy of `list` with only the attributes of `mask` (a snapshot mask).
pub fn filtered(list: &PresenceSubList, mask: u32) -> PresenceSubList {
    let mut out = list.clone();
    out.retain(|name| bit_of(name).is_none_or(|b| mask & b != 0));
    let mut i = 0;
    out.unknown.retain(|_| {
        let keep = mask & vendor_bit(i) != 0;
        i += 1;
        keep
    });
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use imps_protocol::primitives::{OnlineStatus, StatusText};

    #[test]
    fn masks_select_attributes() {
        let mut list = PresenceSubList::naming(["OnlineStatus", "StatusText", "X-Vendor"]);
        list.online_status = Some(OnlineStatus {
            qualifier: Some(true),
            value: Some(true),
        });
        list.status_text = Some(StatusText {
            qualifier: Some(true),
            value: Some("hi".into()),
        });
        let all = present(&list);
        assert_eq!(all & KNOWN, of_names(["OnlineStatus", "StatusText"]));
        assert_eq!(all & UNKNOWN, vendor_bit(0));
        let only_online = filtered(&list, of_names(["OnlineStatus"]));
        assert_eq!(only_online.names(), vec!["OnlineStatus"]);
        let vendor = filtered(&list, vendor_bits(&list, &["X-Vendor".to_owned()]));
        assert_eq!(vendor.names(), vec!["X-Vendor"]);
        assert_eq!(of_names(["Nope"]), VENDOR);
        assert_eq!(vendor_bit(MAX_VENDOR), 0);
    }
}
