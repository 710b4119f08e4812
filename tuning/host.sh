#!/usr/bin/env bash
# Host settings a large impsd deployment needs. Prints what it would change; changes
# nothing unless run with --apply (as root).
#
#   tuning/host.sh           # show current and wanted values
#   tuning/host.sh --apply   # apply them (sysctl + this shell's limits)
set -euo pipefail

apply=false
[[ "${1:-}" == "--apply" ]] && apply=true

# name | wanted | how to read | how to set
settings=(
  "fs.file-max|4194304"
  "fs.nr_open|4194304"
  "net.core.somaxconn|65535"
  "net.ipv4.tcp_max_syn_backlog|65535"
  "net.ipv4.ip_local_port_range|1024 65535"
  "net.ipv4.tcp_tw_reuse|1"
  "net.core.netdev_max_backlog|65535"
  "vm.max_map_count|1048576"
)

printf '%-32s %-20s %-20s\n' setting current wanted
for entry in "${settings[@]}"; do
  name=${entry%%|*}
  wanted=${entry#*|}
  current=$(sysctl -n "$name" 2>/dev/null | tr '\t' ' ' || echo "?")
  printf '%-32s %-20s %-20s\n' "$name" "$current" "$wanted"
  if $apply && [[ "$current" != "$wanted" ]]; then
    sysctl -q -w "$name=$wanted"
  fi
done

# Per-process limits: open files (one per client connection) and locked memory
# (glommio's io_uring buffers need at least 512 KiB; more shards want more).
printf '%-32s %-20s %-20s\n' "ulimit -n (open files)" "$(ulimit -n)" 1048576
printf '%-32s %-20s %-20s\n' "ulimit -l (locked memory, KiB)" "$(ulimit -l)" unlimited
if $apply; then
  ulimit -n 1048576 || echo "could not raise open files: set LimitNOFILE in the service unit" >&2
  ulimit -l unlimited || echo "could not raise locked memory: set LimitMEMLOCK=infinity" >&2
  echo "applied; start impsd from this shell, or put LimitNOFILE=1048576 and"
  echo "LimitMEMLOCK=infinity in its systemd unit"
else
  echo "nothing changed; run with --apply (as root) to apply"
fi
