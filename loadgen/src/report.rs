//! The run's report: `report.json` (machine-readable, for CI and the capacity planner),
//! `report.html` (one self-contained page with throughput and latency over time as inline
//! SVG, readable with no network) and a text summary; and the scenario's SLO verdict.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::Path;

use hdrhistogram::Histogram;
use serde::Serialize;

use crate::client::Kind;
use crate::scenario::Slo;
use crate::stats::{CirCounts, Lag, Second, Stats};

/// Why the report could not be written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReportError {
    /// A file could not be written.
    #[error("cannot write {path}: {source}")]
    Write {
        /// The file.
        path: std::path::PathBuf,
        /// Why.
        source: std::io::Error,
    },
    /// The JSON could not be made.
    #[error("json: {0}")]
    Json(#[from] serde_json::Error),
}

/// Latency percentiles, µs (`null` when nothing was measured).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Percentiles {
    /// Samples.
    pub count: u64,
    /// Median.
    pub p50: Option<u64>,
    /// 99th percentile.
    pub p99: Option<u64>,
    /// 99.9th percentile.
    pub p999: Option<u64>,
    /// Largest.
    pub max: Option<u64>,
}

impl Percentiles {
    /// The percentiles of `h`.
    pub fn of(h: &Histogram<u64>) -> Self {
        let q = |x: f64| (!h.is_empty()).then(|| h.value_at_quantile(x));
        Self {
            count: h.len(),
            p50: q(0.5),
            p99: q(0.99),
            p999: q(0.999),
            max: (!h.is_empty()).then(|| h.max()),
        }
    }
}

/// One primitive's counts.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Counts {
    /// Transactions ended.
    pub count: u64,
    /// Failed (not answered, or answered with an error other than "unsupported").
    pub errors: u64,
    /// Answered 405, 501 or 506: the target does not support it.
    pub unsupported: u64,
}

/// One objective checked.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SloCheck {
    /// What.
    pub name: String,
    /// The limit.
    pub limit: f64,
    /// What the run did.
    pub actual: f64,
    /// Met.
    pub ok: bool,
}

/// Memory the generator used.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Memory {
    /// `size_of` one client's state.
    pub client_state_bytes: usize,
    /// Clients, their heap and the timer wheels, per client.
    pub per_client_bytes: f64,
}

/// The report.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// Scenario name.
    pub scenario: String,
    /// The target (URL or `in-process`).
    pub target: String,
    /// Simulated clients.
    pub clients: u32,
    /// Seconds of scheduled load.
    pub duration_s: f64,
    /// Per primitive.
    pub transactions: BTreeMap<String, Counts>,
    /// Transactions per second.
    pub throughput_tps: f64,
    /// Failed / (all - unsupported).
    pub error_rate: f64,
    /// Per primitive, of successful transactions, µs from the intended send time.
    pub latency_us: BTreeMap<String, Percentiles>,
    /// Presence update to each watcher's notification, µs.
    pub presence_e2e_us: Percentiles,
    /// SendMessage to the recipient's NewMessage or GetMessage-Response, µs.
    pub message_e2e_us: Percentiles,
    /// SendMessage to a group, to each joined user's receipt, µs.
    pub group_message_e2e_us: Percentiles,
    /// The STCP CIR channels: opened, up, lost, wake-ups, polls owed to wake-ups or Poll=T.
    pub cir: CirCounts,
    /// Primitives the target answered as unsupported.
    pub unsupported: Vec<String>,
    /// The generator's resident memory at the end.
    pub loadgen_rss_bytes: u64,
    /// The target's resident memory at the end, when loadgen started it (`--serve`).
    pub target_rss_bytes: Option<u64>,
    /// Memory of the client state.
    pub memory: Memory,
    /// Schedule lag (sends later than their intended time).
    pub schedule: Lag,
    /// Per second.
    pub timeline: Vec<Second>,
    /// Objectives checked.
    pub slo: Vec<SloCheck>,
    /// All objectives met.
    pub slo_passed: bool,
}

