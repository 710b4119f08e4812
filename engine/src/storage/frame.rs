//! Log record framing: `[len: u32 LE][crc32c(payload): u32 LE][payload]`.
//!
//! Pure functions over byte slices; the callers ([`SyncLog`](super::SyncLog),
//! [`ShardLog`](super::ShardLog), [`recover`](super::recover)) do the file I/O.
//!
//! A [`FrameReader`] yields payloads in order and, once it stops, says how the bytes ended
//! ([`FrameEnd`]). A zero length is read as a torn end, never as a record: it is what a
//! zero-padded or preallocated tail looks like, which is why empty payloads are refused by
//! [`encode_frame`].

use super::error::{Result, StorageError};

/// The largest payload a log frame may carry (16 MiB).
pub const MAX_RECORD: usize = 16 << 20;

/// Bytes of a frame before its payload (length and checksum).
pub const FRAME_HEADER: usize = 8;

/// Checks that `payload` can be framed: not empty and at most [`MAX_RECORD`] bytes.
pub fn check_payload(payload: &[u8]) -> Result<()> {
    if payload.is_empty() {
        Err(StorageError::EmptyRecord)
    } else if payload.len() > MAX_RECORD {
        Err(StorageError::RecordTooLarge {
            len: payload.len(),
            max: MAX_RECORD,
        })
    } else {
        Ok(())
    }
}

/// Appends the frame of `payload` to `out`.
///
/// Fails (leaving `out` untouched) if the payload is empty or larger than [`MAX_RECORD`],
/// because such a frame could not be read back.
pub fn encode_frame(payload: &[u8], out: &mut Vec<u8>) -> Result<()> {
    check_payload(payload)?;
    let len = u32::try_from(payload.len()).map_err(|_| StorageError::RecordTooLarge {
        len: payload.len(),
        max: MAX_RECORD,
    })?;
    out.reserve(FRAME_HEADER + payload.len());
    out.extend_from_slice(&len.to_le_bytes());
    out.extend_from_slice(&crc32c::crc32c(payload).to_le_bytes());
    out.extend_from_slice(payload);
    Ok(())
}

/// How a sequence of frames ended, after the last good frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FrameEnd {
    /// The last good frame ended exactly at the end of the bytes.
    Clean,
    /// An incomplete header or payload, or a zero length (a padded or preallocated tail),
    /// starts at `offset`.
    Torn {
        /// Where the torn frame starts.
        offset: usize,
    },
    /// A frame whose checksum does not match, or whose length exceeds [`MAX_RECORD`],
    /// starts at `offset`.
    Corrupt {
        /// Where the bad frame starts.
        offset: usize,
    },
}

/// Reads frames from a byte slice; an [`Iterator`] over payloads. Never panics.
#[derive(Debug, Clone)]
pub struct FrameReader<'a> {
    bytes: &'a [u8],
    pos: usize,
    end: Option<FrameEnd>,
}

impl<'a> FrameReader<'a> {
    /// A reader starting at the beginning of `bytes`.
    pub fn new(bytes: &'a [u8]) -> Self {
        FrameReader {
            bytes,
            pos: 0,
            end: None,
        }
    }

    /// Offset just past the last frame returned (where the next frame would start).
    pub fn offset(&self) -> usize {
        self.pos
    }

    /// How the frames ended, once the iterator has returned `None`.
    pub fn end(&self) -> Option<FrameEnd> {
        self.end
    }

