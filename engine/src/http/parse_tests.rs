//! Unit tests and property tests of the request parser.

use proptest::prelude::*;

use super::*;

/// Everything the parser makes of `input` fed in pieces of `step` bytes (0: all at once).
#[derive(Debug, Default, PartialEq)]
struct Outcome {
    requests: Vec<HttpRequest>,
    continues: usize,
    error: Option<ParseError>,
}

fn run(limits: &HttpLimits, input: &[u8], step: usize) -> Outcome {
    let mut parser = RequestParser::new(limits);
    let mut out = Outcome::default();
    let step = if step == 0 { input.len().max(1) } else { step };
    for piece in input.chunks(step) {
        parser.feed(piece);
        loop {
            match parser.next_event() {
                Ok(Some(ParseEvent::Request(request))) => out.requests.push(request),
                Ok(Some(ParseEvent::Continue)) => out.continues += 1,
                Ok(None) => break,
                Err(error) => {
                    out.error = Some(error);
                    return out;
                }
            }
        }
    }
    out
}

fn one(input: &str) -> HttpRequest {
    let out = run(&HttpLimits::default(), input.as_bytes(), 0);
    assert_eq!(out.error, None, "{input:?}");
    assert_eq!(out.requests.len(), 1, "{input:?}");
    out.requests.into_iter().next().unwrap()
}

fn error(input: &str) -> ParseError {
    error_with(&HttpLimits::default(), input)
}

fn error_with(limits: &HttpLimits, input: &str) -> ParseError {
    run(limits, input.as_bytes(), 0)
        .error
        .unwrap_or_else(|| panic!("no error for {input:?}"))
}

#[test]
fn get_request() {
    let r = one("GET /a/b?x=1 HTTP/1.1\r\nHost: h\r\nX-Thing:  v  \r\n\r\n");
    assert_eq!(r.method, Method::Get);
    assert_eq!(r.target, "/a/b?x=1");
    assert_eq!(r.path, "/a/b");
    assert_eq!(r.version, Version::Http11);
    assert_eq!(r.header("x-thing"), Some("v"));
    assert_eq!(r.header("HOST"), Some("h"));
    assert!(r.body.is_empty());
    assert!(r.keep_alive);
    assert!(!r.expects_continue);
}

#[test]
fn post_with_content_length() {
    let r = one("POST /csp HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhello");
    assert_eq!(r.method, Method::Post);
    assert_eq!(r.body, b"hello");
    let r = one("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\ncontent-length: 3\r\n\r\nabc");
    assert_eq!(r.body, b"abc");
    let r = one("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3, 3\r\n\r\nabc");
    assert_eq!(r.body, b"abc");
}

#[test]
fn keep_alive_rules() {
    assert!(one("GET / HTTP/1.1\r\nHost: h\r\n\r\n").keep_alive);
    assert!(!one("GET / HTTP/1.1\r\nHost: h\r\nConnection: Close\r\n\r\n").keep_alive);
    assert!(!one("GET / HTTP/1.1\r\nHost: h\r\nConnection: te, close\r\n\r\n").keep_alive);
    assert!(!one("GET / HTTP/1.0\r\n\r\n").keep_alive);
    assert!(one("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n").keep_alive);
    assert_eq!(one("GET / HTTP/1.0\r\n\r\n").version, Version::Http10);
}

#[test]
fn pipelined_requests_come_out_in_order() {
    let input = "GET /1 HTTP/1.1\r\nHost: h\r\n\r\n\
                 POST /2 HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\n\r\nab\
                 POST /3 HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n1\r\nc\r\n0\r\n\r\n";
    let out = run(&HttpLimits::default(), input.as_bytes(), 0);
    assert_eq!(out.error, None);
    let paths: Vec<_> = out.requests.iter().map(|r| r.path.as_str()).collect();
    assert_eq!(paths, ["/1", "/2", "/3"]);
    assert_eq!(out.requests[1].body, b"ab");
    assert_eq!(out.requests[2].body, b"c");
    for step in 1..8 {
        assert_eq!(run(&HttpLimits::default(), input.as_bytes(), step), out);
    }
}

#[test]
fn chunked_body_with_extensions_and_trailers() {
    let r = one(
        "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: Chunked\r\n\r\n\
         5;name=value\r\nhello\r\n6 ; x\r\n world\r\nA\r\n0123456789\r\n0\r\nTrailer: x\r\n\r\n",
    );
    assert_eq!(r.body, b"hello world0123456789");
    let r = one("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n000\r\n\r\n");
    assert!(r.body.is_empty());
}