impl Serialize for Lag {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut st = s.serialize_struct("Lag", 5)?;
        st.serialize_field("sends", &self.sends)?;
        st.serialize_field("late_sends", &self.late_sends)?;
        st.serialize_field("max_lag_us", &self.max_us)?;
        st.serialize_field("deferred_sends", &self.deferred)?;
        st.serialize_field("pipelined_sends", &self.pipelined)?;
        st.end()
    }
}

impl Serialize for CirCounts {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut st = s.serialize_struct("CirCounts", 5)?;
        st.serialize_field("channels_opened", &self.opened)?;
        st.serialize_field("channels_up", &self.up)?;
        st.serialize_field("channels_lost", &self.lost)?;
        st.serialize_field("wakes", &self.wakes)?;
        st.serialize_field("woken_polls", &self.woken_polls)?;
        st.end()
    }
}

impl Serialize for Second {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::SerializeStruct;
        let mut st = s.serialize_struct("Second", 4)?;
        st.serialize_field("transactions", &self.transactions)?;
        st.serialize_field("errors", &self.errors)?;
        st.serialize_field("p99_us", &self.p99_us)?;
        st.serialize_field("online", &self.online)?;
        st.end()
    }
}

/// What the report is built from besides the measurements.
#[derive(Debug, Clone)]
pub struct RunFacts {
    /// Scenario name.
    pub scenario: String,
    /// Target.
    pub target: String,
    /// Clients.
    pub clients: u32,
    /// Seconds of scheduled load.
    pub duration_s: f64,
    /// Generator RSS.
    pub rss_bytes: u64,
    /// Client memory.
    pub memory: Memory,
}

impl Report {
    /// The report of `stats`, checked against `slo`.
    pub fn build(facts: RunFacts, stats: &Stats, slo: &Slo) -> Self {
        let mut transactions = BTreeMap::new();
        let mut latency_us = BTreeMap::new();
        let mut unsupported = Vec::new();
        for kind in Kind::ALL {
            let k = &stats.kinds[kind.index()];
            if k.count == 0 {
                continue;
            }
            transactions.insert(
                kind.name().to_owned(),
                Counts {
                    count: k.count,
                    errors: k.errors,
                    unsupported: k.unsupported,
                },
            );
            latency_us.insert(kind.name().to_owned(), Percentiles::of(&k.latency));
            if k.unsupported > 0 {
                unsupported.push(kind.name().to_owned());
            }
        }
        let total = stats.transactions();
        let unsupported_total: u64 = stats.kinds.iter().map(|k| k.unsupported).sum();
        let judged = total - unsupported_total;
        let error_rate = if judged == 0 {
            0.0
        } else {
            stats.errors() as f64 / judged as f64
        };
        let throughput_tps = if facts.duration_s > 0.0 {
            total as f64 / facts.duration_s
        } else {
            0.0
        };
        let slo_checks = check(slo, &latency_us, error_rate, throughput_tps);
        Self {
            scenario: facts.scenario,
            target: facts.target,
            clients: facts.clients,
            duration_s: facts.duration_s,
            transactions,
            throughput_tps,
            error_rate,
            latency_us,
            presence_e2e_us: Percentiles::of(&stats.presence_e2e),
            message_e2e_us: Percentiles::of(&stats.message_e2e),
            group_message_e2e_us: Percentiles::of(&stats.group_message_e2e),
            cir: stats.cir,
            unsupported,
            loadgen_rss_bytes: facts.rss_bytes,
            target_rss_bytes: None,
            memory: facts.memory,
            schedule: stats.lag,
            timeline: stats.timeline.clone(),
            slo_passed: slo_checks.iter().all(|c| c.ok),
            slo: slo_checks,
        }
    }

