#!/usr/bin/env bash
# Installs Debian's chromium (and the fonts it renders with) for the page tests in headless
# Chromium (test/integration/*.browser.test.ts, test/e2e/on-call-page.test.ts) and for
# scripts/draw-readme-images.mjs. Idempotent and quiet: does nothing when
# /usr/bin/chromium already exists, prints only on failure.
set -euo pipefail

if [[ -x /usr/bin/chromium ]]; then
  exit 0
fi

sudo=()
if [[ "$(id -u)" -ne 0 ]]; then
  if command -v sudo > /dev/null 2>&1; then
    sudo=(sudo -n)
  else
    echo "install-chromium: not root and no sudo; install the 'chromium' package by hand" >&2
    exit 1
  fi
fi

log="$(mktemp)"
trap 'rm -f "$log"' EXIT
export DEBIAN_FRONTEND=noninteractive
if ! { "${sudo[@]}" apt-get update -qq &&
  "${sudo[@]}" apt-get install -y -qq --no-install-recommends \
    chromium fonts-liberation fonts-dejavu-core; } > "$log" 2>&1; then
  cat "$log" >&2
  echo "install-chromium: apt-get failed" >&2
  exit 1
fi

if [[ ! -x /usr/bin/chromium ]]; then
  echo "install-chromium: apt-get succeeded but /usr/bin/chromium is missing" >&2
  exit 1
fi
