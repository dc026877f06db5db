#!/usr/bin/env bash
# Puts Apicurio Registry (a Confluent-compatible schema registry, Quarkus app) unpacked in
# .cache/apicurio/<version>/ and prints that directory as the only line on stdout (everything
# else goes to stderr), so .ci/run and src/adapters/local-services/apicurio.ts share one download.
# The archive comes from Maven Central through `mvn dependency:copy` (kept in ~/.m2 as well).
# The last line of .complete names the jar to run, relative to that directory.
# Does nothing when the cache is complete.
set -euo pipefail

# 3.0.9: the newest 3.x that runs on Java 17 (Debian's JDK); 3.1 and later are built for Java 21.
version="${APICURIO_VERSION:-3.0.9}"
repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
root="$repo_root/.cache/apicurio"
dest="$root/$version"
marker="$dest/.complete"

is_complete() { [[ -f "$marker" ]]; }

if is_complete; then
  echo "$dest"
  exit 0
fi

if ! command -v mvn > /dev/null 2>&1; then
  echo "fetch-apicurio: 'mvn' not found; install Maven (apt-get install -y maven) and a JDK 17+" >&2
  exit 127
fi

mkdir -p "$root"
exec 9> "$root/.lock"
flock 9
if is_complete; then
  echo "$dest"
  exit 0
fi

tmp="$(mktemp -d "$root/.$version.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
echo "fetch-apicurio: downloading io.apicurio:apicurio-registry-app:$version (about 160 MB) into $dest" >&2
started=$SECONDS
mvn -q -B dependency:copy \
  "-Dartifact=io.apicurio:apicurio-registry-app:$version:tar.gz:all" \
  "-DoutputDirectory=$tmp" 2>&1 | sed -e 's/\x1b\[[0-9;]*m//g' >&2
archive="$tmp/apicurio-registry-app-$version-all.tar.gz"
if [[ ! -f "$archive" ]]; then
  echo "fetch-apicurio: mvn finished but $archive is missing" >&2
  exit 1
fi
tar -xzf "$archive" -C "$tmp"
rm -f "$archive"
# 3.0.x ships apicurio-registry-app-<version>-runner.jar at the archive root, 3.3.x quarkus-run.jar.
run_jar="$(find "$tmp" -maxdepth 3 \( -name quarkus-run.jar -o -name 'apicurio-registry-app-*-runner.jar' \) | head -n 1)"
if [[ -z "$run_jar" ]]; then
  echo "fetch-apicurio: no runnable jar in the archive" >&2
  exit 1
fi
echo "${run_jar#"$tmp"/}" > "$tmp/.complete"
rm -rf "$dest"
mv "$tmp" "$dest"
trap - EXIT
echo "fetch-apicurio: unpacked in $((SECONDS - started)) s" >&2
echo "$dest"
