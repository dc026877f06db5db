// `driftwatch` from another build, for before/after comparisons (see DW_BENCH_DIST in common.js):
//   node benchmarks/lib/driftwatch-at.js <dist dir> <driftwatch arguments...>
// does what bin/driftwatch.js does with that build's cli/main.js.

import { join, resolve } from 'node:path'
import { pathToFileURL } from 'node:url'

const [dist, ...args] = process.argv.slice(2)
const { main } = await import(pathToFileURL(join(resolve(dist), 'cli', 'main.js')).href)
process.exitCode = await main(args)
