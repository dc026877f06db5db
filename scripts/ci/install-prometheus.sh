#!/usr/bin/env bash
# Installs Debian's prometheus package (which ships both `prometheus` and `promtool`) for the
# scrape and alert-rule tests: test/integration/prometheus-scrape.int.test.ts and
# test/integration/prometheus-rules.int.test.ts. Idempotent and quiet: does nothing when both
# binaries are already on PATH, prints only on failure.
#
# The tests start their own prometheus on a free port with a temporary config and data
# directory, so the package's system service must not run: it would hold :9090 and scrape
# nothing of ours. Services are kept from starting during the install with a policy-rc.d that
# answers 101 ("action forbidden"), the mechanism invoke-rc.d consults, when the machine has
# none already (Docker images usually do); afterwards the service is stopped if it is running.
set -euo pipefail

if command -v prometheus > /dev/null 2>&1 && command -v promtool > /dev/null 2>&1; then
  exit 0
fi

sudo=()
if [[ "$(id -u)" -ne 0 ]]; then
  if command -v sudo > /dev/null 2>&1; then
    sudo=(sudo -n)
  else
    echo "install-prometheus: not root and no sudo; install the 'prometheus' package by hand" >&2
    exit 1
  fi
fi

log="$(mktemp)"
policy=/usr/sbin/policy-rc.d
made_policy=0
cleanup() {
  rm -f "$log"
  if [[ "$made_policy" -eq 1 ]]; then
    "${sudo[@]}" rm -f "$policy"
  fi
}
trap cleanup EXIT

if [[ ! -e "$policy" ]]; then
  printf '#!/bin/sh\n# temporary, from driftwatch scripts/ci/install-prometheus.sh\nexit 101\n' |
    "${sudo[@]}" tee "$policy" > /dev/null
  "${sudo[@]}" chmod 0755 "$policy"
  made_policy=1
fi

export DEBIAN_FRONTEND=noninteractive
# --no-install-recommends: the recommended prometheus-node-exporter is another daemon we don't want.
if ! { "${sudo[@]}" apt-get update -qq &&
  "${sudo[@]}" apt-get install -y -qq --no-install-recommends prometheus; } > "$log" 2>&1; then
  cat "$log" >&2
  echo "install-prometheus: apt-get failed" >&2
  exit 1
fi

# Belt and braces: if an init system started the packaged service anyway, stop it (by its own
# service definition, not by process name).
if command -v systemctl > /dev/null 2>&1 && systemctl is-active --quiet prometheus 2> /dev/null; then
  "${sudo[@]}" systemctl stop prometheus > /dev/null 2>&1 || true
  "${sudo[@]}" systemctl disable prometheus > /dev/null 2>&1 || true
elif [[ -x /etc/init.d/prometheus ]] && "${sudo[@]}" /etc/init.d/prometheus status > /dev/null 2>&1; then
  "${sudo[@]}" /etc/init.d/prometheus stop > /dev/null 2>&1 || true
fi

for bin in prometheus promtool; do
  if ! command -v "$bin" > /dev/null 2>&1; then
    echo "install-prometheus: apt-get succeeded but '$bin' is not on PATH" >&2
    exit 1
  fi
done
