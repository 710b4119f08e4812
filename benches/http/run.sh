#!/usr/bin/env bash
# KeepAlive transactions over HTTP on loopback: impsd against nginx answering a static body
# of the same size, with the same load tools, on the same machine, in one run.
#
#   bash benches/http/run.sh            # needs: nginx wrk (Debian), oha (cargo install oha)
#   IMPSD=/path/to/impsd bash benches/http/run.sh   # an already built binary
#   ROUNDS=5 bash benches/http/run.sh   # more alternating rounds (default 3)
#   RATE=60000 bash benches/http/run.sh # latency only, at that rate instead of half the maximum
#   LATENCY_ROUNDS=5 bash benches/http/run.sh # more alternating latency rounds (default ROUNDS)
#   FLOOR=1 bash benches/http/run.sh    # latency of the smallest glommio server too (port 18082)
#   PIN=1 bash benches/http/run.sh      # both servers pinned: impsd's executors and nginx's
#                                       # workers (worker_cpu_affinity auto)
#   IMPSD_CONFIG=file.toml bash benches/http/run.sh   # impsd serve --config file.toml (its
#                                       # listen and data_dir are overridden, pin unless PIN=1)
#
# Prints requests/s at full load (wrk, 64 connections) for both, under two loads: two
# clients whose connections each carry the client's own session, as handsets do (the
# figure the target is judged on), and connections that each cycle through 8 sessions, as
# behind a gateway pooling connections (impsd then serves about half of the requests on
# another executor than the connection's). Then latency percentiles at half of impsd's
# maximum rate (oha, fixed rate, latency measured from the intended send time).
#
# Fairness: both servers get the same two worker threads and the same CPU placement (by
# default neither is pinned: the load generator runs on the same cores, and a pinned server
# cannot move away from it while nginx's workers can). The full-load measurement alternates
# between the servers (ROUNDS rounds of 10 s each) and reports each one's median, so that
# other work on the machine weighs on both alike; the CPU time each server used per request
# is printed too (from /proc), a figure less sensitive to such noise.
set -euo pipefail
cd "$(dirname "$0")/../.."
work=$(mktemp -d)
trap 'kill $(cat "$work/impsd.pid" "$work/floor.pid" 2>/dev/null) 2>/dev/null || true; nginx -c "$work/nginx.conf" -s stop 2>/dev/null || true; rm -rf "$work"' EXIT
# IMPSD=path/to/impsd measures that binary instead of building one.
impsd=${IMPSD:-}
if [ -z "$impsd" ]; then
  cargo build --release -q -p imps-engine --bin impsd
  impsd=${CARGO_TARGET_DIR:-target}/release/impsd
fi
$impsd users generate --data-dir "$work/data" --shards 2 --count 8 --prefix user --password pass >/dev/null
pin_flag=--no-pin
nginx_affinity=
if [ "${PIN:-0}" = 1 ]; then
  pin_flag=
  nginx_affinity="worker_cpu_affinity auto;"
fi
config_flag=()
if [ -n "${IMPSD_CONFIG:-}" ]; then
  config_flag=(--config "$IMPSD_CONFIG")
fi
$impsd serve "${config_flag[@]}" --data-dir "$work/data" --listen 127.0.0.1:18080 $pin_flag >"$work/impsd.log" 2>&1 &
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
$nginx_affinity
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
# FLOOR=1: also the smallest glommio server (benches/src/bin/glommio_floor.rs), answering the
# same number of bytes on port 18082, measured like the other two.
ports="18081 18080"
if [ "${FLOOR:-0}" = 1 ]; then
  floor=${GLOMMIO_FLOOR:-}
  if [ -z "$floor" ]; then
    cargo build --release -q -p imps-benches --bin glommio-floor
    floor=${CARGO_TARGET_DIR:-target}/release/glommio-floor
  fi
  "$floor" 127.0.0.1:18082 "$(wc -c <"$work/answer.xml")" &
  echo $! >"$work/floor.pid"
  ports="18081 18080 18082"
