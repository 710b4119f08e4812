//! Fuzzes the sans-IO HTTP/1.1 request parser: whatever the bytes, it never panics, and fed in
//! pieces (sizes taken from the first input byte) or byte by byte it produces the same
//! requests as fed at once, and fails exactly when that does.
#![no_main]

use imps_engine::http::{HttpLimits, HttpRequest, ParseEvent, RequestParser};
use libfuzzer_sys::fuzz_target;

/// The requests of `input` fed `step` bytes at a time, and whether it failed.
fn run(limits: &HttpLimits, input: &[u8], step: usize) -> (Vec<HttpRequest>, bool) {
    let mut parser = RequestParser::new(limits);
    let mut requests = Vec::new();
    for piece in input.chunks(step.max(1)) {
        parser.feed(piece);
        loop {
            match parser.next_event() {
                Ok(Some(ParseEvent::Request(request))) => requests.push(request),
                Ok(Some(ParseEvent::Continue)) => {}
                Ok(None) => break,
                Err(error) => {
                    assert!([400, 413, 431, 501, 505].contains(&error.status()));
                    return (requests, true);
                }
            }
        }
    }
    (requests, false)
}

fuzz_target!(|data: &[u8]| {
    let Some((&first, input)) = data.split_first() else {
        return;
    };
    // Small limits, so that the fuzzer reaches them.
    let limits = HttpLimits {
        max_head_bytes: 512,
        max_headers: 8,
        max_body_bytes: 256,
        max_chunk_line_bytes: 16,
        ..HttpLimits::default()
    };
    let whole = run(&limits, input, input.len());
    let pieces = run(&limits, input, usize::from(first % 32) + 1);
    assert_eq!(whole, pieces);
    if input.len() <= 2048 {
        assert_eq!(whole, run(&limits, input, 1));
    }
});
