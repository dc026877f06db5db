#!/usr/bin/env node
// First-use setup behind the README's two commands, `npm run demo` and `npm test`: on a fresh
// clone it installs what is missing and says what it installs; on a ready machine it checks in
// about a second and prints nothing. Plain Node with no dependencies, because it runs before
// `npm ci` has.
//
//   node scripts/bootstrap.mjs demo   redis-server, a JDK and Maven; npm packages; the Kafka jars
//   node scripts/bootstrap.mjs test   the same, plus what the tests use (Chromium, Prometheus,
//                                     pyarrow: scripts/install-system-deps.sh)

import { spawnSync } from 'node:child_process'
import { existsSync, readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const purpose = process.argv[2] === 'test' ? 'test' : 'demo'

function say(line) {
  process.stderr.write(`bootstrap: ${line}\n`)
}

function run(command, args, env = process.env) {
  const result = spawnSync(command, args, {
    cwd: root,
    env,
    stdio: ['ignore', 'inherit', 'inherit'],
  })
  if (result.status !== 0) {
    say(`${command} ${args.join(' ')} failed (exit ${result.status ?? result.signal})`)
    process.exit(1)
  }
}

function has(command) {
  return spawnSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' }).status === 0
}

const major = Number(process.versions.node.split('.')[0])
if (major < 20) {
  say(`Node ${process.versions.node} is too old: driftwatch needs Node 20 or newer`)
  process.exit(1)
}

// System packages. The demo needs Redis and a JDK with Maven (Kafka's jars come from Maven
// Central); the suite also renders pages in Chromium and runs promtool. The install script
// checks each one and installs only what is missing, so it runs whenever anything is.
// npm ci compiles the lz4 and zstd Kafka codecs (g++, make); the tests produce with kcat.
const needed = ['redis-server', 'java', 'mvn', 'g++', 'make']
if (purpose === 'test') needed.push('promtool', 'chromium', 'kcat')
const missing = needed.filter((command) => !has(command))
if (missing.length > 0 || (purpose === 'test' && !hasPyarrow())) {
  const what = missing.length > 0 ? missing.join(', ') : 'pyarrow'
  if (process.getuid?.() === 0) {
    say(`installing system packages (missing: ${what}) with scripts/install-system-deps.sh`)
    run('bash', ['scripts/install-system-deps.sh'])
  } else {
    say(`missing: ${what}. Run as root: bash scripts/install-system-deps.sh (Debian or Ubuntu)`)
    process.exit(1)
  }
}

// npm packages, when none are installed yet. (After pulling changes to package-lock.json, run
// `npm ci` yourself: reinstalling on every lock file change would wipe hand-installed packages.)
if (!existsSync(join(root, 'node_modules', '.package-lock.json'))) {
  say('installing npm packages (npm ci)')
  // @kafkajs/zstd's C++ bindings need C++17 with Node 20's headers.
  run('npm', ['ci', '--no-audit', '--no-fund', '--loglevel=error'], {
    ...process.env,
    CXXFLAGS: `${process.env.CXXFLAGS ?? ''} -std=c++17`.trim(),
  })
}

// The Kafka broker's jars from Maven Central, cached in .cache/kafka-libs.
const pom = readFileSync(join(root, 'scripts', 'kafka', 'pom.xml'), 'utf8')
const version = /<kafka\.version>([^<]+)<\/kafka\.version>/.exec(pom)?.[1] ?? ''
if (!existsSync(join(root, '.cache', 'kafka-libs', version, '.complete'))) {
  say(`downloading the Kafka ${version} jars from Maven Central into .cache/kafka-libs`)
  run('bash', ['scripts/fetch-kafka.sh'])
}

function hasPyarrow() {
  return spawnSync('python3', ['-c', 'import pyarrow.parquet'], { stdio: 'ignore' }).status === 0
}
