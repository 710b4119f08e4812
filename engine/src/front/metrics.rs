//! Counters of the front-end and their Prometheus text form.
//!
//! Each executor keeps its own [`FrontStats`] (no sharing, no atomics on the hot path);
//! `/metrics` gathers a snapshot from every executor and renders them with a `shard` label.

use std::fmt::Write as _;

use hashbrown::HashMap;
use imps_protocol::Primitive;

/// What one executor's front-end counted.
#[derive(Debug, Clone, Default)]
pub struct FrontStats {
    /// Transactions answered, by request primitive and result code.
    pub transactions: HashMap<(&'static str, u32), u64>,
    /// HTTP responses by status.
    pub http_responses: HashMap<u16, u64>,
    /// Bodies that did not decode, by the CSP status answered.
    pub decode_errors: HashMap<u16, u64>,
}

impl FrontStats {
    /// Counts one answered transaction.
    pub fn transaction(&mut self, primitive: &'static str, code: u32) {
        *self.transactions.entry((primitive, code)).or_insert(0) += 1;
    }

    /// Counts one HTTP response.
    pub fn http(&mut self, status: u16) {
        *self.http_responses.entry(status).or_insert(0) += 1;
    }

    /// Counts a body that did not decode.
    pub fn decode_error(&mut self, status: u16) {
        *self.decode_errors.entry(status).or_insert(0) += 1;
    }
}

/// The result code an answer carries (200 for answers without a `Result`).
pub fn result_code(p: &Primitive) -> u32 {
    match p {
        Primitive::Status(s) => s.result.code,
        Primitive::LoginResponse(r) => r.result.code,
        Primitive::KeepAliveResponse(r) => r.result.code,
        Primitive::Disconnect(d) => d.result.code,
        Primitive::ListManageResponse(r) => r.result.code,
        Primitive::SendMessageResponse(r) => r.result.code,
        Primitive::LeaveGroupResponse(r) => r.result.code,
        Primitive::GetAttributeListResponse(r) => r.result.code,
        Primitive::GetPresenceResponse(r) => r.result.as_ref().map_or(200, |r| r.code),
        _ => 200,
    }
}

/// One shard's engine-side numbers.
#[derive(Debug, Clone, Copy, Default)]
pub struct ShardGauges {
    /// Accounts.
    pub users: u64,
    /// Live sessions.
    pub sessions: u64,
    /// Requests waiting in the shard's inbox.
    pub inbox_depth: u64,
    /// Wake-ups emitted.
    pub wakes: u64,
    /// Log syncs done.
    pub log_syncs: u64,
    /// Sum of log sync durations, microseconds.
    pub log_sync_us: u64,
}

/// A labelled counter or gauge line.
fn line(out: &mut String, name: &str, labels: &[(&str, String)], value: u64) {
    out.push_str(name);
    if !labels.is_empty() {
        out.push('{');
        for (i, (k, v)) in labels.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            let v = v
                .replace('\\', "\\\\")
                .replace('"', "\\\"")
                .replace('\n', "\\n");
            let _ = write!(out, "{k}=\"{v}\"");
        }
        out.push('}');
    }
    let _ = writeln!(out, " {value}");
}

