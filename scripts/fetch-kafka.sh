#!/usr/bin/env bash
# Puts a runnable Kafka broker classpath in .cache/kafka-libs/<kafka.version>/ and prints
# that directory as the only line on stdout (everything else goes to stderr), so both
# .ci/run and src/adapters/local-services/kafka.ts share one download and one cache.
# Does nothing when the cache is complete for the current scripts/kafka/pom.xml.
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
pom="$repo_root/scripts/kafka/pom.xml"
version="$(sed -n 's:.*<kafka.version>\(.*\)</kafka.version>.*:\1:p' "$pom" | head -n 1)"
if [[ -z "$version" ]]; then
  echo "fetch-kafka: no <kafka.version> in $pom" >&2
  exit 1
fi

libs_root="$repo_root/.cache/kafka-libs"
dest="$libs_root/$version"
marker="$dest/.complete"
# The marker holds the pom's hash, so editing the binding or log4j version refetches
# even when kafka.version stays the same.
pom_hash="$(sha256sum "$pom" | cut -d ' ' -f 1)"

is_complete() { [[ -f "$marker" && "$(cat "$marker")" == "$pom_hash" ]]; }

if is_complete; then
  echo "$dest"
  exit 0
fi

if ! command -v mvn > /dev/null 2>&1; then
  echo "fetch-kafka: 'mvn' not found; install Maven (apt-get install -y maven) and a JDK 17+" >&2
  exit 127
fi

mkdir -p "$libs_root"
# vitest's global setup and a CI step may both get here at once: one downloads, the
# other waits and then finds the marker.
exec 9> "$libs_root/.lock"
flock 9
if is_complete; then
  echo "$dest"
  exit 0
fi

tmp="$(mktemp -d "$libs_root/.$version.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
echo "fetch-kafka: downloading kafka_2.13 $version and its runtime dependencies into $dest" >&2
started=$SECONDS
# Maven 3.8 prints colour resets even with -B; strip them from the log.
mvn -q -B -f "$pom" dependency:copy-dependencies \
  -DincludeScope=runtime -DoutputDirectory="$tmp" 2>&1 | sed -e 's/\x1b\[[0-9;]*m//g' >&2
if ! compgen -G "$tmp/kafka_2.13-$version.jar" > /dev/null; then
  echo "fetch-kafka: mvn finished but kafka_2.13-$version.jar is missing from $tmp" >&2
  exit 1
fi
echo "$pom_hash" > "$tmp/.complete"
rm -rf "$dest"
mv "$tmp" "$dest"
trap - EXIT
echo "fetch-kafka: $(find "$dest" -name '*.jar' | wc -l) jars in $((SECONDS - started)) s" >&2
echo "$dest"
