#!/usr/bin/env bash
# System packages driftwatch's tests and demo need, from Debian: redis-server, a JDK and Maven
# (the local Kafka broker and Apicurio Registry), kcat (an independent Kafka client for the
# compression and Avro tests), a C++ toolchain (the lz4 and zstd codecs compile at npm ci),
# Chromium (HTML report checks), Prometheus/promtool (scrape and rule tests) and Alertmanager/amtool
# (alert delivery tests). Idempotent and quiet: installs only what is missing. Run as root (CI does).
set -Eeuo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
export DEBIAN_FRONTEND=noninteractive

missing=()
command -v redis-server > /dev/null || missing+=(redis-server)
command -v java > /dev/null || missing+=(openjdk-17-jre-headless)
command -v mvn > /dev/null || missing+=(maven)
command -v openssl > /dev/null || missing+=(openssl)
command -v kcat > /dev/null || missing+=(kcat)
command -v g++ > /dev/null || missing+=(g++)
command -v make > /dev/null || missing+=(make)
if [[ ${#missing[@]} -gt 0 ]]; then
  log="$(mktemp)"
  echo "apt-get install ${missing[*]}"
  { apt-get update -qq && apt-get install -y -qq --no-install-recommends "${missing[@]}"; } > "$log" 2>&1 || { cat "$log" >&2; exit 1; }
  rm -f "$log"
else
  echo 'redis-server, java, mvn, openssl, kcat, g++ and make already installed'
fi
# pyarrow writes the big Parquet files of the streaming-memory test and the benchmarks.
if ! python3 -c 'import pyarrow.parquet' 2> /dev/null; then
  echo 'pip install pyarrow==26.0.1'
  python3 -m pip install --quiet 'pyarrow==26.0.1' || python3 -m pip install --quiet --break-system-packages 'pyarrow==26.0.1'
fi
bash scripts/ci/install-chromium.sh
bash scripts/ci/install-prometheus.sh
bash scripts/ci/install-alertmanager.sh
if ! command -v node > /dev/null || ! command -v npm > /dev/null; then
  echo 'node and npm (Node 20+) are required and not installed' >&2
  exit 1
fi
echo "node $(node --version), $(java -version 2>&1 | head -n 1), $(redis-server --version | cut -d ' ' -f 1-3)"
