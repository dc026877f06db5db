// Loads lua/*.lua and registers each on a client with ioredis' defineCommand, which sends EVALSHA
// and falls back to EVAL when the server does not have the script yet (after a restart or a
// failover). A file named `name-N.lua` takes N keys; a file without a count takes a varying
// number and the caller passes it (bullmq's naming). Commands are registered as `name:version`
// with the package version, as bullmq does, so two driftwatch versions sharing one client (a
// library embedding us) never run each other's scripts under one name.

import { readdirSync, readFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import type { Cluster, Redis } from 'ioredis'
import { DriftwatchError } from '../../errors.js'

export type RedisClient = Redis | Cluster

export const scriptNames = [
  'apply-flush',
  'acquire-lease',
  'release-lease',
  'commit-evaluation',
  'seed-reference',
  'join-labels',
  'compact-bucket',
] as const
export type ScriptName = (typeof scriptNames)[number]

export interface LuaScript {
  readonly name: ScriptName
  /** undefined: the key count varies and goes first in the arguments */
  readonly numberOfKeys: number | undefined
  readonly lua: string
  readonly file: string
}

const require = createRequire(import.meta.url)
// src/adapters/redis and dist/adapters/redis are both three levels below the package root.
const packageVersion = (require('../../../package.json') as { version: string }).version

// tsc does not copy .lua files: a build must put lua/ next to the compiled scripts.js.
const LUA_DIR = new URL('./lua/', import.meta.url)
const FILE_NAME = /^([a-z]+(?:-[a-z]+)*)(?:-(\d+))?\.lua$/

let loaded: ReadonlyMap<ScriptName, LuaScript> | undefined

function isScriptName(name: string): name is ScriptName {
  return (scriptNames as readonly string[]).includes(name)
}

/** Every script in lua/, read once. */
export function luaScripts(): ReadonlyMap<ScriptName, LuaScript> {
  if (loaded !== undefined) return loaded
  let files: string[]
  try {
    files = readdirSync(LUA_DIR).filter((file) => file.endsWith('.lua'))
  } catch (error) {
    throw new DriftwatchError(
      'REDIS_ERROR',
      `redis scripts not found in ${LUA_DIR.pathname} (a build must copy lua/ there)`,
      {
        cause: error,
      },
    )
  }
  const scripts = new Map<ScriptName, LuaScript>()
  for (const file of files) {
    const match = FILE_NAME.exec(file)
    const name = match?.[1]
    if (name === undefined || !isScriptName(name)) {
      throw new DriftwatchError(
        'REDIS_ERROR',
        `unexpected redis script ${file}; known: ${scriptNames.join(', ')}`,
      )
    }
    const count = match?.[2]
    scripts.set(name, {
      name,
      numberOfKeys: count === undefined ? undefined : Number(count),
      lua: readFileSync(new URL(file, LUA_DIR), 'utf8'),
      file,
    })
  }
  const missing = scriptNames.filter((name) => !scripts.has(name))
  if (missing.length > 0) {
    throw new DriftwatchError(
      'REDIS_ERROR',
      `redis scripts missing from ${LUA_DIR.pathname}: ${missing.join(', ')}`,
    )
  }
  loaded = scripts
  return scripts
}

export function commandName(name: ScriptName): string {
  return `${name}:${packageVersion}`
}

type ScriptCommand = (...args: (string | number | Buffer)[]) => Promise<unknown>

function commandOf(client: RedisClient, name: ScriptName): ScriptCommand | undefined {
  // defineCommand adds methods that ioredis' types cannot know about.
  const method = (client as unknown as Record<string, unknown>)[commandName(name)]
  return typeof method === 'function' ? (method as ScriptCommand).bind(client) : undefined
}

/** Registers every script on `client`; a second call on the same client does nothing. */
export function defineScripts(client: RedisClient): void {
  for (const script of luaScripts().values()) {
    if (commandOf(client, script.name) !== undefined) continue
    client.defineCommand(
      commandName(script.name),
      script.numberOfKeys === undefined
        ? { lua: script.lua }
        : { lua: script.lua, numberOfKeys: script.numberOfKeys },
    )
  }
}

/** Runs a script registered by defineScripts. */
export function runScript(
  client: RedisClient,
  name: ScriptName,
  keys: readonly string[],
  args: readonly (string | number | Buffer)[],
): Promise<unknown> {
  const script = luaScripts().get(name)
  const command = commandOf(client, name)
  if (script === undefined || command === undefined) {
    throw new DriftwatchError(
      'REDIS_ERROR',
      `redis script ${name} is not registered on this client`,
    )
  }
  if (script.numberOfKeys !== undefined && script.numberOfKeys !== keys.length) {
    throw new DriftwatchError(
      'INVALID_ARGUMENT',
      `redis script ${name} takes ${script.numberOfKeys} keys, got ${keys.length}`,
    )
  }
  return script.numberOfKeys === undefined
    ? command(keys.length, ...keys, ...args)
    : command(...keys, ...args)
}
