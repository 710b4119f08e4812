//! A parsed HTTP/1.x request: [`HttpRequest`], [`Method`] and [`Version`], as produced by the
//! sans-IO [`RequestParser`](super::RequestParser). Plain data, no I/O.

/// The request method. Methods are case-sensitive: `get` is [`Method::Other`].
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Method {
    /// `GET`.
    Get,
    /// `HEAD`: answered like `GET`, without the body.
    Head,
    /// `POST`.
    Post,
    /// Any other method token, as written.
    Other(String),
}

impl Method {
    /// Maps a method token (already checked to be a token by the parser).
    pub fn from_token(token: &str) -> Method {
        match token {
            "GET" => Method::Get,
            "HEAD" => Method::Head,
            "POST" => Method::Post,
            other => Method::Other(other.to_owned()),
        }
    }

    /// The method as written on the request line.
    pub fn as_str(&self) -> &str {
        match self {
            Method::Get => "GET",
            Method::Head => "HEAD",
            Method::Post => "POST",
            Method::Other(token) => token,
        }
    }
}

/// The protocol version of a request (the only two this layer accepts).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Version {
    /// `HTTP/1.0`: the connection closes after the response unless the request says
    /// `Connection: keep-alive`.
    Http10,
    /// `HTTP/1.1`: the connection stays open unless the request says `Connection: close`.
    Http11,
}

impl Version {
    /// The version as written on the request line.
    pub fn as_str(self) -> &'static str {
        match self {
            Version::Http10 => "HTTP/1.0",
            Version::Http11 => "HTTP/1.1",
        }
    }
}

/// One complete request, body included.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpRequest {
    /// The method.
    pub method: Method,
    /// The request target exactly as written on the request line (query included).
    pub target: String,
    /// The path of the target: without the query (`?…`) or fragment, and without the scheme
    /// and authority of an absolute-form target (`http://host/p` gives `/p`); not
    /// percent-decoded. `*` for `OPTIONS *`.
    pub path: String,
    /// The protocol version.
    pub version: Version,
    /// The header fields in the order received: names as written, values without leading and
    /// trailing blanks (bytes that are not UTF-8 become U+FFFD).
    pub headers: Vec<(String, String)>,
    /// The body: `Content-Length` bytes, or the de-chunked data of a chunked body (chunk
    /// extensions and trailers are dropped). Empty when the request has none.
    pub body: Vec<u8>,
    /// Whether the connection may stay open after the response: HTTP/1.1 unless
    /// `Connection: close`, HTTP/1.0 only with `Connection: keep-alive`.
    pub keep_alive: bool,
    /// Whether an HTTP/1.1 request carried `Expect: 100-continue` (ignored for HTTP/1.0, as
    /// RFC 9110 requires).
    pub expects_continue: bool,
}

impl HttpRequest {
    /// The value of the first header field called `name` (ASCII case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The values of every header field called `name` (ASCII case-insensitive), in order.
    pub fn headers_named<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.headers
            .iter()
            .filter(move |(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// The query of the target (after `?`, before any `#`), if there is one.
    pub fn query(&self) -> Option<&str> {
        let (_, rest) = self.target.split_once('?')?;
        Some(rest.split('#').next().unwrap_or(rest))
    }
}

/// The path of a request target (see [`HttpRequest::path`]).
pub(crate) fn path_of(target: &str) -> String {
    let mut rest = target;
    if !target.starts_with('/')
        && let Some((scheme, after)) = target.split_once("://")
        && !scheme.is_empty()
        && scheme
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'+' | b'-' | b'.'))
    {
        // Absolute form: drop the authority.
        rest = match after.find(['/', '?', '#']) {
            Some(i) => after.get(i..).unwrap_or(""),
            None => "",
        };
        if !rest.starts_with('/') {
            let tail = rest.split(['?', '#']).next().unwrap_or("");
            return format!("/{tail}");
        }
    }
    rest.split(['?', '#']).next().unwrap_or("").to_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths() {
        assert_eq!(path_of("/a/b?x=1"), "/a/b");
        assert_eq!(path_of("/a#f"), "/a");
        assert_eq!(path_of("/"), "/");
        assert_eq!(path_of("*"), "*");
        assert_eq!(path_of("http://h:80/x/y?q"), "/x/y");
        assert_eq!(path_of("HTTP://h"), "/");
        assert_eq!(path_of("http://h?q"), "/");
        assert_eq!(path_of("host:443"), "host:443");
        assert_eq!(path_of("/p://x"), "/p://x");
    }

    #[test]
    fn header_lookup_is_case_insensitive() {
        let request = HttpRequest {
            method: Method::Get,
            target: "/x?a=1#f".into(),
            path: "/x".into(),
            version: Version::Http11,
            headers: vec![
                ("Content-Type".into(), "text/xml".into()),
                ("X-A".into(), "1".into()),
                ("x-a".into(), "2".into()),
            ],
            body: Vec::new(),
            keep_alive: true,
            expects_continue: false,
        };
        assert_eq!(request.header("content-type"), Some("text/xml"));
        assert_eq!(request.header("missing"), None);
        assert_eq!(request.headers_named("X-a").collect::<Vec<_>>(), ["1", "2"]);
        assert_eq!(request.query(), Some("a=1"));
        assert_eq!(Method::from_token("GET"), Method::Get);
        assert_eq!(Method::from_token("get").as_str(), "get");
    }
}
