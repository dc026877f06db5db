#!/usr/bin/env bash
# Debian's prometheus-alertmanager package (`prometheus-alertmanager` and `amtool`) for
# test/integration/alertmanager.int.test.ts: `amtool check-config` on
# deploy/alertmanager/alertmanager.yml, and a real Alertmanager behind Prometheus and behind
# driftwatch's own sink. The test starts its own; the package's service is kept from running
# (install-service-package.sh).
set -euo pipefail
exec bash "$(dirname "${BASH_SOURCE[0]}")/install-service-package.sh" prometheus-alertmanager prometheus-alertmanager amtool