    /// Writes `report.json` and `report.html` into `dir` (created if missing).
    pub fn write(&self, dir: &Path) -> Result<(), ReportError> {
        let io = |path: &Path| {
            let path = path.to_owned();
            move |source| ReportError::Write { path, source }
        };
        std::fs::create_dir_all(dir).map_err(io(dir))?;
        let json = dir.join("report.json");
        std::fs::write(&json, serde_json::to_vec_pretty(self)?).map_err(io(&json))?;
        let html = dir.join("report.html");
        std::fs::write(&html, self.html()).map_err(io(&html))?;
        Ok(())
    }

    /// The text summary.
    pub fn summary(&self) -> String {
        let mut s = String::new();
        let _ = writeln!(
            s,
            "scenario {} against {}: {} clients, {:.1} s, {:.0} transactions/s, error rate {:.4}",
            self.scenario,
            self.target,
            self.clients,
            self.duration_s,
            self.throughput_tps,
            self.error_rate
        );
        let _ = writeln!(
            s,
            "{:<28} {:>9} {:>7} {:>7} {:>9} {:>9} {:>9} {:>9}",
            "primitive", "count", "errors", "unsupp", "p50 µs", "p99 µs", "p999 µs", "max µs"
        );
        let show = |v: Option<u64>| v.map_or_else(|| "-".to_owned(), |v| v.to_string());
        for (name, c) in &self.transactions {
            let l = self.latency_us.get(name);
            let _ = writeln!(
                s,
                "{:<28} {:>9} {:>7} {:>7} {:>9} {:>9} {:>9} {:>9}",
                name,
                c.count,
                c.errors,
                c.unsupported,
                show(l.and_then(|l| l.p50)),
                show(l.and_then(|l| l.p99)),
                show(l.and_then(|l| l.p999)),
                show(l.and_then(|l| l.max)),
            );
        }
        for (name, p) in [
            ("presence e2e", &self.presence_e2e_us),
            ("message e2e", &self.message_e2e_us),
            ("group message e2e", &self.group_message_e2e_us),
        ] {
            let _ = writeln!(
                s,
                "{name}: {} samples, p50 {} µs, p99 {} µs",
                p.count,
                show(p.p50),
                show(p.p99)
            );
        }
        if self.cir.opened > 0 {
            let c = &self.cir;
            let _ = writeln!(
                s,
                "STCP CIR: {} channels asked, {} up, {} lost; {} wake-ups, {} polls owed to wake-ups or Poll=T",
                c.opened, c.up, c.lost, c.wakes, c.woken_polls
            );
        }
        if !self.unsupported.is_empty() {
            let _ = writeln!(
                s,
                "unsupported by the target: {}",
                self.unsupported.join(", ")
            );
        }
        let _ = writeln!(
            s,
            "generator: rss {} MiB, {} bytes per client state, {:.0} bytes per client; {} of {} sends late (>10 ms), max lag {} ms; {} deferred behind answers; {} pipelined on busy connections",
            self.loadgen_rss_bytes >> 20,
            self.memory.client_state_bytes,
            self.memory.per_client_bytes,
            self.schedule.late_sends,
            self.schedule.sends,
            self.schedule.max_us / 1000,
            self.schedule.deferred,
            self.schedule.pipelined
        );
        if let Some(rss) = self.target_rss_bytes {
            let _ = writeln!(
                s,
                "target: rss {} MiB, {:.0} bytes per client",
                rss >> 20,
                rss as f64 / f64::from(self.clients.max(1))
            );
        }
        for c in &self.slo {
            let _ = writeln!(
                s,
                "SLO {}: {} (limit {}, actual {:.4})",
                c.name,
                if c.ok { "met" } else { "MISSED" },
                c.limit,
                c.actual
            );
        }
        s
    }