fn header(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

/// Renders every shard's numbers (`front[i]`, `gauges[i]`, and extra counters given as
/// `(name, help, per-shard values)`) as Prometheus text.
pub fn render(
    front: &[FrontStats],
    gauges: &[ShardGauges],
    extra: &[(&str, &str, Vec<u64>)],
) -> String {
    let mut out = String::with_capacity(4096);
    header(&mut out, "imps_sessions", "gauge", "Live sessions.");
    for (i, g) in gauges.iter().enumerate() {
        line(
            &mut out,
            "imps_sessions",
            &[("shard", i.to_string())],
            g.sessions,
        );
    }
    header(&mut out, "imps_users", "gauge", "Accounts.");
    for (i, g) in gauges.iter().enumerate() {
        line(&mut out, "imps_users", &[("shard", i.to_string())], g.users);
    }
    header(
        &mut out,
        "imps_inbox_depth",
        "gauge",
        "Requests queued for a shard.",
    );
    for (i, g) in gauges.iter().enumerate() {
        line(
            &mut out,
            "imps_inbox_depth",
            &[("shard", i.to_string())],
            g.inbox_depth,
        );
    }
    header(
        &mut out,
        "imps_wakeups_total",
        "counter",
        "CIR wake-ups emitted.",
    );
    for (i, g) in gauges.iter().enumerate() {
        line(
            &mut out,
            "imps_wakeups_total",
            &[("shard", i.to_string())],
            g.wakes,
        );
    }
    header(
        &mut out,
        "imps_log_syncs_total",
        "counter",
        "Log fdatasyncs.",
    );
    for (i, g) in gauges.iter().enumerate() {
        line(
            &mut out,
            "imps_log_syncs_total",
            &[("shard", i.to_string())],
            g.log_syncs,
        );
    }
    header(
        &mut out,
        "imps_log_sync_microseconds_total",
        "counter",
        "Time spent in log syncs.",
    );
    for (i, g) in gauges.iter().enumerate() {
        let name = "imps_log_sync_microseconds_total";
        line(&mut out, name, &[("shard", i.to_string())], g.log_sync_us);
    }
    header(
        &mut out,
        "imps_transactions_total",
        "counter",
        "Transactions answered, by primitive and result code.",
    );
    for (i, f) in front.iter().enumerate() {
        let mut rows: Vec<_> = f.transactions.iter().collect();
        rows.sort();
        for ((primitive, code), n) in rows {
            let labels = [
                ("shard", i.to_string()),
                ("primitive", (*primitive).to_owned()),
                ("code", code.to_string()),
            ];
            line(&mut out, "imps_transactions_total", &labels, *n);
        }
    }
    header(
        &mut out,
        "imps_http_responses_total",
        "counter",
        "HTTP responses by status.",
    );
    for (i, f) in front.iter().enumerate() {
        let mut rows: Vec<_> = f.http_responses.iter().collect();
        rows.sort();
        for (status, n) in rows {
            let labels = [("shard", i.to_string()), ("status", status.to_string())];
            line(&mut out, "imps_http_responses_total", &labels, *n);
        }
    }
    header(
        &mut out,
        "imps_decode_errors_total",
        "counter",
        "Request bodies that did not decode, by the status answered.",
    );
    for (i, f) in front.iter().enumerate() {
        let mut rows: Vec<_> = f.decode_errors.iter().collect();
        rows.sort();
        for (status, n) in rows {
            let labels = [("shard", i.to_string()), ("status", status.to_string())];
            line(&mut out, "imps_decode_errors_total", &labels, *n);
        }
    }
    for (name, help, values) in extra {
        header(&mut out, name, "counter", help);
        for (i, v) in values.iter().enumerate() {
            line(&mut out, name, &[("shard", i.to_string())], *v);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_prometheus_text() {
        let mut f = FrontStats::default();
        f.transaction("Login-Request", 200);
        f.transaction("Login-Request", 200);
        f.transaction("Login-Request", 409);
        f.http(200);
        f.decode_error(400);
        let g = ShardGauges {
            sessions: 3,
            ..Default::default()
        };
        let text = render(
            &[f],
            &[g],
            &[("imps_cir_udp_sent_total", "UDP wake-ups sent.", vec![7])],
        );
        assert!(text.contains("imps_sessions{shard=\"0\"} 3\n"));
        assert!(text.contains(
            "imps_transactions_total{shard=\"0\",primitive=\"Login-Request\",code=\"200\"} 2\n"
        ));
        assert!(text.contains("imps_cir_udp_sent_total{shard=\"0\"} 7\n"));
        for l in text.lines().filter(|l| !l.starts_with('#')) {
            let (_, value) = l.rsplit_once(' ').unwrap();
            value.parse::<u64>().unwrap();
        }
    }
}