    fn read_u32(&self, at: usize) -> Option<u32> {
        let b = self.bytes.get(at..at.checked_add(4)?)?;
        Some(u32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    fn next_frame(&self) -> std::result::Result<(&'a [u8], usize), FrameEnd> {
        let start = self.pos;
        let remaining = self.bytes.len().saturating_sub(start);
        if remaining == 0 {
            return Err(FrameEnd::Clean);
        }
        let torn = FrameEnd::Torn { offset: start };
        let corrupt = FrameEnd::Corrupt { offset: start };
        let Some(len) = self.read_u32(start) else {
            return Err(torn);
        };
        let len = len as usize;
        if len == 0 {
            return Err(torn);
        }
        if len > MAX_RECORD {
            return Err(corrupt);
        }
        let Some(crc) = self.read_u32(start + 4) else {
            return Err(torn);
        };
        let payload_start = start + FRAME_HEADER;
        let payload_end = payload_start + len;
        let Some(payload) = self.bytes.get(payload_start..payload_end) else {
            return Err(torn);
        };
        if crc32c::crc32c(payload) != crc {
            return Err(corrupt);
        }
        Ok((payload, payload_end))
    }
}

impl<'a> Iterator for FrameReader<'a> {
    type Item = &'a [u8];

    fn next(&mut self) -> Option<&'a [u8]> {
        if self.end.is_some() {
            return None;
        }
        match self.next_frame() {
            Ok((payload, next)) => {
                self.pos = next;
                Some(payload)
            }
            Err(end) => {
                self.end = Some(end);
                None
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn encode_all(payloads: &[Vec<u8>]) -> Vec<u8> {
        let mut out = Vec::new();
        for p in payloads {
            encode_frame(p, &mut out).unwrap();
        }
        out
    }

    fn three() -> (Vec<Vec<u8>>, Vec<u8>) {
        let payloads = vec![b"first".to_vec(), vec![7u8; 300], b"third record".to_vec()];
        let bytes = encode_all(&payloads);
        (payloads, bytes)
    }

    #[test]
    fn empty_input_is_clean() {
        let mut r = FrameReader::new(&[]);
        assert_eq!(r.next(), None);
        assert_eq!(r.end(), Some(FrameEnd::Clean));
    }

    #[test]
    fn refuses_empty_and_oversized_payloads() {
        let mut out = Vec::new();
        assert!(matches!(
            encode_frame(b"", &mut out),
            Err(StorageError::EmptyRecord)
        ));
        let big = vec![0u8; MAX_RECORD + 1];
        assert!(matches!(
            encode_frame(&big, &mut out),
            Err(StorageError::RecordTooLarge { .. })
        ));
        assert!(out.is_empty());
    }

    #[test]
    fn torn_at_every_offset_of_the_last_record() {
        let (payloads, bytes) = three();
        let last_start = bytes.len() - (FRAME_HEADER + payloads[2].len());
        for cut in last_start + 1..bytes.len() {
            let mut r = FrameReader::new(&bytes[..cut]);
            let got: Vec<&[u8]> = r.by_ref().collect();
            assert_eq!(got, vec![&payloads[0][..], &payloads[1][..]], "cut {cut}");
            assert_eq!(r.end(), Some(FrameEnd::Torn { offset: last_start }));
            assert_eq!(r.offset(), last_start);
        }
        // Cut exactly at a frame boundary: clean.
        let mut r = FrameReader::new(&bytes[..last_start]);
        assert_eq!(r.by_ref().count(), 2);
        assert_eq!(r.end(), Some(FrameEnd::Clean));
    }

    #[test]
    fn flipped_payload_bit_is_corrupt() {
        let (payloads, mut bytes) = three();
        let second = FRAME_HEADER + payloads[0].len();
        bytes[second + FRAME_HEADER + 10] ^= 0x10;
        let mut r = FrameReader::new(&bytes);
        let got: Vec<&[u8]> = r.by_ref().collect();
        assert_eq!(got, vec![&payloads[0][..]]);
        assert_eq!(r.end(), Some(FrameEnd::Corrupt { offset: second }));
    }

    #[test]
    fn oversized_length_is_corrupt_and_zero_length_is_torn() {
        let mut bytes = encode_all(&[b"a".to_vec()]);
        let at = bytes.len();
        bytes.extend_from_slice(&u32::MAX.to_le_bytes());
        bytes.extend_from_slice(&[1, 2, 3, 4, 5]);
        let mut r = FrameReader::new(&bytes);
        assert_eq!(r.by_ref().count(), 1);
        assert_eq!(r.end(), Some(FrameEnd::Corrupt { offset: at }));

        let mut padded = encode_all(&[b"a".to_vec()]);
        padded.resize(512, 0);
        let mut r = FrameReader::new(&padded);
        assert_eq!(r.by_ref().count(), 1);
        assert_eq!(r.end(), Some(FrameEnd::Torn { offset: at }));
    }

    proptest! {
        #[test]
        fn round_trip(payloads in proptest::collection::vec(
            proptest::collection::vec(any::<u8>(), 1..200), 0..40)) {
            let bytes = encode_all(&payloads);
            let mut r = FrameReader::new(&bytes);
            let got: Vec<Vec<u8>> = r.by_ref().map(<[u8]>::to_vec).collect();
            prop_assert_eq!(got, payloads);
            prop_assert_eq!(r.end(), Some(FrameEnd::Clean));
            prop_assert_eq!(r.offset(), bytes.len());
        }

        #[test]
        fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..600)) {
            let mut r = FrameReader::new(&bytes);
            let mut total = 0;
            for p in r.by_ref() {
                total += FRAME_HEADER + p.len();
            }
            prop_assert_eq!(total, r.offset());
            prop_assert!(r.end().is_some());
            prop_assert_eq!(r.next(), None);
        }

        #[test]
        fn plausible_headers_never_panic(
            len in 0u32..700,
            rest in proptest::collection::vec(any::<u8>(), 0..700)) {
            let mut bytes = len.to_le_bytes().to_vec();
            bytes.extend_from_slice(&rest);
            let mut r = FrameReader::new(&bytes);
            let n = r.by_ref().count();
            prop_assert!(r.end().is_some());
            prop_assert!(n <= 1 || r.offset() > 0);
        }

        #[test]
        fn valid_prefix_then_garbage_keeps_the_prefix(
            payloads in proptest::collection::vec(
                proptest::collection::vec(any::<u8>(), 1..100), 1..10),
            garbage in proptest::collection::vec(any::<u8>(), 0..100)) {
            let mut bytes = encode_all(&payloads);
            let good = bytes.len();
            bytes.extend_from_slice(&garbage);
            let mut r = FrameReader::new(&bytes);
            let got: Vec<Vec<u8>> = r.by_ref().map(<[u8]>::to_vec).collect();
            prop_assert!(got.len() >= payloads.len());
            prop_assert_eq!(&got[..payloads.len()], &payloads[..]);
            prop_assert!(r.offset() >= good);
        }
    }
}