    fn html(&self) -> String {
        let mut h = String::from(
            "<!doctype html><html><head><meta charset=\"utf-8\"><title>loadgen report</title><style>\
             body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}\
             td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}\
             td:first-child{text-align:left}.bad{color:#b00}</style></head><body>",
        );
        let _ = write!(
            h,
            "<h1>{}</h1><p>{} clients against {}, {:.1} s: <b>{:.0} transactions/s</b>, error rate {:.4}, generator RSS {} MiB.</p>",
            escape(&self.scenario),
            self.clients,
            escape(&self.target),
            self.duration_s,
            self.throughput_tps,
            self.error_rate,
            self.loadgen_rss_bytes >> 20
        );
        h.push_str("<h2>Transactions</h2><table><tr><th>primitive</th><th>count</th><th>errors</th><th>unsupported</th><th>p50 µs</th><th>p99 µs</th><th>p99.9 µs</th><th>max µs</th></tr>");
        let cell = |v: Option<u64>| v.map_or_else(|| "-".to_owned(), |v| v.to_string());
        for (name, c) in &self.transactions {
            let l = self.latency_us.get(name);
            let _ = write!(
                h,
                "<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                escape(name),
                c.count,
                c.errors,
                c.unsupported,
                cell(l.and_then(|l| l.p50)),
                cell(l.and_then(|l| l.p99)),
                cell(l.and_then(|l| l.p999)),
                cell(l.and_then(|l| l.max))
            );
        }
        h.push_str("</table><h2>End to end</h2><table><tr><th></th><th>samples</th><th>p50 µs</th><th>p99 µs</th><th>max µs</th></tr>");
        for (name, p) in [
            ("presence", &self.presence_e2e_us),
            ("message", &self.message_e2e_us),
            ("group message", &self.group_message_e2e_us),
        ] {
            let _ = write!(
                h,
                "<tr><td>{name}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>",
                p.count,
                cell(p.p50),
                cell(p.p99),
                cell(p.max)
            );
        }
        h.push_str("</table><h2>Throughput over time (transactions/s)</h2>");
        h.push_str(&chart(
            self.timeline
                .iter()
                .map(|s| s.transactions as f64)
                .collect(),
            "#2a6",
        ));
        h.push_str("<h2>p99 latency over time (ms)</h2>");
        h.push_str(&chart(
            self.timeline
                .iter()
                .map(|s| s.p99_us as f64 / 1000.0)
                .collect(),
            "#a26",
        ));
        h.push_str("<h2>Clients online</h2>");
        h.push_str(&chart(
            self.timeline.iter().map(|s| s.online as f64).collect(),
            "#26a",
        ));
        h.push_str("<h2>Objectives</h2><table><tr><th>objective</th><th>limit</th><th>actual</th><th>met</th></tr>");
        for c in &self.slo {
            let _ = write!(
                h,
                "<tr><td>{}</td><td>{}</td><td>{:.4}</td><td class=\"{}\">{}</td></tr>",
                escape(&c.name),
                c.limit,
                c.actual,
                if c.ok { "" } else { "bad" },
                if c.ok { "yes" } else { "NO" }
            );
        }
        h.push_str("</table></body></html>\n");
        h
    }
}

