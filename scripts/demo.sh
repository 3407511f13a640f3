#!/usr/bin/env bash
# The demo: a lab of two storage hosts with the vSphere simulator (one ESXi host each, the X1 on
# each), the worker with its embedded Temporal dev server, then through the CLI: validate, provision
# the cluster from bare hosts with its live display (passthrough through a 5 s simulated reboot,
# storage network, storage VM, pool and shares, NFS datastores, replication trust, schedules), again
# (nothing changes), the shares proved from a hypervisor, a full and an incremental replication with
# live progress, schedules, status, then test-san-01 lost: a failover of its dataset, the data read
# from the surviving hypervisor, and the summary.
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

step "lab up: storage hosts with their own sshd and zfs-fuse, the vSphere simulator with one ESXi host each"
cli lab up --hosts 2 --vsphere --reboot-seconds 5
# The inventory names the simulator's password by a variable: the worker resolves it, never the workflow.
export ESXI_ZFS_LAB_VSPHERE_PASSWORD="$(cat "$LAB/vsphere/password")"

step "worker (embedded Temporal dev server, SQLite in .data/, UI on :8233)"
mkdir -p .data
NODE_OPTIONS=--max-semi-space-size=2 bin/esxi-zfs.js worker > .data/worker.log 2>&1 &
worker_pid=$!
for _ in $(seq 1 120); do
  grep -q 'worker running' .data/worker.log 2>/dev/null && break
  kill -0 "$worker_pid" 2>/dev/null || { cat .data/worker.log; exit 1; }
  sleep 0.5
done
grep 'worker running\|Temporal UI' .data/worker.log

step "validate the lab inventory"
cli validate "$INV"

ssh_host() {
  ssh -q -i "$LAB/id_ed25519" -o UserKnownHostsFile="$LAB/known_hosts" -o StrictHostKeyChecking=yes "root@$1" "$2"
}
state() { node -e "const s=require('./$LAB/state.json'); console.log($1)"; }
addr() { state "s.hosts[$1].address"; }
vol() { state "'/export/' + s.hosts[$1].name + '-nas-vol$1'"; }
# A hypervisor's view of a share over the storage network: libnfs in its namespace, NFSv3 as ESXi mounts.
nfs_ls() {
  ip netns exec "$(state "s.hypervisors.find((h) => h.name === '$1').netns")" \
    nfs-ls "nfs://$(state "s.hosts[$2].storageAddress")$(vol "$2")?version=3&nfsport=2049&mountport=20048"
}

step "provision the cluster from bare hosts: passthrough and a 5 s reboot, storage network, storage VM, pool and shares, datastores, trust, schedules"
cli provision "$INV" --wait

step "provision again: everything is in place, nothing changes"
cli provision "$INV" --wait

step "the shares from the hypervisors: vh1 lists vol0 on $(state 's.hosts[0].name') over the storage network"
ssh_host "$(addr 0)" "head -c 67108864 /dev/urandom > $(vol 0)/disk.vmdk"
nfs_ls vh1 0
if nfs_ls outsider 0 >/dev/null 2>&1; then echo "the outsider (on no access list) could list the share" >&2; exit 1; fi
echo "the lab's outsider, an address on no access list, is refused"

step "replicate sp1/nas/vol0 to test-san-02 (full), then again (incremental)"
cli replicate "$INV" --dataset sp1/nas/vol0 --wait
ssh_host "$(addr 0)" "head -c 8388608 /dev/urandom > $(vol 0)/changed.bin"
cli replicate "$INV" --dataset sp1/nas/vol0 --wait
replicated_sum="$(ssh_host "$(addr 0)" "md5sum < $(vol 0)/changed.bin")"

step "schedules: one per replicated dataset (59 23 * * * America/Chicago), made by provisioning"
cli schedules list

step "status: the whole cluster in one view (exit 0: healthy)"
cli status "$INV"

step "test-san-01 is lost: it no longer answers (the lab stops its sshd)"
node --require tsx/cjs lab/vsphere-hook.ts --dir "$LAB" vm-off test-san-01 test-san-01

step "failover of sp1/nas/vol0: schedules paused, replica fenced, the newest replicated snapshot cloned and shared on test-san-02, mounted as a recovered datastore on vh2"
cli failover "$INV" --dataset sp1/nas/vol0 --wait

step "the data from the surviving hypervisor vh2: the recovered copy over NFS at test-san-02's storage address"
vh2_ns="$(state "s.hypervisors.find((h) => h.name === 'vh2').netns")"
recovered="nfs://$(state "s.hosts[1].storageAddress")$(vol 0)"
ip netns exec "$vh2_ns" nfs-ls "$recovered?version=3&nfsport=2049&mountport=20048"
read_sum="$(ip netns exec "$vh2_ns" nfs-cat "$recovered/changed.bin?version=3&nfsport=2049&mountport=20048" | md5sum)"
[ "${read_sum%% *}" = "${replicated_sum%% *}" ] || { echo "changed.bin read from vh2 differs from what test-san-01 replicated" >&2; exit 1; }
echo "changed.bin read over NFS from vh2: md5 ${read_sum%% *}, the same as on test-san-01 before it was lost"

step "summary: hosts, storage VMs, pools, datasets, datastores and replication (exit 1 now: test-san-01 is down)"
cli status "$INV" || true

echo
echo "Temporal UI: http://127.0.0.1:8233/namespaces/default/workflows"
if [ -t 0 ] && [ -z "${CI:-}" ]; then
  echo "Everything is still running. Press Ctrl-C to stop the worker, the Temporal server and the lab."
  wait "$worker_pid"
fi
