// The Dockerfile's promises, read from the file (no Docker engine here): two stages, the runtime
// one without dev dependencies and running as a numeric non-root user, a health check on
// /healthz, the metrics port exposed, and a .dockerignore that keeps local state out.

import { readdirSync, readFileSync } from 'node:fs'
import { builtinModules } from 'node:module'
import { join, resolve } from 'node:path'
import { describe, expect, it } from 'vitest'
import { serviceConfigSchema } from '../../src/config/service.js'

const root = resolve(import.meta.dirname, '../..')

interface Instruction {
  readonly op: string
  readonly args: string
}

function instructions(text: string): Instruction[] {
  return text
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '' && !line.startsWith('#'))
    .map((line) => {
      const [op = '', ...rest] = line.split(/\s+/)
      return { op: op.toUpperCase(), args: rest.join(' ') }
    })
}

describe('Dockerfile', () => {
  const all = instructions(readFileSync(resolve(root, 'Dockerfile'), 'utf8'))
  const lastFrom = all.map((i) => i.op).lastIndexOf('FROM')
  const runtime = all.slice(lastFrom)

  it('is multi-stage: dependencies are built in one stage, the runtime copies dist/ from it', () => {
    const froms = all.filter((i) => i.op === 'FROM')
    expect(froms.length).toBeGreaterThanOrEqual(2)
    const buildStage = /\bAS\s+(\S+)/i.exec(froms[0]?.args ?? '')?.[1]
    expect(buildStage).toBeDefined()
    expect(runtime.some((i) => i.op === 'COPY' && i.args.includes(`--from=${buildStage}`))).toBe(
      true,
    )
    const installs = runtime.filter((i) => i.op === 'RUN' && /\bnpm (ci|install)\b/.test(i.args))
    expect(installs.length).toBeGreaterThan(0)
    for (const i of installs) expect(i.args).toMatch(/--omit=dev/)
    // Node 20 or newer, as package.json's engines say
    for (const f of froms) expect(f.args).toMatch(/^node:(2\d|[3-9]\d)\b/)
  })

  it('runs as a numeric non-root user', () => {
    const users = runtime.filter((i) => i.op === 'USER')
    expect(users.length).toBeGreaterThan(0)
    const last = users.at(-1)?.args ?? ''
    const [uid, gid] = last.split(':')
    expect(uid).toMatch(/^\d+$/)
    expect(Number(uid)).toBeGreaterThan(0)
    if (gid !== undefined) expect(Number(gid)).toBeGreaterThan(0)
    // nothing after USER switches back
    const afterUser = runtime.slice(runtime.indexOf(users.at(-1) as Instruction))
    expect(afterUser.filter((i) => i.op === 'USER')).toHaveLength(1)
  })

  it('checks /healthz and exposes the default HTTP port', () => {
    const defaultPort = serviceConfigSchema.shape.http.parse({}).port
    const health = runtime.filter((i) => i.op === 'HEALTHCHECK')
    expect(health).toHaveLength(1)
    expect(health[0]?.args).toContain('/healthz')
    expect(health[0]?.args).toContain(String(defaultPort))
    expect(runtime.filter((i) => i.op === 'EXPOSE').map((i) => i.args)).toContain(
      String(defaultPort),
    )
    // reachable from outside the container
    expect(runtime.find((i) => i.op === 'ENV')?.args).toMatch(/DRIFTWATCH_HTTP_HOST=0\.0\.0\.0/)
  })

  it('.dockerignore keeps node_modules, build output and caches out of the context', () => {
    const ignored = readFileSync(resolve(root, '.dockerignore'), 'utf8')
      .split('\n')
      .map((l) => l.trim())
    for (const entry of ['node_modules', 'dist', '.cache', '.git']) expect(ignored).toContain(entry)
    // …but not what the Dockerfile copies
    const copied = all
      .filter((i) => i.op === 'COPY' && !i.args.includes('--from='))
      .flatMap((i) => i.args.split(/\s+/).slice(0, -1))
    for (const path of copied) expect(ignored, path).not.toContain(path.replace(/^\.\//, ''))
  })

  it('the runtime stage has every package src/ imports (it installs production dependencies only)', () => {
    const pkg = JSON.parse(readFileSync(resolve(root, 'package.json'), 'utf8')) as {
      dependencies: Record<string, string>
    }
    const files = (dir: string): string[] =>
      readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
        e.isDirectory()
          ? files(join(dir, e.name))
          : e.name.endsWith('.ts')
            ? [join(dir, e.name)]
            : [],
      )
    const imported = new Set<string>()
    for (const file of files(resolve(root, 'src'))) {
      const text = readFileSync(file, 'utf8')
      for (const [, fromSpec, dynamicSpec] of text.matchAll(
        /\bfrom '([^'.][^']*)'|\bimport\('([^'.][^']*)'\)/g,
      )) {
        const spec = fromSpec ?? dynamicSpec
        if (spec === undefined || spec.startsWith('node:') || builtinModules.includes(spec))
          continue
        const parts = spec.split('/')
        imported.add(spec.startsWith('@') ? parts.slice(0, 2).join('/') : (parts[0] as string))
      }
    }
    expect(imported.size).toBeGreaterThan(5)
    for (const name of imported) expect(Object.keys(pkg.dependencies), name).toContain(name)
  })
})
