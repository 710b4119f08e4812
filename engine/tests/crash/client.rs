//! A blocking CSP 1.2 client over HTTP/1.1 for integration tests: one keep-alive connection,
//! messages built and read with the protocol crate's codec (no string matching), and the
//! contact-list operations the crash tests drive.
//!
//! Every call returns `Err` on any transport problem (refused, reset, timeout, a cut-off
//! answer): for a write operation that means "outcome unknown", never "failed".

use std::io::{self, BufRead as _, BufReader, Read as _, Write as _};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use imps_protocol::primitives::{
    CreateListRequest, DeleteListRequest, GetListRequest, ListManageRequest, LoginRequest,
    NickList, NickName,
};
use imps_protocol::types::{ContactListId, SessionId, TransactionId, Url, UserId};
use imps_protocol::{
    Encoding, Message, Primitive, Session, SessionDescriptor, SessionType, Transaction,
    TransactionDescriptor, TransactionMode, Version,
};

/// How long one answer may take before the call counts as failed.
const READ_TIMEOUT: Duration = Duration::from_secs(10);

/// An HTTP/1.1 client on one keep-alive connection (reconnects after an error).
pub(crate) struct Http {
    addr: SocketAddr,
    conn: Option<BufReader<TcpStream>>,
}

impl Http {
    /// A client of `addr`; connects on first use.
    pub(crate) fn new(addr: SocketAddr) -> Http {
        Http { addr, conn: None }
    }

    fn connection(&mut self) -> io::Result<&mut BufReader<TcpStream>> {
        if self.conn.is_none() {
            let s = TcpStream::connect_timeout(&self.addr, READ_TIMEOUT)?;
            s.set_read_timeout(Some(READ_TIMEOUT))?;
            s.set_write_timeout(Some(READ_TIMEOUT))?;
            s.set_nodelay(true)?;
            self.conn = Some(BufReader::new(s));
        }
        self.conn
            .as_mut()
            .ok_or_else(|| io::Error::other("no connection"))
    }

    /// One request; (status, body). The connection is dropped after any error.
    pub(crate) fn request(
        &mut self,
        method: &str,
        path: &str,
        body: &[u8],
    ) -> io::Result<(u16, Vec<u8>)> {
        let result = self.exchange(method, path, body);
        if result.is_err() {
            self.conn = None;
        }
        result
    }

    /// `GET path`.
    pub(crate) fn get(&mut self, path: &str) -> io::Result<(u16, Vec<u8>)> {
        self.request("GET", path, b"")
    }

    fn exchange(&mut self, method: &str, path: &str, body: &[u8]) -> io::Result<(u16, Vec<u8>)> {
        let conn = self.connection()?;
        let head = format!(
            "{method} {path} HTTP/1.1\r\nHost: test\r\nContent-Type: application/vnd.wv.csp.xml\r\n\
             Content-Length: {}\r\n\r\n",
            body.len()
        );
        let stream = conn.get_mut();
        stream.write_all(head.as_bytes())?;
        stream.write_all(body)?;
        let mut line = String::new();
        if conn.read_line(&mut line)? == 0 {
            return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "closed"));
        }
        let status: u16 = line
            .split_whitespace()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .ok_or_else(|| io::Error::other(format!("bad status line {line:?}")))?;
        let mut len = 0usize;
        let mut close = false;
        loop {
            line.clear();
            if conn.read_line(&mut line)? == 0 {
                return Err(io::Error::new(io::ErrorKind::UnexpectedEof, "cut head"));
            }
            let l = line.trim_end();
            if l.is_empty() {
                break;
            }
            if let Some((k, v)) = l.split_once(':') {
                let (k, v) = (k.trim().to_ascii_lowercase(), v.trim());
                if k == "content-length" {
                    len = v.parse().map_err(io::Error::other)?;
                } else if k == "connection" && v.eq_ignore_ascii_case("close") {
                    close = true;
                }
            }
        }
        let mut body = vec![0; len];
        conn.read_exact(&mut body)?;
        if close {
            self.conn = None;
        }
        Ok((status, body))
    }
}

/// Why a CSP call did not produce an answer.
#[derive(Debug)]
pub(crate) enum CallError {
    /// Transport failure: the outcome of the request is unknown.
    Io(io::Error),
    /// An HTTP status other than 200 (the server refused the request as a whole).
    Http(u16),
    /// The body is not a CSP answer with a transaction.
    Garbled(String),
}

impl std::fmt::Display for CallError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CallError::Io(e) => write!(f, "transport: {e}"),
            CallError::Http(status) => write!(f, "HTTP {status}"),
            CallError::Garbled(e) => write!(f, "{e}"),
        }
    }
}

impl From<io::Error> for CallError {
    fn from(e: io::Error) -> Self {
        CallError::Io(e)
    }
}

/// A member of a contact list as the tests see it: (normalized user ID, nickname).
pub(crate) type Member = (String, String);

/// One user's CSP 1.2 session over [`Http`].
pub(crate) struct Csp {
    http: Http,
    session: Option<String>,
    next_tid: u64,
}

impl Csp {
    /// A client of the server at `addr`, not logged in.
    pub(crate) fn new(addr: SocketAddr) -> Csp {
        Csp {
            http: Http::new(addr),
            session: None,
            next_tid: 1,
        }
    }

