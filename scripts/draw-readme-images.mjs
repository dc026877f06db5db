#!/usr/bin/env node
// Draws the README's pictures with the tool itself, in headless Chromium (Debian's chromium,
// scripts/ci/install-chromium.sh; driven by playwright-core, a dev dependency):
//   docs/img/report-example.png   `driftwatch check --format html` on the README's example files
//                                 (test/fixtures/drift/dataset/reference.csv and current.csv)
//   docs/img/on-call.png          the detector's on-call page at `/`, from `driftwatch demo`
//                                 (local Kafka and Redis, or KAFKA_BROKERS / REDIS_URL), taken
//                                 once the staged drift in f01, f05 and f12 has lasted a while
//   docs/img/on-call-feature.png  the reference-vs-current page behind f01's link
//
// Usage: npm run build && node scripts/draw-readme-images.mjs [--only report|on-call]
// The pictures carry the time they were drawn (the report's "generated" line, the demo's
// window times), so each run changes the files; nothing else should change.

import { spawn, spawnSync } from 'node:child_process'
import { existsSync } from 'node:fs'
import { mkdtemp, mkdir, rm } from 'node:fs/promises'
import { createServer } from 'node:net'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { chromium } from 'playwright-core'

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const bin = join(root, 'bin', 'driftwatch.js')
const out = join(root, 'docs', 'img')
const CHROMIUM = '/usr/bin/chromium'
const LAUNCH_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run']

const onlyAt = process.argv.indexOf('--only')
const only = onlyAt < 0 ? null : process.argv[onlyAt + 1]
if (only !== null && only !== 'report' && only !== 'on-call') {
  console.error('draw-readme-images: --only takes report or on-call')
  process.exit(2)
}

function freePort() {
  return new Promise((done, failed) => {
    const server = createServer()
    server.once('error', failed)
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address()
      server.close(() => done(port))
    })
  })
}

async function drawReport(browser, dir) {
  const html = join(dir, 'report.html')
  const fixtures = join(root, 'test', 'fixtures', 'drift', 'dataset')
  const check = spawnSync(
    process.execPath,
    [
      bin,
      'check',
      '--reference',
      join(fixtures, 'reference.csv'),
      '--current',
      join(fixtures, 'current.csv'),
      '--format',
      'html',
      '--out',
      html,
    ],
    { encoding: 'utf8' },
  )
  // exit 1 is the verdict "dataset drift", which these files have
  if (check.status !== 0 && check.status !== 1) {
    throw new Error(`driftwatch check failed (exit ${check.status}):\n${check.stderr}`)
  }
  const page = await browser.newPage({ viewport: { width: 1200, height: 1480 } })
  await page.goto(`file://${html}`)
  await page.waitForSelector('svg.chart')
  await page.screenshot({ path: join(out, 'report-example.png') })
  await page.close()
  console.log('docs/img/report-example.png: driftwatch check --format html on the example files')
}

async function drawOnCall(browser) {
  const port = await freePort()
  const demo = spawn(
    process.execPath,
    [
      bin,
      'demo',
      '--rate',
      '2000',
      '--speed',
      '20',
      '--drift-after',
      '170s',
      '--port',
      String(port),
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  )
  let output = ''
  demo.stdout.on('data', (chunk) => (output += chunk.toString()))
  const exited = new Promise((done) => demo.once('exit', done))
  try {
    const base = `http://127.0.0.1:${port}/`
    const deadline = Date.now() + 300_000
    const wait = (ms) => new Promise((done) => setTimeout(done, ms))
    // Wait for the drift to be found, then for it to last ~8 windows (10 s hops, 20x: 4 s).
    for (;;) {
      if (Date.now() > deadline) throw new Error(`the demo found no drift in time:\n${output}`)
      if (demo.exitCode !== null) throw new Error(`the demo stopped:\n${output}`)
      const models = await fetch(`${base}api/models`)
        .then((r) => (r.ok ? r.json() : null))
        .catch(() => null)
      if (models?.models?.[0]?.severity === 'critical') break
      await wait(500)
    }
    await wait(4500)
    const page = await browser.newPage({ viewport: { width: 1280, height: 1000 } })
    await page.goto(base)
    await page.waitForSelector('svg.spark')
    await page.screenshot({ path: join(out, 'on-call.png') })
    await page.locator('tr[data-feature="f01"] a.picture').click()
    await page.waitForSelector('svg.chart')
    await page.screenshot({ path: join(out, 'on-call-feature.png'), fullPage: true })
    await page.close()
    console.log(
      'docs/img/on-call.png, docs/img/on-call-feature.png: the on-call page of driftwatch demo',
    )
  } finally {
    demo.kill('SIGINT')
    const timer = setTimeout(() => demo.kill('SIGKILL'), 60_000)
    await exited
    clearTimeout(timer)
  }
}

if (!existsSync(CHROMIUM)) {
  console.error(`draw-readme-images: ${CHROMIUM} not found; run scripts/ci/install-chromium.sh`)
  process.exit(1)
}
if (!existsSync(join(root, 'dist'))) {
  console.error('draw-readme-images: no dist/; run npm run build first')
  process.exit(1)
}
await mkdir(out, { recursive: true })
const dir = await mkdtemp(join(tmpdir(), 'driftwatch-draw-'))
const browser = await chromium.launch({ executablePath: CHROMIUM, args: LAUNCH_ARGS })
try {
  if (only !== 'on-call') await drawReport(browser, dir)
  if (only !== 'report') await drawOnCall(browser)
} finally {
  await browser.close()
  await rm(dir, { recursive: true, force: true })
}
