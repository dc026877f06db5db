#!/usr/bin/env bash
# Installs a Debian package that ships a daemon, for tests that start their own copy of it:
#   install-service-package.sh <package> <binary>...
# Idempotent and quiet: does nothing when every binary is already on PATH, prints only on failure.
#
# The tests start the daemon themselves on free ports with a temporary config and data directory,
# so the package's system service must not run (it would hold the default ports). Services are
# kept from starting during the install with a policy-rc.d that answers 101 ("action forbidden"),
# the mechanism invoke-rc.d consults, when the machine has none already (Docker images usually
# do); afterwards the service is stopped if it is running anyway.
set -euo pipefail

package=$1
shift
binaries=("$@")

all_present=1
for bin in "${binaries[@]}"; do
  command -v "$bin" > /dev/null 2>&1 || all_present=0
done
[[ "$all_present" -eq 1 ]] && exit 0

sudo=()
if [[ "$(id -u)" -ne 0 ]]; then
  if command -v sudo > /dev/null 2>&1; then
    sudo=(sudo -n)
  else
    echo "install $package: not root and no sudo; install the '$package' package by hand" >&2
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
  printf '#!/bin/sh\n# temporary, from driftwatch scripts/ci/install-service-package.sh\nexit 101\n' |
    "${sudo[@]}" tee "$policy" > /dev/null
  "${sudo[@]}" chmod 0755 "$policy"
  made_policy=1
fi

export DEBIAN_FRONTEND=noninteractive
# --no-install-recommends: recommended packages bring more daemons (prometheus-node-exporter).
if ! { "${sudo[@]}" apt-get update -qq &&
  "${sudo[@]}" apt-get install -y -qq --no-install-recommends "$package"; } > "$log" 2>&1; then
  cat "$log" >&2
  echo "install $package: apt-get failed" >&2
  exit 1
fi

# If an init system started the packaged service anyway, stop it (by its own service definition,
# not by process name).
if command -v systemctl > /dev/null 2>&1 && systemctl is-active --quiet "$package" 2> /dev/null; then
  "${sudo[@]}" systemctl stop "$package" > /dev/null 2>&1 || true
  "${sudo[@]}" systemctl disable "$package" > /dev/null 2>&1 || true
elif [[ -x "/etc/init.d/$package" ]] && "${sudo[@]}" "/etc/init.d/$package" status > /dev/null 2>&1; then
  "${sudo[@]}" "/etc/init.d/$package" stop > /dev/null 2>&1 || true
fi

for bin in "${binaries[@]}"; do
  if ! command -v "$bin" > /dev/null 2>&1; then
    echo "install $package: apt-get succeeded but '$bin' is not on PATH" >&2
    exit 1
  fi
done
