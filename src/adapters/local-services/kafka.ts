import { execFile } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import {
  cpSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  renameSync,
  rmSync,
  writeFileSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import { basename, join } from 'node:path'
import { Kafka, logLevel } from 'kafkajs'
import { freePorts } from './free-port.js'
import {
  describeExit,
  isMissingExecutable,
  runFetchScript,
  spawnSupervised,
  tailFile,
  type SupervisedProcess,
  waitForExitOrTimeout,
  PortTakenError,
  withPortRetries,
} from './supervisor.js'

export interface LocalKafka {
  /** bootstrap servers for clients, `127.0.0.1:<port>` */
  readonly brokers: string
  /** the client (PLAINTEXT) and controller ports, to start the same broker again */
  readonly port: number
  readonly controllerPort: number
  readonly pid: number
  /** the broker's own log (log4j2), kept until stop() */
  readonly logFile: string
  /** bootstrap servers of the SASL_SSL listener, when `saslSsl` was asked for */
  readonly saslSslBrokers?: string | undefined
  stop(): Promise<void>
}

export interface StartKafkaOptions {
  /**
   * Where to keep config, logs and partitions. Default: a fresh temp dir, removed by
   * stop(). A directory given here is kept, and a broker restarted on it keeps its data.
   */
  readonly dataDir?: string
  /** Listen on these ports instead of free ones: with the same `dataDir`, this starts a stopped
   * broker again as the same broker, where its clients expect it. */
  readonly ports?: { readonly port: number; readonly controllerPort: number }
  readonly log?: (line: string) => void
  /**
   * Adds a SASL_SSL listener (SCRAM-SHA-512 over TLS) beside the PLAINTEXT one, which stays for
   * the readiness probe, inter-broker and controller traffic on loopback. The users are created
   * at format time (`StorageTool format --add-scram`), so this storage is formatted afresh rather
   * than copied from the cached template.
   */
  readonly saslSsl?: SaslSslListener
}

export interface SaslSslListener {
  /** A PEM file with the broker's unencrypted PKCS#8 private key followed by its certificate
   * chain (`ssl.keystore.type=PEM`); the certificate must name 127.0.0.1 (IP SAN). */
  readonly keystorePem: string
  /** StorageTool's `[name=…,password=…]` syntax: no ',', '[', ']' or '=' in either. */
  readonly scramUsers: ReadonlyArray<{ readonly name: string; readonly password: string }>
}

const READY_TIMEOUT_MS = 90_000
const STOP_GRACE_MS = 15_000
const FORMAT_TIMEOUT_MS = 60_000
// Bump when serverProperties() changes node.id, process.roles or the voters: the cached
// formatted storage depends on those.
const STORAGE_TEMPLATE = '.storage-template-v1'
const LOG_TAIL_LINES = 40

// Plain `java` ignores KAFKA_HEAP_OPTS, so the heap is set here. C1 only and the serial
// collector: on our 2-core machines, shared with the test run itself, C2 compilation and
// G1's concurrent threads made startup about 1.5x slower; a test broker never gets hot
// enough for C2 to pay off.
const BROKER_JVM_FLAGS = [
  '-Xms256m',
  '-Xmx512m',
  '-XX:+UseSerialGC',
  '-XX:TieredStopAtLevel=1',
  '-Djava.awt.headless=true',
]
const TOOL_JVM_FLAGS = [
  '-Xmx256m',
  '-XX:+UseSerialGC',
  '-XX:TieredStopAtLevel=1',
  '-Djava.awt.headless=true',
]

/** Another process took a port between freePorts() and the broker's bind. */

const noop = (): void => undefined

function javaExecutable(): string {
  const javaHome = process.env['JAVA_HOME']
  return javaHome !== undefined && javaHome !== '' ? join(javaHome, 'bin', 'java') : 'java'
}

const javaMissingMessage =
  'local Kafka: `java` not found; install a JDK 17+ ' +
  '(apt-get install -y openjdk-17-jre-headless) or set JAVA_HOME'

/**
 * Makes sure the broker classpath is in .cache/kafka-libs/<version>/ (downloading it
 * with Maven the first time, via scripts/fetch-kafka.sh, which CI calls too) and
 * returns that directory.
 */
export async function ensureKafkaJars(
  options: { log?: (line: string) => void } = {},
): Promise<string> {
  const {
    script,
    code,
    lastLine: libs,
    stderr,
  } = await runFetchScript('fetch-kafka.sh', 'Kafka', options.log ?? noop)
  if (code !== 0) {
    const hint =
      code === 127 ? ' (Maven is missing: apt-get install -y maven, which also brings a JDK)' : ''
    throw new Error(
      `local Kafka: ${script} exited with ${code}${hint}\n${stderr.slice(-LOG_TAIL_LINES).join('\n')}`,
    )
  }
  if (libs === undefined || !existsSync(libs)) {
    throw new Error(`local Kafka: ${script} did not print the jar directory`)
  }
  return libs
}

interface BrokerPaths {
  readonly serverProperties: string
  readonly log4jProperties: string
  readonly serverLog: string
  readonly output: string
  readonly logDirs: string
}

function brokerPaths(workDir: string): BrokerPaths {
  return {
    serverProperties: join(workDir, 'server.properties'),
    log4jProperties: join(workDir, 'log4j2.properties'),
    serverLog: join(workDir, 'server.log'),
    output: join(workDir, 'stdout.log'),
    logDirs: join(workDir, 'kraft-logs'),
  }
}

export function serverProperties(
  port: number,
  controllerPort: number,
  logDirs: string,
  saslSsl?: { readonly port: number; readonly keystorePem: string },
): string {
  const settings: Record<string, string | number | boolean> = {
    'process.roles': 'broker,controller',
    'node.id': 1,
    // Static voters: StorageTool must then be run without --standalone.
    'controller.quorum.voters': `1@127.0.0.1:${controllerPort}`,
    listeners: `PLAINTEXT://127.0.0.1:${port},CONTROLLER://127.0.0.1:${controllerPort}`,
    'advertised.listeners': `PLAINTEXT://127.0.0.1:${port}`,
    'controller.listener.names': 'CONTROLLER',
    'inter.broker.listener.name': 'PLAINTEXT',
    'listener.security.protocol.map': 'CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT',
    'log.dirs': logDirs,
    'num.partitions': 1,
    'default.replication.factor': 1,
    'min.insync.replicas': 1,
    // Tests create their topics explicitly; a typo must fail rather than invent a topic.
    'auto.create.topics.enable': false,
    'offsets.topic.replication.factor': 1,
    'transaction.state.log.replication.factor': 1,
    'transaction.state.log.min.isr': 1,
    'share.coordinator.state.topic.replication.factor': 1,
    'share.coordinator.state.topic.min.isr': 1,
    // The defaults (50 partitions each) cost seconds on the first group join or transaction.
    'offsets.topic.num.partitions': 1,
    'transaction.state.log.num.partitions': 1,
    // Default 3000 ms: every first consumer group join would wait that long.
    'group.initial.rebalance.delay.ms': 0,
  }
  if (saslSsl !== undefined) {
    const secure = `SASL_SSL://127.0.0.1:${saslSsl.port}`
    settings['listeners'] =
      `PLAINTEXT://127.0.0.1:${port},${secure},CONTROLLER://127.0.0.1:${controllerPort}`
    settings['advertised.listeners'] = `PLAINTEXT://127.0.0.1:${port},${secure}`
    settings['listener.security.protocol.map'] =
      'CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT,SASL_SSL:SASL_SSL'
    settings['sasl.enabled.mechanisms'] = 'SCRAM-SHA-512'
    settings['listener.name.sasl_ssl.sasl.enabled.mechanisms'] = 'SCRAM-SHA-512'
    // No password here: the broker only verifies clients against the SCRAM credentials
    // stored in the metadata log.
    settings['listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config'] =
      'org.apache.kafka.common.security.scram.ScramLoginModule required;'
    settings['listener.name.sasl_ssl.ssl.keystore.type'] = 'PEM'
    settings['listener.name.sasl_ssl.ssl.keystore.location'] = saslSsl.keystorePem
    settings['listener.name.sasl_ssl.ssl.client.auth'] = 'none'
  }
  return Object.entries(settings)
    .map(([key, value]) => `${key}=${escapePropertyValue(String(value))}`)
    .join('\n')
    .concat('\n')
}

function log4jProperties(serverLog: string): string {
  return [
    // log4j2's own warnings go to stderr, which lands in stdout.log next to the JVM's.
    'status = warn',
    'appender.file.type = File',
    'appender.file.name = file',
    `appender.file.fileName = ${escapePropertyValue(serverLog)}`,
    'appender.file.layout.type = PatternLayout',
    'appender.file.layout.pattern = [%d] %p %m (%c)%n',
    'rootLogger.level = info',
    'rootLogger.appenderRef.file.ref = file',
    // One line per partition state change and per request: noise for a test broker.
    'logger.state.name = state.change.logger',
    'logger.state.level = warn',
    'logger.request.name = kafka.request.logger',
    'logger.request.level = warn',
    '',
  ].join('\n')
}

function escapePropertyValue(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n')
}

/** Kafka's Uuid text form; one starting with '-' would read as a CLI option. */
function randomClusterId(): string {
  for (;;) {
    const id = randomBytes(16).toString('base64url')
    if (!id.startsWith('-')) return id
  }
}

function brokerLogTail(paths: BrokerPaths): string {
  const parts = [
    ['server.log', tailFile(paths.serverLog, LOG_TAIL_LINES)],
    ['stdout/stderr', tailFile(paths.output, LOG_TAIL_LINES)],
  ].filter(([, text]) => text !== '')
  if (parts.length === 0) return '(the broker wrote no log)'
  return parts.map(([name, text]) => `--- ${name} (last lines) ---\n${text}`).join('\n')
}

function runStorageFormat(
  java: string,
  classpathArgs: readonly string[],
  propsFile: string,
  extraArgs: readonly string[] = [],
  /** never written into an error (execFile's message repeats the whole command line) */
  secrets: readonly string[] = [],
): Promise<void> {
  const redact = (text: string): string =>
    secrets.reduce((out, secret) => (secret === '' ? out : out.split(secret).join('***')), text)
  const args = [
    ...TOOL_JVM_FLAGS,
    ...classpathArgs,
    'kafka.tools.StorageTool',
    'format',
    '-t',
    randomClusterId(),
    '-c',
    propsFile,
    '--ignore-formatted',
    ...extraArgs,
  ]
  return new Promise((resolve, reject) => {
    execFile(java, args, { timeout: FORMAT_TIMEOUT_MS }, (error, stdout, stderr) => {
      if (error === null) {
        resolve()
      } else if (isMissingExecutable(error)) {
        reject(new Error(javaMissingMessage))
      } else {
        reject(
          new Error(
            redact(`local Kafka: StorageTool format failed: ${error.message}\n${stdout}${stderr}`),
          ),
        )
      }
    })
  })
}

/**
 * Gives `paths.logDirs` a formatted KRaft storage. StorageTool is a JVM start of its
 * own (2-5 s here), and its output does not depend on the ports or the directory, only
 * on node.id, the roles and the static voter set, which never change: so it runs once
 * per Kafka version, into `<libs>/.storage-template-v1`, and every broker gets a copy.
 * Every local broker then shares one cluster id, which nothing here checks.
 */
async function prepareStorage(
  libs: string,
  java: string,
  classpathArgs: readonly string[],
  paths: BrokerPaths,
  scramUsers?: SaslSslListener['scramUsers'],
): Promise<'reused' | 'copied' | 'formatted'> {
  // A caller's dataDir from an earlier start: keep its data.
  if (existsSync(join(paths.logDirs, 'meta.properties'))) return 'reused'
  if (scramUsers !== undefined) {
    // SCRAM users are records in the bootstrap metadata: this storage is not the template's.
    const scramArgs = scramUsers.flatMap((user) => [
      '--add-scram',
      `SCRAM-SHA-512=[name=${user.name},password=${user.password}]`,
    ])
    await runStorageFormat(
      java,
      classpathArgs,
      paths.serverProperties,
      scramArgs,
      scramUsers.map((user) => user.password),
    )
    return 'formatted'
  }
  const template = join(libs, STORAGE_TEMPLATE)
  let formatted = false
  if (!existsSync(join(template, 'meta.properties'))) {
    const staging = mkdtempSync(`${template}.tmp-`)
    try {
      const stagingProps = join(staging, 'server.properties')
      const stagingLogDirs = join(staging, 'kraft-logs')
      writeFileSync(stagingProps, serverProperties(1, 2, stagingLogDirs))
      await runStorageFormat(java, classpathArgs, stagingProps)
      try {
        renameSync(stagingLogDirs, template)
      } catch (error) {
        // Another start formatted it first; theirs is as good as ours.
        if (!existsSync(join(template, 'meta.properties'))) throw error
      }
      formatted = true
    } finally {
      rmSync(staging, { recursive: true, force: true })
    }
  }
  cpSync(template, paths.logDirs, { recursive: true })
  return formatted ? 'formatted' : 'copied'
}

async function waitUntilReady(
  brokers: string,
  proc: SupervisedProcess,
  paths: BrokerPaths,
): Promise<void> {
  const kafka = new Kafka({
    clientId: 'driftwatch-local-services-probe',
    brokers: [brokers],
    // Refused connections are the expected answer while the broker starts.
    logLevel: logLevel.NOTHING,
    connectionTimeout: 1_000,
    requestTimeout: 2_000,
    retry: { retries: 0 },
  })
  const deadline = Date.now() + READY_TIMEOUT_MS
  for (;;) {
    const exit = proc.exitInfo()
    if (exit !== undefined) {
      const tail = brokerLogTail(paths)
      const message = `local Kafka: broker ${describeExit(exit)} before it was ready\n${tail}`
      throw tail.includes('Address already in use')
        ? new PortTakenError(message)
        : new Error(message)
    }
    const admin = kafka.admin()
    try {
      await admin.connect()
      await admin.listTopics()
      // Also wait for the group coordinator: the first group lookup creates
      // __consumer_offsets, and a consumer that comes first crashes and restarts on
      // "coordinator is loading" instead of just joining.
      await admin.describeGroups(['driftwatch-local-services-warmup'])
      return
    } catch {
      // not ready yet
    } finally {
      await admin.disconnect().catch(noop)
    }
    if (Date.now() > deadline) {
      throw new Error(
        `local Kafka: broker on ${brokers} not ready after ${READY_TIMEOUT_MS / 1000} s ` +
          `(pid ${proc.pid})\n${brokerLogTail(paths)}`,
      )
    }
    await waitForExitOrTimeout(proc, 250)
  }
}

async function startOnce(
  libs: string,
  options: StartKafkaOptions,
  log: (line: string) => void,
): Promise<LocalKafka> {
  const ownsDir = options.dataDir === undefined
  const workDir = options.dataDir ?? mkdtempSync(join(tmpdir(), 'driftwatch-kafka-'))
  const paths = brokerPaths(workDir)
  let proc: SupervisedProcess | undefined
  try {
    mkdirSync(paths.logDirs, { recursive: true })
    // One call for every port, so they are distinct.
    const wanted = options.saslSsl === undefined ? 2 : 3
    const [port, controllerPort, saslSslPort] =
      options.ports === undefined
        ? await freePorts(wanted)
        : [
            options.ports.port,
            options.ports.controllerPort,
            ...(wanted === 3 ? await freePorts(1) : []),
          ]
    if (port === undefined || controllerPort === undefined)
      throw new Error('local Kafka: no free ports')
    const brokers = `127.0.0.1:${port}`
    const saslSsl =
      options.saslSsl === undefined || saslSslPort === undefined
        ? undefined
        : { port: saslSslPort, keystorePem: options.saslSsl.keystorePem }
    writeFileSync(
      paths.serverProperties,
      serverProperties(port, controllerPort, paths.logDirs, saslSsl),
    )
    writeFileSync(paths.log4jProperties, log4jProperties(paths.serverLog))
    const java = javaExecutable()
    const classpathArgs = [
      '-cp',
      join(libs, '*'),
      `-Dlog4j2.configurationFile=${paths.log4jProperties}`,
    ]

    const storageStarted = performance.now()
    const storage = await prepareStorage(
      libs,
      java,
      classpathArgs,
      paths,
      options.saslSsl?.scramUsers,
    )
    const storageMs = Math.round(performance.now() - storageStarted)

    const spawned = performance.now()
    try {
      proc = await spawnSupervised(
        java,
        [
          ...BROKER_JVM_FLAGS,
          // A JVM crash report belongs with the broker's logs, not in the caller's cwd.
          `-XX:ErrorFile=${join(workDir, 'hs_err_pid%p.log')}`,
          ...classpathArgs,
          'kafka.Kafka',
          paths.serverProperties,
        ],
        { outputFile: paths.output, ownedDir: ownsDir ? workDir : undefined },
      )
    } catch (error) {
      throw isMissingExecutable(error) ? new Error(javaMissingMessage) : error
    }
    await waitUntilReady(brokers, proc, paths)
    const readyMs = Math.round(performance.now() - spawned)
    log(
      `kafka ${basename(libs)} ready on ${brokers} in ${readyMs} ms after spawn ` +
        `(storage ${storage} in ${storageMs} ms, ` +
        `pid ${proc.pid}, log ${paths.serverLog})`,
    )

    const running = proc
    let stopping: Promise<void> | undefined
    return {
      brokers,
      port,
      controllerPort,
      pid: running.pid,
      logFile: paths.serverLog,
      saslSslBrokers: saslSsl === undefined ? undefined : `127.0.0.1:${saslSsl.port}`,
      stop: () =>
        (stopping ??= (async () => {
          const stopStarted = performance.now()
          await running.terminate(STOP_GRACE_MS)
          log(`kafka on ${brokers} stopped in ${Math.round(performance.now() - stopStarted)} ms`)
        })()),
    }
  } catch (error) {
    if (proc !== undefined) await proc.terminate(STOP_GRACE_MS)
    else if (ownsDir) rmSync(workDir, { recursive: true, force: true })
    throw error
  }
}

/** Starts a single-node KRaft broker (broker and controller in one JVM) on 127.0.0.1. */
export async function startKafka(options: StartKafkaOptions = {}): Promise<LocalKafka> {
  const log = options.log ?? noop
  const libs = await ensureKafkaJars({ log })
  return withPortRetries('kafka', () => startOnce(libs, options, log), log)
}
