#!/usr/bin/env bash
# Debian's prometheus package (`prometheus` and `promtool`) for the scrape and alert-rule tests
# (test/integration/prometheus-scrape.int.test.ts, prometheus-rules.int.test.ts). The tests start
# their own Prometheus; the package's service is kept from running (install-service-package.sh).
set -euo pipefail
exec bash "$(dirname "${BASH_SOURCE[0]}")/install-service-package.sh" prometheus prometheus promtool
