#!/usr/bin/env bash
# The demo: a lab of two storage hosts, the worker with its embedded Temporal dev server, then the
# runbook's steps through the CLI: validate, probe, replication trust, a full and an incremental
# replication with live progress, schedules, status, and a clone of the replica for testing.
# Leaves everything running for the Temporal UI while attached to a terminal (Ctrl-C stops it);
# without a terminal (CI) it stops everything at the end. Run as root: the lab makes namespaces.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh

cli() { node bin/esxi-zfs.js "$@"; }
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
LAB=.data/lab
INV=$LAB/inventory.yaml
worker_pid=

stop() {
  if [ -n "$worker_pid" ] && kill -0 "$worker_pid" 2>/dev/null; then
    kill -TERM "$worker_pid"
    wait "$worker_pid" || true
  fi
  cli lab down >/dev/null || true
}
trap stop EXIT
trap 'exit 130' INT TERM

step "lab up: storage hosts with their own sshd and zfs-fuse"
cli lab up --hosts 2

step "worker (embedded Temporal dev server, SQLite in .data/, UI on :8233)"
mkdir -p .data
bin/esxi-zfs.js worker > .data/worker.log 2>&1 &
worker_pid=$!
for _ in $(seq 1 120); do
  grep -q 'worker running' .data/worker.log 2>/dev/null && break
  kill -0 "$worker_pid" 2>/dev/null || { cat .data/worker.log; exit 1; }
  sleep 0.5
done
grep 'worker running\|Temporal UI' .data/worker.log

step "validate the lab inventory"
cli validate "$INV"

step "probe: OS, ZFS version, pools and disks of every storage host"
cli probe "$INV"

step "pools and datasets (the configureStorage runbook's part, by hand until it exists)"
ssh_host() {
  ssh -q -i "$LAB/id_ed25519" -o UserKnownHostsFile="$LAB/known_hosts" -o StrictHostKeyChecking=yes "root@$1" "$2"
}
addr() { node -e "const s=require('./$LAB/state.json'); console.log(s.hosts[$1].address)"; }
ssh_host "$(addr 0)" 'zpool list sp1 >/dev/null 2>&1 || zpool create sp1 /srv/disks/c8t1d0 log /srv/disks/c11t0d0 cache /srv/disks/c9t0d0; zfs create -p sp1/nas/vol0; zfs set sharenfs=rw,nosuid,root=vh1-nas:vh2-nas sp1/nas/vol0 2>/dev/null || true; head -c 67108864 /dev/urandom > /sp1/nas/vol0/disk.vmdk'
ssh_host "$(addr 1)" 'zpool list sp2 >/dev/null 2>&1 || zpool create sp2 /srv/disks/c8t1d0 log /srv/disks/c11t0d0; zfs create -p sp2/nas/vol1'
echo "sp1 on $(addr 0), sp2 on $(addr 1)"

step "replication trust: zfsadm, keys made on each host, receive guard, pinned host keys"
cli trust "$INV" --wait

step "replicate sp1/nas/vol0 to test-san-02 (full), then again (incremental)"
cli replicate "$INV" --dataset sp1/nas/vol0 --wait
ssh_host "$(addr 0)" 'head -c 8388608 /dev/urandom > /sp1/nas/vol0/changed.bin'
cli replicate "$INV" --dataset sp1/nas/vol0 --wait

step "schedules: one per replicated dataset (59 23 * * * America/Chicago)"
cli schedules apply "$INV"
cli schedules list

step "status"
cli status "$INV"

step "clone the replica for testing (the replica itself is never written)"
cli clone-replica "$INV" --dataset sp1/nas/vol0

echo
echo "Temporal UI: http://127.0.0.1:8233/namespaces/default/workflows"
if [ -t 0 ] && [ -z "${CI:-}" ]; then
  echo "Everything is still running. Press Ctrl-C to stop the worker, the Temporal server and the lab."
  wait "$worker_pid"
fi
