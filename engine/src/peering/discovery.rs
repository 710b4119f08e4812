//! Finding the SSP server of a domain that is not in the peer table (issue 11, optional, off
//! by default): a DNS SRV lookup of `_imps-server._tcp.<domain>` (RFC 2782) over UDP to the
//! configured name server, the target chosen by priority then weight, its address from the
//! answer's additional records or an A/AAAA lookup. The peer URL is
//! `http://<address>:<port>/ssp`.
//!
//! The DNS messages are built and read with `hickory-proto` (no I/O); [`lookup`] is the only
//! function that touches the network (one UDP socket on the desk's executor, bounded by a
//! timeout).

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use hickory_proto::op::{Message, MessageType, OpCode, Query, ResponseCode};
use hickory_proto::rr::{Name, RData, RecordType};

/// The service label of SSP servers.
pub const SERVICE: &str = "_imps-server._tcp";

/// Why a domain's server was not found.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum DiscoveryError {
    /// The domain is not a valid DNS name.
    #[error("{0:?} is not a DNS name")]
    Name(String),
    /// The name server's answer could not be read.
    #[error("malformed DNS answer: {0}")]
    Malformed(String),
    /// The answer is for another query.
    #[error("DNS answer for another query")]
    Mismatch,
    /// The name server answered with an error (NXDOMAIN, SERVFAIL, ...).
    #[error("DNS error {0}")]
    Rcode(String),
    /// No usable SRV record (none, or only the "." target that says there is no service).
    #[error("no SSP server advertised for {0}")]
    NoService(String),
    /// The target has no address.
    #[error("no address for {0}")]
    NoAddress(String),
    /// No answer in time.
    #[error("no DNS answer in time")]
    Timeout,
    /// A socket error.
    #[error("DNS socket: {0}")]
    Io(String),
}

/// How unknown domains are looked up.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Discovery {
    /// The name server.
    pub server: SocketAddr,
    /// Timeout of one query.
    pub timeout: Duration,
    /// How long a domain that was not found is not asked again.
    pub retry: Duration,
}

/// One SRV record.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SrvTarget {
    /// Lower is preferred.
    pub priority: u16,
    /// Among equal priorities, higher is preferred.
    pub weight: u16,
    /// The TCP port.
    pub port: u16,
    /// The host, without the final dot.
    pub host: String,
}

/// A DNS query for `name` of type `kind`, with id `id` and recursion desired.
pub fn query(id: u16, name: &str, kind: RecordType) -> Result<Vec<u8>, DiscoveryError> {
    let name = Name::from_ascii(name).map_err(|_| DiscoveryError::Name(name.to_owned()))?;
    let mut m = Message::new(id, MessageType::Query, OpCode::Query);
    m.metadata.recursion_desired = true;
    m.add_query(Query::query(name, kind));
    m.to_vec()
        .map_err(|e| DiscoveryError::Malformed(e.to_string()))
}

/// The SRV query of `domain`'s SSP service.
pub fn srv_query(id: u16, domain: &str) -> Result<Vec<u8>, DiscoveryError> {
    query(id, &format!("{SERVICE}.{domain}."), RecordType::SRV)
}

/// Reads an answer to query `id`.
fn answer(bytes: &[u8], id: u16) -> Result<Message, DiscoveryError> {
    let m = Message::from_vec(bytes).map_err(|e| DiscoveryError::Malformed(e.to_string()))?;
    if m.metadata.id != id || m.metadata.message_type != MessageType::Response {
        return Err(DiscoveryError::Mismatch);
    }
    match m.metadata.response_code {
        ResponseCode::NoError => Ok(m),
        other => Err(DiscoveryError::Rcode(other.to_string())),
    }
}

fn host_of(name: &Name) -> String {
    name.to_ascii().trim_end_matches('.').to_ascii_lowercase()
}

/// Addresses by host name, as an answer gives them.
pub type HostAddresses = Vec<(String, IpAddr)>;

