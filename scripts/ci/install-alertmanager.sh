#!/usr/bin/env bash
# Installs Debian's prometheus-alertmanager package (which ships both `prometheus-alertmanager`
# and `amtool`) for the Alertmanager tests: test/integration/alertmanager.int.test.ts checks
# deploy/alertmanager/alertmanager.yml with `amtool check-config`, and runs a real Alertmanager
# behind a real Prometheus and behind driftwatch's own Alertmanager sink. Idempotent and quiet:
# does nothing when both binaries are already on PATH, prints only on failure.
#
# The tests start their own Alertmanager on free ports with a temporary config and data
# directory, so the package's system service must not run: it would hold :9093 and :9094.
# As in scripts/ci/install-prometheus.sh, a policy-rc.d answering 101 ("action forbidden") keeps
# services from starting during the install when the machine has none already; afterwards the
# service is stopped if it is running anyway.
set -euo pipefail

if command -v prometheus-alertmanager > /dev/null 2>&1 && command -v amtool > /dev/null 2>&1; then
  exit 0
fi

sudo=()
if [[ "$(id -u)" -ne 0 ]]; then
  if command -v sudo > /dev/null 2>&1; then
    sudo=(sudo -n)
  else
    echo "install-alertmanager: not root and no sudo; install the 'prometheus-alertmanager' package by hand" >&2
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
  printf '#!/bin/sh\n# temporary, from driftwatch scripts/ci/install-alertmanager.sh\nexit 101\n' |
    "${sudo[@]}" tee "$policy" > /dev/null
  "${sudo[@]}" chmod 0755 "$policy"
  made_policy=1
fi

export DEBIAN_FRONTEND=noninteractive
if ! { "${sudo[@]}" apt-get update -qq &&
  "${sudo[@]}" apt-get install -y -qq --no-install-recommends prometheus-alertmanager; } > "$log" 2>&1; then
  cat "$log" >&2
  echo "install-alertmanager: apt-get failed" >&2
  exit 1
fi

# If an init system started the packaged service anyway, stop it (by its own service
# definition, not by process name).
if command -v systemctl > /dev/null 2>&1 && systemctl is-active --quiet prometheus-alertmanager 2> /dev/null; then
  "${sudo[@]}" systemctl stop prometheus-alertmanager > /dev/null 2>&1 || true
  "${sudo[@]}" systemctl disable prometheus-alertmanager > /dev/null 2>&1 || true
elif [[ -x /etc/init.d/prometheus-alertmanager ]] && "${sudo[@]}" /etc/init.d/prometheus-alertmanager status > /dev/null 2>&1; then
  "${sudo[@]}" /etc/init.d/prometheus-alertmanager stop > /dev/null 2>&1 || true
fi

for bin in prometheus-alertmanager amtool; do
  if ! command -v "$bin" > /dev/null 2>&1; then
    echo "install-alertmanager: apt-get succeeded but '$bin' is not on PATH" >&2
    exit 1
  fi
done
