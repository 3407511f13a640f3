#!/bin/sh
# The namespace esxi-zfs runs in and its search attributes (ESXI_ZFS_SEARCH_ATTRIBUTES, name=Type
# pairs: core/search-attributes.ts); idempotent. The worker checks them too at start, but needs no
# operator rights when they are here already (a Temporal cluster or Temporal Cloud with narrow keys).
set -eu
: "${TEMPORAL_ADDRESS:?}" "${TEMPORAL_NAMESPACE:?}" "${ESXI_ZFS_SEARCH_ATTRIBUTES:?}"
attempts=${SETUP_ATTEMPTS:-30}
retry() {
  n=1
  until "$@"; do
    if [ "$n" -ge "$attempts" ]; then echo "gave up after $attempts attempts: $*" >&2; return 1; fi
    n=$((n + 1))
    sleep 5
  done
}
retry temporal operator cluster health --address "$TEMPORAL_ADDRESS"
if ! temporal operator namespace describe --address "$TEMPORAL_ADDRESS" -n "$TEMPORAL_NAMESPACE" >/dev/null 2>&1; then
  temporal operator namespace create --address "$TEMPORAL_ADDRESS" -n "$TEMPORAL_NAMESPACE" --retention "${TEMPORAL_NAMESPACE_RETENTION:-30d}"
fi
set --
for pair in $ESXI_ZFS_SEARCH_ATTRIBUTES; do set -- "$@" --name "${pair%%=*}" --type "${pair#*=}"; done
# A new namespace reaches the frontend's cache seconds after its creation: retried until then.
# Creating an attribute that exists with the same type succeeds; with another type it fails.
retry temporal operator search-attribute create --address "$TEMPORAL_ADDRESS" -n "$TEMPORAL_NAMESPACE" "$@"
echo "namespace $TEMPORAL_NAMESPACE ready with search attributes: $ESXI_ZFS_SEARCH_ATTRIBUTES"