/// The SRV records of an answer to query `id`, and the addresses its additional records give
/// per host.
pub fn read_srv(bytes: &[u8], id: u16) -> Result<(Vec<SrvTarget>, HostAddresses), DiscoveryError> {
    let m = answer(bytes, id)?;
    let targets = m
        .answers
        .iter()
        .filter_map(|r| match &r.data {
            RData::SRV(srv) => Some(SrvTarget {
                priority: srv.priority,
                weight: srv.weight,
                port: srv.port,
                host: host_of(&srv.target),
            }),
            _ => None,
        })
        .collect();
    Ok((targets, addresses(&m)))
}

/// The addresses (A, AAAA) in an answer to query `id`.
pub fn read_addresses(bytes: &[u8], id: u16) -> Result<HostAddresses, DiscoveryError> {
    answer(bytes, id).map(|m| addresses(&m))
}

fn addresses(m: &Message) -> HostAddresses {
    m.answers
        .iter()
        .chain(m.additionals.iter())
        .filter_map(|r| match &r.data {
            RData::A(a) => Some((host_of(&r.name), IpAddr::V4(a.0))),
            RData::AAAA(a) => Some((host_of(&r.name), IpAddr::V6(a.0))),
            _ => None,
        })
        .collect()
}

/// The target to use (RFC 2782): the lowest priority, then the highest weight, then the
/// first; `None` when there is none or the service is declared absent (target ".").
pub fn choose(targets: &[SrvTarget]) -> Option<&SrvTarget> {
    if targets.len() == 1 && targets[0].host.is_empty() {
        return None;
    }
    targets
        .iter()
        .filter(|t| !t.host.is_empty() && t.port != 0)
        .min_by_key(|t| (t.priority, std::cmp::Reverse(t.weight)))
}

/// The peer URL for a target at `addr`.
pub fn peer_url(addr: SocketAddr) -> String {
    format!("http://{addr}/ssp")
}

/// Looks up the SSP server of `domain` with the name server `server`; `id` is a fresh query
/// id (unpredictable, against spoofed answers). Each query waits at most `timeout`.
pub async fn lookup(
    server: SocketAddr,
    domain: &str,
    id: u16,
    timeout: Duration,
) -> Result<SocketAddr, DiscoveryError> {
    let any: SocketAddr = if server.is_ipv4() {
        SocketAddr::from(([0, 0, 0, 0], 0))
    } else {
        SocketAddr::from(([0u16; 8], 0))
    };
    let socket =
        glommio::net::UdpSocket::bind(any).map_err(|e| DiscoveryError::Io(e.to_string()))?;
    let srv = exchange(&socket, server, &srv_query(id, domain)?, timeout).await?;
    let (targets, known) = read_srv(&srv, id)?;
    let target = choose(&targets).ok_or_else(|| DiscoveryError::NoService(domain.to_owned()))?;
    if let Ok(ip) = target.host.parse::<IpAddr>() {
        return Ok(SocketAddr::new(ip, target.port));
    }
    if let Some((_, ip)) = known.iter().find(|(h, _)| *h == target.host) {
        return Ok(SocketAddr::new(*ip, target.port));
    }
    let a_id = id.wrapping_add(1);
    let a = query(a_id, &format!("{}.", target.host), RecordType::A)?;
    let found = read_addresses(&exchange(&socket, server, &a, timeout).await?, a_id)?;
    found
        .iter()
        .find(|(h, _)| *h == target.host)
        .map(|(_, ip)| SocketAddr::new(*ip, target.port))
        .ok_or_else(|| DiscoveryError::NoAddress(target.host.clone()))
}