fi
sleep 0.3
echo "answer size: $(wc -c <"$work/answer.xml") bytes (both servers)"
# CPU time (clock ticks) used so far by the processes in $@.
ticks() { local t=0 p; for p in "$@"; do t=$((t + $(awk '{print $14 + $15}' "/proc/$p/stat"))); done; echo "$t"; }
impsd_pids=$(cat "$work/impsd.pid")
nginx_pids=$(pgrep -P "$(cat "$work/nginx.pid")" | tr '\n' ' ')
hz=$(getconf CLK_TCK)
# Two clients, each with its own session (one session per shard: a session ID starts with
# its shard), each keeping 32 connections that carry only its session, as handsets do.
other=""
for s in "${sessions[@]}"; do case "$s" in 1-*) other=$s; break;; esac; done
[ -n "$other" ] || { echo "no session on shard 1" >&2; exit 1; }
ka "$other" >"$work/ka1.xml"
for f in ka ka1; do
  {
    echo "body = [[$(cat "$work/$f.xml")]]"
    echo 'request = function() return wrk.format("POST", "/imps", {["Content-Type"] = "application/vnd.wv.csp.xml"}, body) end'
  } >"$work/$f.lua"
done
# One full-load round (10 s) against port $2 whose server is $3...: "requests/s
# cpu-us/request". Load $1: "own" (the two clients above, one wrk -t1 -c32 each) or "mixed"
# (one wrk -t2 -c64 whose every connection cycles through all 8 sessions, as behind a
# gateway that pools connections).
round() {
  local load=$1 port=$2 t0 t1 out
  shift 2
  t0=$(ticks "$@")
  if [ "$load" = own ]; then
    wrk -t1 -c32 -d10s -s "$work/ka.lua" "http://127.0.0.1:$port/imps" >"$work/wrk0.txt" &
    local first=$!
    wrk -t1 -c32 -d10s -s "$work/ka1.lua" "http://127.0.0.1:$port/imps" >"$work/wrk1.txt"
    wait "$first"
    out=$(cat "$work/wrk0.txt" "$work/wrk1.txt")
  else
    out=$(wrk -t2 -c64 -d10s -s "$work/keepalive.lua" "http://127.0.0.1:$port/imps")
  fi
  t1=$(ticks "$@")
  echo "$out" | awk -v t=$((t1 - t0)) -v hz="$hz" \
    '/requests in/ {n += $1} /Requests\/sec/ {r += $2} END {printf "%.0f %.1f\n", r, t * 1e6 / hz / n}'
}
median() { sort -n | awk '{v[NR] = $1} END {print v[int((NR + 1) / 2)]}'; }
for load in own mixed; do
  : >"$work/ng-$load.txt"
  : >"$work/im-$load.txt"
done
# RATE=N skips the full-load rounds and measures latency at N requests/s.
rounds=${ROUNDS:-3}
[ -n "${RATE:-}" ] && rounds=0
for i in $(seq "$rounds"); do
  for load in own mixed; do
    # shellcheck disable=SC2086
    ng_round=$(round $load 18081 $nginx_pids)
    # shellcheck disable=SC2086
    im_round=$(round $load 18080 $impsd_pids)
    echo "round $i, $load sessions: nginx $ng_round, impsd $im_round (req/s, CPU us/request)"
    echo "$ng_round" >>"$work/ng-$load.txt"
    echo "$im_round" >>"$work/im-$load.txt"
  done
