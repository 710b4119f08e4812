//! The SSP endpoint on the CSP listener: a POST with `Content-Type:
//! application/vnd.wv.ssp+xml` (any path) or to `/ssp` goes to the federation desk. Accepted
//! messages get an empty 200 (the SSP binding is asynchronous), undecodable ones 400, and
//! refused handshakes or unknown peers 403 with the connection closed (the HTTP layer always
//! answers; Baraza closes without one). Without federation: 404 for `/ssp`, 415 for the
//! content type elsewhere.

use super::desk::{DeskHandle, Verdict};
use crate::http::HttpResponse;

/// The SSP content type.
pub const SSP_CONTENT_TYPE: &str = "application/vnd.wv.ssp+xml";

/// True when a request is for the SSP endpoint.
pub fn is_ssp(post: bool, path: &str, content_type: Option<&str>) -> bool {
    let typed = content_type.is_some_and(|ct| {
        ct.split(';')
            .next()
            .is_some_and(|t| t.trim().eq_ignore_ascii_case(SSP_CONTENT_TYPE))
    });
    post && (typed || path == "/ssp")
}

/// Answers an SSP POST.
pub async fn serve_ssp(desk: Option<&DeskHandle>, path: &str, body: Vec<u8>) -> HttpResponse {
    let Some(desk) = desk else {
        return HttpResponse::new(if path == "/ssp" { 404 } else { 415 });
    };
    match desk.incoming(body).await {
        Verdict::Accepted => HttpResponse::new(200),
        Verdict::BadRequest => HttpResponse::new(400),
        Verdict::Close => HttpResponse::new(403).with_header("Connection", "close"),
    }
}

#[cfg(test)]
mod tests {
    use super::is_ssp;

    #[test]
    fn ssp_requests_are_recognized() {
        assert!(is_ssp(true, "/ssp", None));
        assert!(is_ssp(
            true,
            "/",
            Some("application/vnd.wv.SSP+xml; charset=utf-8")
        ));
        assert!(!is_ssp(true, "/imps", Some("application/vnd.wv.csp.xml")));
        assert!(!is_ssp(false, "/ssp", None));
    }
}
