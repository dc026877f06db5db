// A reference replaced through the admin API survives a restart of the service whose config still
// names the old reference file; a changed file is a new decision and replaces it. Real Kafka and
// Redis, the service in process (two starts on the same Redis key prefix).

import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { pino } from 'pino'
import { afterAll, describe, expect, it } from 'vitest'
import { startApp, type App } from '../../src/app/service.js'
import {
  createTopics,
  streamConfig,
  streamNames,
  testKafka,
  writeReference,
} from '../helpers/stream.js'

const adminToken = 'reference-restart-token'
let dir = ''
const apps: App[] = []

afterAll(async () => {
  for (const app of apps) await app.stop().catch(() => undefined)
  if (dir !== '') await rm(dir, { recursive: true, force: true })
})

async function referenceIdOf(app: App): Promise<string | null> {
  const response = await fetch(new URL('/api/models', app.httpUrl))
  const body = (await response.json()) as {
    models: Array<{ model: string; referenceId: string | null }>
  }
  return body.models.find((m) => m.model === 'fraud')?.referenceId ?? null
}

describe('a reference replaced through the admin API', () => {
  it('stays current across a restart, until the reference file changes', async () => {
    dir = await mkdtemp(join(tmpdir(), 'driftwatch-reference-restart-'))
    const names = streamNames()
    await createTopics(testKafka(), [{ topic: names.input, numPartitions: 1 }])
    const fileA = await writeReference(await mkdtemp(join(dir, 'a-')), 2000, 1)
    const replacement = await readFile(
      await writeReference(await mkdtemp(join(dir, 'b-')), 2000, 2),
      'utf8',
    )
    const fileC = await writeReference(await mkdtemp(join(dir, 'c-')), 2000, 3)
    const idOf = async (path: string): Promise<string> =>
      (JSON.parse(await readFile(path, 'utf8')) as { id: string }).id
    const start = async (referenceFile: string): Promise<App> => {
      const app = await startApp(streamConfig(names, referenceFile), {
        secrets: { adminToken },
        logger: pino({ level: 'silent' }),
      })
      apps.push(app)
      return app
    }

    let app = await start(fileA)
    expect(await referenceIdOf(app)).toBe(await idOf(fileA))

    const put = await fetch(new URL('/admin/models/fraud/reference', app.httpUrl), {
      method: 'PUT',
      headers: { 'content-type': 'application/json', authorization: `Bearer ${adminToken}` },
      body: replacement,
    })
    expect(put.status).toBe(200)
    const replacedId = ((await put.json()) as { id: string }).id
    expect(replacedId).not.toBe(await idOf(fileA))
    expect(await referenceIdOf(app)).toBe(replacedId)
    await app.stop()

    // Restart with the same, unchanged file: the operator's reference stands.
    app = await start(fileA)
    expect(await referenceIdOf(app)).toBe(replacedId)
    await app.stop()

    // Restart with a new file: it is applied.
    app = await start(fileC)
    expect(await referenceIdOf(app)).toBe(await idOf(fileC))
    await app.stop()
  })
})