done
for load in own mixed; do
  [ "$rounds" = 0 ] && break
  ng=$(cut -d' ' -f1 "$work/ng-$load.txt" | median)
  im=$(cut -d' ' -f1 "$work/im-$load.txt" | median)
  ng_cpu=$(cut -d' ' -f2 "$work/ng-$load.txt" | median)
  im_cpu=$(cut -d' ' -f2 "$work/im-$load.txt" | median)
  case $load in
    own) what="two clients, 32 connections each, each connection carrying its client's session" ;;
    *) what="wrk -t2 -c64, every connection cycling through 8 sessions (a pooling gateway)" ;;
  esac
  echo "max rate, $what; median of ${ROUNDS:-3} alternating rounds of 10 s:"
  echo "  nginx $ng req/s, impsd $im req/s, ratio $(echo "$im / $ng" | bc -l | cut -c1-5); CPU per request nginx $ng_cpu us, impsd $im_cpu us"
  [ "$load" = own ] && half=$(echo "$im / 2" | bc)
done
[ -n "${RATE:-}" ] && half=$RATE
# Latency at half of impsd's maximum rate with connections carrying their own sessions:
# the same two clients (oha, one worker thread each, fixed rate, latency measured from the
# intended send time), in LATENCY_ROUNDS alternating rounds of 10 s (default: ROUNDS, or 1
# with RATE). Each client's percentiles are printed; a round's p99 is the larger of the two
# clients' (the p99 of the whole is at most that), and each server's median round is reported.
quarter=$(echo "$half / 2" | bc)
# One round of the two clients against port $1: each client's percentiles printed, the larger
# of their two p99s (ms) appended to file $2.
latency_round() {
  local port=$1 f pids=()
  for f in ka.xml ka1.xml; do
    oha -z 10s -c 32 -q "$quarter" --worker-threads 1 --latency-correction --no-tui -m POST \
      -H 'Content-Type: application/vnd.wv.csp.xml' -D "$work/$f" "http://127.0.0.1:$port/imps" \
      >"$work/oha-$f.txt" &
    pids+=($!)
  done
  wait "${pids[@]}"
  for f in ka.xml ka1.xml; do
    grep -E '50.00%|99.00%|99.90%' "$work/oha-$f.txt" | tr -s ' ' | paste -sd' ' | sed 's/^/ /'
  done
  cat "$work/oha-ka.xml.txt" "$work/oha-ka1.xml.txt" \
    | awk '/99.00%/ {if ($3 > m) m = $3} END {print m}' >>"$2"
}
latency_rounds=${LATENCY_ROUNDS:-$([ -n "${RATE:-}" ] && echo 1 || echo "$rounds")}
: >"$work/ng-p99.txt"
: >"$work/im-p99.txt"
for i in $(seq "$latency_rounds"); do
  for port in $ports; do
    echo "round $i, port $port at $half req/s from the two clients ($quarter req/s each):"
    case $port in 18081) server=ng ;; 18080) server=im ;; *) server=floor ;; esac
    latency_round "$port" "$work/$server-p99.txt"
  done
done
echo "p99 at $half req/s from the two clients, median of $latency_rounds alternating rounds: nginx $(median <"$work/ng-p99.txt") ms, impsd $(median <"$work/im-p99.txt") ms"
[ -s "$work/floor-p99.txt" ] && echo "  the smallest glommio server (FLOOR=1): $(median <"$work/floor-p99.txt") ms"
# The same rate from one client on one session: its shard's executor does all the work.
for port in 18081 18080; do
  echo "port $port at $half req/s from one client on one session (oha -c 64):"
  oha -z 10s -c 64 -q "$half" --latency-correction --no-tui -m POST \
    -H 'Content-Type: application/vnd.wv.csp.xml' -D "$work/ka.xml" "http://127.0.0.1:$port/imps" \
    | grep -E '50.00%|99.00%|99.90%' | tr -s ' ' | paste -sd' '
done
# Connections impsd handed over to the executor owning their session (engine/src/http/handover.rs).
curl -s http://127.0.0.1:18080/metrics \
  | awk '/^imps_http_connections_moved_out_total/ {n += $2} END {print "impsd connections moved to their session'"'"'s executor: " n + 0}'