#[test]
fn expect_continue() {
    let limits = HttpLimits::default();
    let head = "POST / HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 4\r\n\r\n";
    let mut parser = RequestParser::new(&limits);
    parser.feed(head.as_bytes());
    assert_eq!(parser.next_event(), Ok(Some(ParseEvent::Continue)));
    assert_eq!(parser.phase(), Phase::Body);
    assert_eq!(parser.next_event(), Ok(None));
    parser.feed(b"body");
    let Ok(Some(ParseEvent::Request(r))) = parser.next_event() else {
        panic!("no request");
    };
    assert!(r.expects_continue);
    assert_eq!(r.body, b"body");
    assert_eq!(parser.phase(), Phase::Idle);
    // The body already there: no 100 Continue needed.
    let out = run(&limits, format!("{head}body").as_bytes(), 0);
    assert_eq!((out.continues, out.requests.len()), (0, 1));
    // No body: none either.
    let out = run(
        &limits,
        b"GET / HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\n\r\n",
        0,
    );
    assert_eq!((out.continues, out.requests.len()), (0, 1));
    // HTTP/1.0 ignores the expectation.
    let out = run(
        &limits,
        b"POST / HTTP/1.0\r\nExpect: 100-continue\r\nContent-Length: 1\r\n\r\n",
        0,
    );
    assert_eq!(out.continues, 0);
    // Chunked: announced, so continue.
    let out = run(
        &limits,
        b"POST / HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nTransfer-Encoding: chunked\r\n\r\n",
        0,
    );
    assert_eq!(out.continues, 1);
}

#[test]
fn body_over_the_limit_is_413_at_the_head() {
    let limits = HttpLimits {
        max_body_bytes: 10,
        ..HttpLimits::default()
    };
    let e = error_with(
        &limits,
        "POST / HTTP/1.1\r\nHost: h\r\nExpect: 100-continue\r\nContent-Length: 11\r\n\r\n",
    );
    assert_eq!(e.status(), 413);
    let e = error("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 99999999999999999999999\r\n\r\n");
    assert_eq!(e.status(), 413);
    let e = error_with(
        &limits,
        "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n6\r\nabcdef\r\n5\r\n",
    );
    assert_eq!(e.status(), 413);
    let e = error(
        "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\nfffffffffffffffffff\r\n",
    );
    assert_eq!(e.status(), 413);
    // Exactly the limit is fine.
    let out = run(
        &limits,
        b"POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 10\r\n\r\n0123456789",
        0,
    );
    assert_eq!(out.requests.len(), 1);
}

#[test]
fn framing_errors() {
    let status = |s: &str| error(s).status();
    assert_eq!(
        status("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n"),
        400
    );
    assert_eq!(
        status("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1, 2\r\n\r\n"),
        400
    );
    assert_eq!(
        status("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: -1\r\n\r\n"),
        400
    );
    assert_eq!(
        status("POST / HTTP/1.1\r\nHost: h\r\nContent-Length: +1\r\n\r\n"),
        400
    );
    assert_eq!(
        status("POST / HTTP/1.1\r\nHost: h\r\nContent-Length:\r\n\r\n"),
        400
    );
    assert_eq!(
        status(
            "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n"
        ),
        400
    );
    assert_eq!(
        status("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip\r\n\r\n"),
        501
    );
    assert_eq!(
        status("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: gzip, chunked\r\n\r\n"),
        501
    );
    assert_eq!(
        status("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked, chunked\r\n\r\n"),
        400
    );
    assert_eq!(
        status("POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding:\r\n\r\n"),
        400
    );
    assert_eq!(
        status("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n"),
        400
    );
    let chunked = "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n";
    for body in [
        "x\r\n",
        "5\nhello",
        "5\r\nhelloXX",
        "5 x\r\n",
        "-1\r\n",
        "1\r\na\r\n0\r\nT\n",
    ] {
        assert_eq!(status(&format!("{chunked}{body}")), 400, "{body:?}");
    }
    let long = format!("{chunked}1;{}\r\n", "e".repeat(2000));
    assert_eq!(status(&long), 400);
}

