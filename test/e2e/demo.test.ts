// The README's first command, `npm run demo`, is `driftwatch demo`: run it fast (event time 20×
// the wall clock) against the suite's Kafka and Redis and check that the drift it stages is found.

import { describe, expect, it } from 'vitest'
import { runCli } from '../helpers/cli.js'
import { kafkaBrokers, redisUrl } from '../helpers/services.js'

describe('driftwatch demo', () => {
  it('reports the staged drift in f01, f05 and f12 and fires their alerts', async () => {
    const result = await runCli(
      [
        'demo',
        '--rate',
        '2000',
        '--speed',
        '20',
        '--drift-after',
        '90s',
        '--duration',
        '240s',
        '--port',
        '0',
      ],
      {
        env: { KAFKA_BROKERS: kafkaBrokers(), REDIS_URL: redisUrl() },
        timeoutMs: 150_000,
      },
    )
    expect(result.stderr).not.toMatch(/^driftwatch: error/m)
    expect(result.code).toBe(0)
    expect(result.stdout).toContain('detector running')
    const firing = [
      ...result.stdout.matchAll(/^FIRING\s+DriftwatchFeatureDrift (\S+) severity=critical/gm),
    ].map((m) => m[1])
    expect(firing.sort()).toEqual(['f01', 'f05', 'f12'])
    expect(result.stdout).toMatch(/^report .*critical: f01, f05, f12$/m)
  }, 180_000)
})