/// Sends `query` to `server` and waits for a datagram from it.
async fn exchange(
    socket: &glommio::net::UdpSocket,
    server: SocketAddr,
    query: &[u8],
    timeout: Duration,
) -> Result<Vec<u8>, DiscoveryError> {
    socket
        .send_to(query, server)
        .await
        .map_err(|e| DiscoveryError::Io(e.to_string()))?;
    let wait = async {
        let mut buf = vec![0u8; 4096];
        loop {
            let (n, from) = socket
                .recv_from(&mut buf)
                .await
                .map_err(|e| DiscoveryError::Io(e.to_string()))?;
            // Datagrams from anyone but the server are ignored.
            if from == server {
                buf.truncate(n);
                return Ok(buf);
            }
        }
    };
    futures_lite::future::or(wait, async {
        glommio::timer::sleep(timeout).await;
        Err(DiscoveryError::Timeout)
    })
    .await
}

/// The first name server of `/etc/resolv.conf`-style text, on port 53.
pub fn resolv_conf_server(text: &str) -> Option<SocketAddr> {
    text.lines()
        .filter_map(|l| l.trim().strip_prefix("nameserver"))
        .filter_map(|rest| rest.trim().parse::<IpAddr>().ok())
        .map(|ip| SocketAddr::new(ip, 53))
        .next()
}

#[cfg(test)]
mod tests {
    use super::*;
    use hickory_proto::rr::Record;
    use hickory_proto::rr::rdata::{A, SRV};

    fn srv(priority: u16, weight: u16, port: u16, host: &str) -> SrvTarget {
        SrvTarget {
            priority,
            weight,
            port,
            host: host.into(),
        }
    }

    #[test]
    fn the_lowest_priority_then_the_heaviest_weight_wins() {
        let t = [
            srv(20, 100, 1, "c"),
            srv(10, 5, 2, "a"),
            srv(10, 50, 3, "b"),
        ];
        assert_eq!(choose(&t).map(|t| t.port), Some(3));
        assert_eq!(choose(&[srv(0, 0, 0, "")]), None);
        assert_eq!(choose(&[]), None);
    }

    #[test]
    fn an_answer_gives_targets_and_glue_addresses() {
        let q = srv_query(7, "b.test").expect("query");
        let asked = Message::from_vec(&q).expect("a DNS message");
        assert_eq!(
            asked.queries[0].name().to_ascii(),
            "_imps-server._tcp.b.test."
        );
        let mut m = Message::new(7, MessageType::Response, OpCode::Query);
        let host = Name::from_ascii("ssp.b.test.").expect("name");
        m.answers.push(Record::from_rdata(
            Name::from_ascii("_imps-server._tcp.b.test.").expect("name"),
            60,
            RData::SRV(SRV::new(10, 1, 8081, host.clone())),
        ));
        m.additionals
            .push(Record::from_rdata(host, 60, RData::A(A::new(127, 0, 0, 1))));
        let bytes = m.to_vec().expect("encode");
        let (targets, glue) = read_srv(&bytes, 7).expect("read");
        assert_eq!(targets, vec![srv(10, 1, 8081, "ssp.b.test")]);
        assert_eq!(
            glue,
            vec![("ssp.b.test".to_owned(), IpAddr::from([127, 0, 0, 1]))]
        );
        assert_eq!(read_srv(&bytes, 8), Err(DiscoveryError::Mismatch));
        assert!(matches!(
            read_srv(b"\x00", 7),
            Err(DiscoveryError::Malformed(_))
        ));
    }

    #[test]
    fn an_error_answer_is_an_error() {
        let m = Message::error_msg(3, OpCode::Query, ResponseCode::NXDomain);
        let bytes = m.to_vec().expect("encode");
        assert!(matches!(read_srv(&bytes, 3), Err(DiscoveryError::Rcode(_))));
    }

    #[test]
    fn the_first_nameserver_is_used() {
        let text = "# comment\nsearch x\nnameserver 10.0.0.2\nnameserver 10.0.0.3\n";
        assert_eq!(
            resolv_conf_server(text),
            Some(SocketAddr::from(([10, 0, 0, 2], 53)))
        );
        assert_eq!(resolv_conf_server(""), None);
    }
}