fn check(
    slo: &Slo,
    latency: &BTreeMap<String, Percentiles>,
    error_rate: f64,
    tps: f64,
) -> Vec<SloCheck> {
    let mut out = Vec::new();
    if let Some(limit) = slo.p99_ms {
        for (name, p) in latency {
            if let Some(p99) = p.p99 {
                let actual = p99 as f64 / 1000.0;
                out.push(SloCheck {
                    name: format!("p99_ms {name}"),
                    limit,
                    actual,
                    ok: actual <= limit,
                });
            }
        }
    }
    if let Some(limit) = slo.max_error_rate {
        out.push(SloCheck {
            name: "max_error_rate".into(),
            limit,
            actual: error_rate,
            ok: error_rate <= limit,
        });
    }
    if let Some(limit) = slo.min_tps {
        out.push(SloCheck {
            name: "min_tps".into(),
            limit,
            actual: tps,
            ok: tps >= limit,
        });
    }
    out
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// An inline SVG line chart of `values`, one point per second.
fn chart(values: Vec<f64>, color: &str) -> String {
    const W: f64 = 800.0;
    const H: f64 = 160.0;
    let max = values.iter().copied().fold(0.0, f64::max).max(1e-9);
    let n = values.len().max(2) as f64 - 1.0;
    let points: Vec<String> = values
        .iter()
        .enumerate()
        .map(|(i, v)| format!("{:.1},{:.1}", i as f64 / n * W, H - v / max * H))
        .collect();
    format!(
        "<svg width=\"{W}\" height=\"{}\" viewBox=\"0 -10 {W} {}\" style=\"border:1px solid #ddd\">\
         <polyline fill=\"none\" stroke=\"{color}\" stroke-width=\"2\" points=\"{}\"/>\
         <text x=\"4\" y=\"4\" font-size=\"11\">max {max:.1}</text>\
         <text x=\"4\" y=\"{H}\" font-size=\"11\">0 s</text>\
         <text x=\"{}\" y=\"{H}\" font-size=\"11\">{} s</text></svg>",
        H + 20.0,
        H + 20.0,
        points.join(" "),
        W - 40.0,
        values.len()
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::client::Class;

    fn sample() -> Report {
        let mut s = Stats::new().unwrap();
        for i in 0..1000u64 {
            s.transaction(Kind::Poll, Class::Ok, 100 + i, i * 10_000);
        }
        s.transaction(Kind::Poll, Class::Error, 0, 5_000_000);
        s.transaction(Kind::UpdatePresence, Class::Unsupported, 0, 5_000_000);
        s.finish();
        let facts = RunFacts {
            scenario: "t<1>".into(),
            target: "in-process".into(),
            clients: 10,
            duration_s: 10.0,
            rss_bytes: 1 << 20,
            memory: Memory {
                client_state_bytes: 96,
                per_client_bytes: 120.0,
            },
        };
        let slo = Slo {
            p99_ms: Some(1.0),
            max_error_rate: Some(0.0001),
            min_tps: Some(50.0),
        };
        Report::build(facts, &s, &slo)
    }

    #[test]
    fn numbers_and_slo_verdicts() {
        let r = sample();
        assert_eq!(r.transactions["Polling-Request"].count, 1001);
        assert_eq!(r.transactions["UpdatePresence-Request"].unsupported, 1);
        assert_eq!(r.unsupported, vec!["UpdatePresence-Request"]);
        assert!((r.throughput_tps - 100.2).abs() < 1e-9);
        // One error among 1001 judged transactions (the unsupported one is not judged).
        assert!((r.error_rate - 1.0 / 1001.0).abs() < 1e-12);
        let p99 = r.latency_us["Polling-Request"].p99.unwrap();
        assert!((1080..=1100).contains(&p99), "p99 {p99}");
        assert_eq!(r.presence_e2e_us.count, 0);
        assert_eq!(r.presence_e2e_us.p99, None);
        let verdict: Vec<(&str, bool)> = r.slo.iter().map(|c| (c.name.as_str(), c.ok)).collect();
        assert_eq!(
            verdict,
            vec![
                ("p99_ms Polling-Request", false),
                ("max_error_rate", false),
                ("min_tps", true)
            ]
        );
        assert!(!r.slo_passed);
    }

    #[test]
    fn json_has_the_contract_fields_and_html_is_self_contained() {
        let r = sample();
        let dir = std::env::temp_dir().join(format!("lg-report-{}", std::process::id()));
        r.write(&dir).unwrap();
        let json: serde_json::Value =
            serde_json::from_slice(&std::fs::read(dir.join("report.json")).unwrap()).unwrap();
        for field in [
            "clients",
            "duration_s",
            "transactions",
            "throughput_tps",
            "latency_us",
            "presence_e2e_us",
            "message_e2e_us",
            "group_message_e2e_us",
            "cir",
            "loadgen_rss_bytes",
        ] {
            assert!(json.get(field).is_some(), "missing {field}");
        }
        assert!(json["latency_us"]["Polling-Request"]["p999"].is_u64());
        let html = std::fs::read_to_string(dir.join("report.html")).unwrap();
        assert!(html.contains("<svg") && html.contains("t&lt;1&gt;"));
        assert!(!html.contains("http://") && !html.contains("https://"));
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
