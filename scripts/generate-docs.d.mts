// Types of scripts/generate-docs.mjs, for the test that keeps the generated pages current.
import type { Registry } from 'prom-client'

export function renderConfigReference(schema: unknown): string
export function renderMetricsTable(registry: Registry): string
