//! A small HTTP/1.1 client for SSP POSTs on glommio sockets: one keep-alive connection per
//! peer, a connect timeout and a response timeout, the status code as the result (the SSP
//! binding answers every POST with an empty 200; the answer comes later as a new POST).

use std::net::{SocketAddr, ToSocketAddrs};
use std::time::Duration;

use futures_lite::{AsyncReadExt, AsyncWriteExt};
use glommio::net::TcpStream;

/// Why a POST failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ClientError {
    /// The URL is not `http://host[:port][/path]`.
    #[error("unusable peer URL {0:?} (only http:// is supported)")]
    Url(String),
    /// The host did not resolve.
    #[error("cannot resolve {0}")]
    Resolve(String),
    /// No connection within the connect timeout.
    #[error("connect to {0} timed out")]
    ConnectTimeout(SocketAddr),
    /// No complete answer within the response timeout.
    #[error("no answer from {0} in time")]
    ResponseTimeout(SocketAddr),
    /// A socket error.
    #[error("{addr}: {source}")]
    Io {
        /// The peer address.
        addr: SocketAddr,
        /// What failed.
        source: std::io::Error,
    },
    /// The answer is not HTTP/1.1.
    #[error("{0}: malformed HTTP answer")]
    Malformed(SocketAddr),
}

/// Where a peer URL points.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// The address to connect to.
    pub addr: SocketAddr,
    /// The `Host` header.
    pub host: String,
    /// The request path.
    pub path: String,
}

impl Target {
    /// Parses and resolves `http://host[:port][/path]` (resolution may block: done once, at
    /// start).
    pub fn parse(url: &str) -> Result<Self, ClientError> {
        let rest = url
            .get(..7)
            .filter(|s| s.eq_ignore_ascii_case("http://"))
            .map(|_| &url[7..])
            .ok_or_else(|| ClientError::Url(url.to_owned()))?;
        let (authority, path) = match rest.find('/') {
            Some(i) => (&rest[..i], &rest[i..]),
            None => (rest, "/"),
        };
        if authority.is_empty() {
            return Err(ClientError::Url(url.to_owned()));
        }
        let with_port = if authority
            .rsplit_once(':')
            .is_some_and(|(_, p)| !p.contains(']'))
        {
            authority.to_owned()
        } else {
            format!("{authority}:80")
        };
        let addr = with_port
            .to_socket_addrs()
            .ok()
            .and_then(|mut a| a.next())
            .ok_or_else(|| ClientError::Resolve(authority.to_owned()))?;
        Ok(Self {
            addr,
            host: authority.to_owned(),
            path: path.to_owned(),
        })
    }
}

/// Most bytes of an answer head we read.
const MAX_HEAD: usize = 16 << 10;

/// A keep-alive connection to one peer. Several POSTs go out pipelined (written together,
/// answered in order).
#[derive(Debug)]
pub struct PeerClient {
    target: Target,
    connect_timeout: Duration,
    response_timeout: Duration,
    stream: Option<TcpStream>,
    /// Bytes read and not yet consumed (the next answers).
    buf: Vec<u8>,
}

impl PeerClient {
    /// A client for `target` (connects on first use).
    pub fn new(target: Target, connect_timeout: Duration, response_timeout: Duration) -> Self {
        Self {
            target,
            connect_timeout,
            response_timeout,
            stream: None,
            buf: Vec::with_capacity(1024),
        }
    }

    /// POSTs an SSP body carrying `transaction_id`; the HTTP status of the answer.
    pub async fn post(&mut self, body: &[u8], transaction_id: &str) -> Result<u16, ClientError> {
        let mut r = self.post_batch(&[(body, transaction_id)]).await;
        r.pop()
            .unwrap_or(Err(ClientError::Malformed(self.target.addr)))
    }

    /// POSTs SSP bodies (each with its transaction id) pipelined on one connection; the
    /// outcome of each, in order. A reused connection that fails before its first answer
    /// (the peer closed it meanwhile) is replaced once.
    pub async fn post_batch(&mut self, batch: &[(&[u8], &str)]) -> Vec<Result<u16, ClientError>> {
        let reused = self.stream.is_some();
        let out = self.post_batch_once(batch).await;
        let stale = matches!(
            out.first(),
            Some(Err(ClientError::Io { .. } | ClientError::Malformed(_)))
        );
        if reused && stale {
            return self.post_batch_once(batch).await;
        }
        out
    }