#[test]
fn head_errors() {
    let status = |s: &str| error(s).status();
    assert_eq!(status("GET / HTTP/1.1\r\n\r\n"), 400, "no Host");
    assert_eq!(status("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n"), 400);
    assert_eq!(status("GET  HTTP/1.1\r\n\r\n"), 400);
    assert_eq!(status("G(T / HTTP/1.1\r\n\r\n"), 400);
    assert_eq!(status("GET / HTTP/1.1\r\nBad Name: x\r\n\r\n"), 400);
    assert_eq!(status("GET / HTTP/1.1\r\nHost: h\r\n folded\r\n\r\n"), 400);
    assert_eq!(status("GET / FTP/1.1\r\n"), 400);
    assert_eq!(
        status("\x16\x03\x01\x02\x00\x01\x00\x01\x7c\x03\x03\n"),
        400
    );
    // Detected on the request line, before the head is complete.
    assert_eq!(status("GET / HTTP/1.1 x\r\n"), 400);
    assert_eq!(status("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"), 505);
    assert_eq!(status("GET / HTTP/2\r\n"), 505);
    assert_eq!(status("GET / HTTP/3.0\r\nHost: h\r\n\r\n"), 505);
    assert_eq!(status("GET / HTTP/1.2\r\nHost: h\r\n\r\n"), 505);
    let limits = HttpLimits {
        max_head_bytes: 100,
        max_headers: 4,
        ..HttpLimits::default()
    };
    let big = format!(
        "GET / HTTP/1.1\r\nHost: h\r\nX: {}\r\n\r\n",
        "v".repeat(100)
    );
    assert_eq!(error_with(&limits, &big).status(), 431);
    assert_eq!(
        error_with(&limits, &big[..110]).status(),
        431,
        "without its end"
    );
    assert_eq!(error_with(&limits, &"\r\n".repeat(60)).status(), 431);
    let many = "GET / HTTP/1.1\r\nHost: h\r\nA: 1\r\nB: 2\r\nC: 3\r\nD: 4\r\n\r\n";
    assert_eq!(error_with(&limits, many), ParseError::TooManyHeaders);
    assert_eq!(ParseError::TooManyHeaders.status(), 431);
}

#[test]
fn errors_are_sticky_and_phases_follow_the_request() {
    let mut parser = RequestParser::new(&HttpLimits::default());
    assert_eq!(parser.phase(), Phase::Idle);
    parser.feed(b"\r\n");
    assert_eq!(parser.next_event(), Ok(None));
    assert_eq!(parser.phase(), Phase::Head);
    parser.feed(b"GET / HT");
    assert_eq!(parser.next_event(), Ok(None));
    assert_eq!(parser.phase(), Phase::Head);
    parser.feed(b"TP/1.1\r\nHost: h\r\n\r\nGET");
    assert!(matches!(
        parser.next_event(),
        Ok(Some(ParseEvent::Request(_)))
    ));
    assert_eq!(parser.buffered(), 3);
    assert_eq!(parser.phase(), Phase::Head);
    parser.feed(b" / HTTP/1.1\r\nHost: h\r\nContent-Length: 2\r\n\r\n");
    assert_eq!(parser.next_event(), Ok(None));
    assert_eq!(parser.phase(), Phase::Body);
    parser.feed(b"x");
    assert_eq!(parser.next_event(), Ok(None));
    parser.feed(b"yBAD REQUEST\r\n");
    assert!(matches!(parser.next_event(), Ok(Some(ParseEvent::Request(r))) if r.body == b"xy"));
    let e = parser.next_event().unwrap_err();
    assert_eq!(e.status(), 400);
    parser.feed(b"GET / HTTP/1.1\r\nHost: h\r\n\r\n");
    assert_eq!(parser.next_event(), Err(e));
}

#[test]
fn leading_empty_lines_and_absolute_targets() {
    let r = one("\r\n\nGET http://example.com:80/x?y HTTP/1.1\r\nHost: h\r\n\r\n");
    assert_eq!(r.path, "/x");
    assert_eq!(r.target, "http://example.com:80/x?y");
    let r = one("GET / HTTP/1.1\nHost: h\n\n");
    assert_eq!(r.path, "/");
    let r = one("DELETE /r HTTP/1.1\r\nHost: h\r\n\r\n");
    assert_eq!(r.method, Method::Other("DELETE".into()));
}

