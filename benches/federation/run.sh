#!/bin/sh
# IM throughput across an SSP federation link between two impsd on this machine.
# Usage: benches/federation/run.sh [CLIENTS] [MESSAGES_PER_CLIENT]
set -eu
cd "$(dirname "$0")/../.."
cargo build --release -p imps-engine --bin impsd
cargo build --release -p imps-benches --bin federation-im
target="${CARGO_TARGET_DIR:-target}"
exec "$target/release/federation-im" "$target/release/impsd" "$@"
