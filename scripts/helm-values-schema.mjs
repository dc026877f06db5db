// Writes helm/driftwatch/values.schema.json's `config` property from driftwatch's own config
// schema (`driftwatch config schema`), so `helm install` rejects a bad driftwatch.yaml before
// any pod starts. Run after changing src/config: `npm run build && node scripts/helm-values-schema.mjs`.
// test/unit/helm-chart.test.ts fails while the file is stale.

import { readFileSync, writeFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = join(dirname(fileURLToPath(import.meta.url)), '..')
const file = join(root, 'helm/driftwatch/values.schema.json')

/** The config schema as it sits in values.schema.json: without its own `$schema`. */
export async function configSchemaForValues() {
  const { serviceConfigJsonSchema } = await import(join(root, 'dist/config/service.js'))
  const schema = serviceConfigJsonSchema()
  delete schema.$schema
  return schema
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const values = JSON.parse(readFileSync(file, 'utf8'))
  values.properties.config = await configSchemaForValues()
  // Formatted as `npm run lint` wants it (prettier is a devDependency, like this script's use).
  const prettier = await import('prettier')
  const options = { ...(await prettier.resolveConfig(file)), filepath: file }
  writeFileSync(file, await prettier.format(JSON.stringify(values, null, 2), options))
  console.log(`wrote ${file}`)
}