/// A request, rendered, with what the parser must make of it.
fn arb_request() -> impl Strategy<Value = (Vec<u8>, HttpRequest)> {
    let method = prop_oneof![
        Just(Method::Get),
        Just(Method::Head),
        Just(Method::Post),
        Just(Method::Other("PUT".into())),
    ];
    let headers = proptest::collection::vec(("[A-Za-z][A-Za-z0-9-]{0,10}", "[ -~]{0,20}"), 0..5);
    (
        method,
        "/[a-z0-9/]{0,12}",
        proptest::option::of("[a-z0-9=&]{0,8}"),
        any::<bool>(),
        headers,
        proptest::collection::vec(any::<u8>(), 0..200),
        proptest::option::of(proptest::collection::vec(1usize..40, 0..6)),
        any::<bool>(),
    )
        .prop_map(
            |(method, path, query, http10, extra, body, chunks, close)| {
                let target = match &query {
                    Some(q) => format!("{path}?{q}"),
                    None => path.clone(),
                };
                let version = if http10 {
                    Version::Http10
                } else {
                    Version::Http11
                };
                let mut headers: Vec<(String, String)> = vec![("Host".into(), "example".into())];
                for (name, value) in extra {
                    let lower = name.to_ascii_lowercase();
                    if [
                        "host",
                        "content-length",
                        "transfer-encoding",
                        "connection",
                        "expect",
                    ]
                    .contains(&lower.as_str())
                    {
                        continue;
                    }
                    headers.push((name, value.trim_matches([' ', '\t']).to_owned()));
                }
                if close {
                    headers.push(("Connection".into(), "close".into()));
                }
                let chunked = chunks.is_some() && !http10;
                if chunked {
                    headers.push(("Transfer-Encoding".into(), "chunked".into()));
                } else if !body.is_empty() {
                    headers.push(("Content-Length".into(), body.len().to_string()));
                }
                let mut wire = format!("{} {target} {}\r\n", method.as_str(), version.as_str());
                for (name, value) in &headers {
                    wire.push_str(&format!("{name}: {value}\r\n"));
                }
                wire.push_str("\r\n");
                let mut wire = wire.into_bytes();
                if chunked {
                    let mut rest = &body[..];
                    for size in chunks.unwrap_or_default() {
                        let (chunk, tail) = rest.split_at(size.min(rest.len()));
                        if chunk.is_empty() {
                            break;
                        }
                        wire.extend_from_slice(format!("{:x};ext=1\r\n", chunk.len()).as_bytes());
                        wire.extend_from_slice(chunk);
                        wire.extend_from_slice(b"\r\n");
                        rest = tail;
                    }
                    if !rest.is_empty() {
                        wire.extend_from_slice(format!("{:X}\r\n", rest.len()).as_bytes());
                        wire.extend_from_slice(rest);
                        wire.extend_from_slice(b"\r\n");
                    }
                    wire.extend_from_slice(b"0\r\nX-Trailer: t\r\n\r\n");
                } else {
                    wire.extend_from_slice(&body);
                }
                let request = HttpRequest {
                    path: path.clone(),
                    method,
                    target,
                    version,
                    headers,
                    body,
                    keep_alive: !close && !http10,
                    expects_continue: false,
                };
                (wire, request)
            },
        )
}

/// Fed in pieces, `input` gives the requests it gives at once, and fails exactly when that
/// does.
fn same_in_pieces(limits: &HttpLimits, input: &[u8], step: usize) -> Result<(), TestCaseError> {
    let whole = run(limits, input, 0);
    for step in [step, 1] {
        let pieces = run(limits, input, step);
        prop_assert_eq!(&pieces.requests, &whole.requests);
        prop_assert_eq!(pieces.error.is_some(), whole.error.is_some());
    }
    Ok(())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(200))]

    #[test]
    fn byte_at_a_time_matches_one_shot(
        requests in proptest::collection::vec(arb_request(), 1..4),
        step in 1usize..50,
    ) {
        let limits = HttpLimits::default();
        let wire: Vec<u8> = requests.iter().flat_map(|(w, _)| w.clone()).collect();
        let expected: Vec<HttpRequest> = requests.into_iter().map(|(_, r)| r).collect();
        let whole = run(&limits, &wire, 0);
        prop_assert_eq!(&whole.error, &None);
        prop_assert_eq!(&whole.requests, &expected);
        let bytes = run(&limits, &wire, 1);
        prop_assert_eq!(&bytes.requests, &expected);
        let pieces = run(&limits, &wire, step);
        prop_assert_eq!(&pieces.requests, &expected);
    }

    #[test]
    fn random_bytes_never_panic(
        data in proptest::collection::vec(any::<u8>(), 0..600),
        step in 0usize..20,
    ) {
        let limits = HttpLimits { max_head_bytes: 256, max_body_bytes: 64, ..HttpLimits::default() };
        same_in_pieces(&limits, &data, step)?;
    }

    #[test]
    fn mangled_requests_never_panic(
        (wire, _) in arb_request(),
        flips in proptest::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 0..6),
        step in 0usize..10,
    ) {
        let mut wire = wire;
        for (index, byte) in flips {
            let i = index.index(wire.len());
            wire[i] = byte;
        }
        let limits = HttpLimits {
            max_head_bytes: 300,
            max_body_bytes: 100,
            max_chunk_line_bytes: 12,
            ..HttpLimits::default()
        };
        same_in_pieces(&limits, &wire, step)?;
    }
}
