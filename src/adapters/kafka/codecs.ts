// Kafka compression codecs. kafkajs reads gzip by itself; snappy, lz4 and zstd need a codec
// registered in its process-wide CompressionCodecs table, else a compressed batch stops the
// consumer ("not implemented"). Registered once, on the first Kafka client we build, so every
// consumer reads topics in any codec and producers can write them (`kafka.compression`).
//
// kafkajs-snappy is pure JavaScript; kafkajs-lz4 (lz4) and @kafkajs/zstd (cppzst) compile
// native code at install (g++, make and python3; zstd needs CXXFLAGS=-std=c++17 on Node 20,
// which .ci/run sets). None ships TypeScript types, so they are loaded untyped here.

import { createRequire } from 'node:module'
import kafkajs from 'kafkajs'

// kafkajs is CommonJS, and Node's ESM loader does not see these two as named exports.
const { CompressionCodecs, CompressionTypes } = kafkajs

export const compressions = ['none', 'gzip', 'snappy', 'lz4', 'zstd'] as const
export type Compression = (typeof compressions)[number]

const require = createRequire(import.meta.url)
let registered = false

type CodecFactory = () => unknown

/** Registers snappy, lz4 and zstd with kafkajs. Idempotent. */
export function registerCompressionCodecs(): void {
  if (registered) return
  const snappy = require('kafkajs-snappy') as CodecFactory
  const Lz4 = require('kafkajs-lz4') as new () => { codec: CodecFactory }
  const zstd = require('@kafkajs/zstd') as (options?: object) => CodecFactory
  const table = CompressionCodecs as Record<number, CodecFactory>
  table[CompressionTypes.Snappy] = snappy
  table[CompressionTypes.LZ4] = new Lz4().codec
  table[CompressionTypes.ZSTD] = zstd()
  registered = true
}

/** kafkajs' code for a configured compression. */
export function compressionType(compression: Compression): kafkajs.CompressionTypes {
  switch (compression) {
    case 'none':
      return CompressionTypes.None
    case 'gzip':
      return CompressionTypes.GZIP
    case 'snappy':
      return CompressionTypes.Snappy
    case 'lz4':
      return CompressionTypes.LZ4
    case 'zstd':
      return CompressionTypes.ZSTD
  }
}