    async fn post_batch_once(&mut self, batch: &[(&[u8], &str)]) -> Vec<Result<u16, ClientError>> {
        let addr = self.target.addr;
        if self.stream.is_none() {
            match TcpStream::connect_timeout(addr, self.connect_timeout).await {
                Ok(stream) => {
                    let _ = stream.set_nodelay(true);
                    self.buf.clear();
                    self.stream = Some(stream);
                }
                Err(e) => {
                    let timed_out = matches!(e, glommio::GlommioError::TimedOut(_));
                    let io: std::io::Error = e.into();
                    let kind = io.kind();
                    return batch
                        .iter()
                        .map(|_| {
                            Err(if timed_out {
                                ClientError::ConnectTimeout(addr)
                            } else {
                                ClientError::Io {
                                    addr,
                                    source: kind.into(),
                                }
                            })
                        })
                        .collect();
                }
            }
        }
        let mut out = Vec::with_capacity(batch.iter().map(|(b, _)| b.len() + 200).sum());
        for (body, tid) in batch {
            out.extend_from_slice(
                format!(
                    "POST {} HTTP/1.1\r\nHost: {}\r\nContent-Type: application/vnd.wv.ssp+xml\r\n\
                     X-WV-TransactionID: {}\r\nContent-Length: {}\r\n\r\n",
                    self.target.path,
                    self.target.host,
                    tid,
                    body.len()
                )
                .as_bytes(),
            );
            out.extend_from_slice(body);
        }
        let timeout = self.response_timeout;
        let n = batch.len();
        let mut results: Vec<Result<u16, ClientError>> = Vec::with_capacity(n);
        let exchange = exchange(
            self.stream.as_mut(),
            &mut self.buf,
            &out,
            n,
            addr,
            &mut results,
        );
        let finished = futures_lite::future::or(exchange, async {
            glommio::timer::sleep(timeout).await;
            Err(ClientError::ResponseTimeout(addr))
        })
        .await;
        match finished {
            Ok(keep) => {
                if !keep {
                    self.stream = None;
                }
            }
            Err(e) => {
                self.stream = None;
                let kind = match &e {
                    ClientError::Io { source, .. } => Some(source.kind()),
                    _ => None,
                };
                while results.len() < n {
                    results.push(Err(match (&e, kind) {
                        (ClientError::ResponseTimeout(a), _) => ClientError::ResponseTimeout(*a),
                        (_, Some(kind)) => ClientError::Io {
                            addr,
                            source: kind.into(),
                        },
                        _ => ClientError::Malformed(addr),
                    }));
                }
            }
        }
        results
    }
}

/// Writes pipelined requests and reads `n` answers into `results` (the status of each);
/// whether the connection stays open.
async fn exchange(
    stream: Option<&mut TcpStream>,
    buf: &mut Vec<u8>,
    requests: &[u8],
    n: usize,
    addr: SocketAddr,
    results: &mut Vec<Result<u16, ClientError>>,
) -> Result<bool, ClientError> {
    let io = |source| ClientError::Io { addr, source };
    let Some(stream) = stream else {
        return Err(ClientError::Malformed(addr));
    };
    stream.write_all(requests).await.map_err(io)?;
    stream.flush().await.map_err(io)?;
    let mut chunk = vec![0u8; 16 << 10];
    let mut keep = true;
    while results.len() < n {
        let mut headers = [httparse::EMPTY_HEADER; 32];
        let mut response = httparse::Response::new(&mut headers);
        let parsed = response.parse(buf);
        match parsed {
            Ok(httparse::Status::Complete(head_len)) => {
                let status = response.code.ok_or(ClientError::Malformed(addr))?;
                let header = |name: &str| {
                    response
                        .headers
                        .iter()
                        .find(|h| h.name.eq_ignore_ascii_case(name))
                        .and_then(|h| std::str::from_utf8(h.value).ok())
                };
                let length = match header("content-length") {
                    Some(v) => v
                        .trim()
                        .parse::<usize>()
                        .map_err(|_| ClientError::Malformed(addr))?,
                    None => 0,
                };
                let close = header("connection").is_some_and(|v| v.eq_ignore_ascii_case("close"))
                    || response.version == Some(0);
                while buf.len() < head_len + length {
                    let got = stream.read(&mut chunk).await.map_err(io)?;
                    if got == 0 {
                        return Err(io(std::io::ErrorKind::UnexpectedEof.into()));
                    }
                    buf.extend_from_slice(&chunk[..got]);
                }
                buf.drain(..head_len + length);
                results.push(Ok(status));
                if close {
                    keep = false;
                    break;
                }
            }
            Ok(httparse::Status::Partial) if buf.len() < MAX_HEAD => {
                let got = stream.read(&mut chunk).await.map_err(io)?;
                if got == 0 {
                    return Err(io(std::io::ErrorKind::UnexpectedEof.into()));
                }
                buf.extend_from_slice(&chunk[..got]);
            }
            _ => return Err(ClientError::Malformed(addr)),
        }
    }
    if results.len() < n {
        return Err(io(std::io::ErrorKind::ConnectionAborted.into()));
    }
    Ok(keep)
}

#[cfg(test)]
mod tests {
    use super::Target;

    #[test]
    fn peer_urls_are_parsed() {
        let t = Target::parse("http://127.0.0.1:8081/ssp").expect("url");
        assert_eq!(t.addr.port(), 8081);
        assert_eq!(
            (t.host.as_str(), t.path.as_str()),
            ("127.0.0.1:8081", "/ssp")
        );
        let t = Target::parse("HTTP://127.0.0.1").expect("url");
        assert_eq!((t.addr.port(), t.path.as_str()), (80, "/"));
        assert!(Target::parse("https://127.0.0.1/").is_err());
        assert!(Target::parse("http:///x").is_err());
    }
}
