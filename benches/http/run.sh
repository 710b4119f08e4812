#!/usr/bin/env bash
# KeepAlive transactions over HTTP on loopback: impsd against nginx answering a static body
# of the same size, with the same load tools, on the same machine, in one run.
#
#   bash benches/http/run.sh            # needs: nginx wrk (Debian), oha (cargo install oha)
#
# Prints requests/s at full load (wrk, 64 connections) for both, then latency percentiles at
# half of impsd's maximum rate (oha, fixed rate, latency measured from the intended send
# time).
set -euo pipefail
cd "$(dirname "$0")/../.."
work=$(mktemp -d)
trap 'kill $(cat "$work/impsd.pid" 2>/dev/null) 2>/dev/null || true; nginx -c "$work/nginx.conf" -s stop 2>/dev/null || true; rm -rf "$work"' EXIT
cargo build --release -q -p imps-engine --bin impsd
impsd=target/release/impsd
$impsd users generate --data-dir "$work/data" --shards 2 --count 8 --prefix user --password pass >/dev/null
$impsd serve --data-dir "$work/data" --listen 127.0.0.1:18080 >"$work/impsd.log" 2>&1 &
echo $! >"$work/impsd.pid"
for _ in $(seq 50); do curl -sf http://127.0.0.1:18080/health >/dev/null && break; sleep 0.1; done
csp=http://www.openmobilealliance.org/DTD/WV-CSP1.2
trc=http://www.openmobilealliance.org/DTD/WV-TRC1.2
sessions=()
for u in 1 2 3 4 5 6 7 8; do
  login="<?xml version=\"1.0\"?><WV-CSP-Message xmlns=\"$csp\"><Session><SessionDescriptor><SessionType>Outband</SessionType></SessionDescriptor><Transaction><TransactionDescriptor><TransactionMode>Request</TransactionMode><TransactionID>1</TransactionID></TransactionDescriptor><TransactionContent xmlns=\"$trc\"><Login-Request><UserID>user$u</UserID><ClientID><URL>bench</URL></ClientID><Password>pass</Password><TimeToLive>3600</TimeToLive><SessionCookie>ck</SessionCookie></Login-Request></TransactionContent></Transaction></Session></WV-CSP-Message>"
  sid=$(curl -s -H 'Content-Type: application/vnd.wv.csp.xml' --data-binary "$login" http://127.0.0.1:18080/imps | sed -n 's/.*<SessionID>\([^<]*\)<.*/\1/p')
  sessions+=("$sid")
done
ka() { echo "<?xml version=\"1.0\"?><WV-CSP-Message xmlns=\"$csp\"><Session><SessionDescriptor><SessionType>Inband</SessionType><SessionID>$1</SessionID></SessionDescriptor><Transaction><TransactionDescriptor><TransactionMode>Request</TransactionMode><TransactionID>ka</TransactionID></TransactionDescriptor><TransactionContent xmlns=\"$trc\"><KeepAlive-Request/></TransactionContent></Transaction></Session></WV-CSP-Message>"; }
{
  echo "bodies = {"
  for s in "${sessions[@]}"; do echo "[[$(ka "$s")]],"; done
  echo "}"
  echo 'counter = 0'
  echo 'request = function() counter = counter + 1; return wrk.format("POST", "/imps", {["Content-Type"] = "application/vnd.wv.csp.xml"}, bodies[(counter % #bodies) + 1]) end'
} >"$work/keepalive.lua"
ka "${sessions[0]}" >"$work/ka.xml"
curl -s -H 'Content-Type: application/vnd.wv.csp.xml' --data-binary @"$work/ka.xml" http://127.0.0.1:18080/imps >"$work/answer.xml"
body=$(sed "s/'/\\\\'/g" "$work/answer.xml")
cat >"$work/nginx.conf" <<CONF
worker_processes 2;
pid $work/nginx.pid;
error_log $work/nginx-error.log;
events { worker_connections 4096; }
http {
  access_log off;
  keepalive_requests 1000000;
  server {
    listen 127.0.0.1:18081 reuseport;
    location / { default_type application/vnd.wv.csp.xml; return 200 '$body'; }
  }
}
CONF
nginx -c "$work/nginx.conf"
sleep 0.3
echo "answer size: $(wc -c <"$work/answer.xml") bytes (both servers)"
rate() { wrk -t2 -c64 -d10s -s "$work/keepalive.lua" "http://127.0.0.1:$1/imps" | awk '/Requests\/sec/ {print $2}'; }
ng=$(rate 18081); im=$(rate 18080)
echo "max rate (wrk -t2 -c64 -d10s): nginx $ng req/s, impsd $im req/s, ratio $(echo "$im / $ng" | bc -l | cut -c1-5)"
half=$(echo "$im / 2" | bc)
for port in 18081 18080; do
  echo "port $port at $half req/s (oha, latency from the intended send time):"
  oha -z 10s -c 64 -q "$half" --latency-correction --no-tui -m POST \
    -H 'Content-Type: application/vnd.wv.csp.xml' -D "$work/ka.xml" "http://127.0.0.1:$port/imps" \
    | grep -E '50.00%|99.00%|99.90%'
done