    /// Sends one primitive in the session; returns the first transaction's content.
    pub(crate) fn call(&mut self, content: Primitive) -> Result<Primitive, CallError> {
        let tid = format!("t{}", self.next_tid);
        self.next_tid += 1;
        let message = Message {
            version: Version::V1_2,
            session: Session {
                descriptor: SessionDescriptor {
                    session_type: if self.session.is_some() {
                        SessionType::Inband
                    } else {
                        SessionType::Outband
                    },
                    session_id: self.session.clone().map(SessionId),
                },
                transactions: vec![Transaction {
                    descriptor: TransactionDescriptor {
                        mode: TransactionMode::Request,
                        id: Some(TransactionId(tid)),
                        poll: None,
                    },
                    content,
                    ext_blocks: Vec::new(),
                }],
                poll: None,
                cir: None,
            },
        };
        let (status, body) =
            self.http
                .request("POST", "/imps", &imps_protocol::encode(&message))?;
        if status != 200 {
            return Err(CallError::Http(status));
        }
        let reply = imps_protocol::decode(&body, Encoding::Xml)
            .map_err(|e| CallError::Garbled(format!("{e}: {}", String::from_utf8_lossy(&body))))?;
        reply
            .session
            .transactions
            .into_iter()
            .next()
            .map(|t| t.content)
            .ok_or_else(|| CallError::Garbled("no transaction".into()))
    }

    /// Logs `user` in with a plain password; panics unless it succeeds.
    pub(crate) fn login(&mut self, user: &str, password: &str) -> Result<(), CallError> {
        self.session = None;
        let request = LoginRequest {
            user_id: UserId(user.into()),
            client_id: imps_protocol::common::ClientId {
                url: Some(Url(format!("crash-{user}"))),
                ..Default::default()
            },
            password: Some(password.into()),
            session_cookie: format!("cookie-{user}"),
            ..LoginRequest::default()
        };
        match self.call(request.into())? {
            Primitive::LoginResponse(r) if r.result.code == 200 => {
                self.session = r.session_id.map(|s| s.0);
                if self.session.is_some() {
                    Ok(())
                } else {
                    Err(CallError::Garbled("login without a session".into()))
                }
            }
            other => Err(CallError::Garbled(format!("login failed: {other:?}"))),
        }
    }

    /// `CreateList` with members (user ID, nickname); the result code.
    pub(crate) fn create_list(&mut self, list: &str, members: &[Member]) -> Result<u32, CallError> {
        let request = CreateListRequest {
            contact_list: ContactListId(list.into()),
            nick_list: Some(nick_list(members)),
            properties: None,
        };
        code(self.call(request.into())?)
    }

    /// `ListManage` adding members; the result code.
    pub(crate) fn add_members(&mut self, list: &str, members: &[Member]) -> Result<u32, CallError> {
        let request = ListManageRequest {
            contact_list: ContactListId(list.into()),
            add_nick_list: Some(nick_list(members)),
            ..Default::default()
        };
        code(self.call(request.into())?)
    }

    /// `DeleteList`; the result code.
    pub(crate) fn delete_list(&mut self, list: &str) -> Result<u32, CallError> {
        let request = DeleteListRequest {
            contact_list: ContactListId(list.into()),
        };
        code(self.call(request.into())?)
    }

    /// `GetList`: the IDs of the user's lists.
    pub(crate) fn lists(&mut self) -> Result<Vec<String>, CallError> {
        match self.call(GetListRequest {}.into())? {
            Primitive::GetListResponse(r) => Ok(r.contact_lists.into_iter().map(|l| l.0).collect()),
            other => Err(CallError::Garbled(format!("GetList: {other:?}"))),
        }
    }

    /// `ListManage` with nothing to change and `ReceiveList`: the members, sorted.
    pub(crate) fn members(&mut self, list: &str) -> Result<Vec<Member>, CallError> {
        let request = ListManageRequest {
            contact_list: ContactListId(list.into()),
            receive_list: Some(true),
            ..Default::default()
        };
        match self.call(request.into())? {
            Primitive::ListManageResponse(r) if r.result.code == 200 => {
                let nicks = r.nick_list.unwrap_or_default();
                let mut members: Vec<Member> = nicks
                    .nick_names
                    .into_iter()
                    .map(|n| (n.user_id.0, n.name))
                    .chain(nicks.user_ids.into_iter().map(|u| (u.0, String::new())))
                    .collect();
                members.sort();
                Ok(members)
            }
            other => Err(CallError::Garbled(format!("ListManage {list}: {other:?}"))),
        }
    }
}

fn nick_list(members: &[Member]) -> NickList {
    NickList {
        nick_names: members
            .iter()
            .map(|(user, nick)| NickName {
                name: nick.clone(),
                user_id: UserId(user.clone()),
            })
            .collect(),
        user_ids: Vec::new(),
    }
}

fn code(p: Primitive) -> Result<u32, CallError> {
    match p {
        Primitive::Status(s) => Ok(s.result.code),
        Primitive::ListManageResponse(r) => Ok(r.result.code),
        other => Err(CallError::Garbled(format!("unexpected answer {other:?}"))),
    }
}
