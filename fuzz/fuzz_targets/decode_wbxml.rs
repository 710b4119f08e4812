//! Fuzzes the WBXML decoder: any input decodes or fails cleanly, and whatever decodes
//! re-encodes (in WBXML and in XML) to messages that decode to the same value.
#![no_main]

use imps_protocol::{Encoding, decode, encode, encode_wbxml};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(message) = decode(data, Encoding::Wbxml) {
        let bytes = encode_wbxml(&message);
        let again = decode(&bytes, Encoding::Wbxml).expect("our WBXML decodes");
        assert_eq!(again, message);
        let xml = decode(&encode(&message), Encoding::Xml).expect("our XML decodes");
        assert_eq!(xml, message);
    }
});
