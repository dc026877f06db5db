// A one-line progress indicator on stderr, only when stderr is a terminal (never in logs or CI).

import type { Progress } from '../app/check.js'

export function terminalProgress(
  stream: NodeJS.WriteStream = process.stderr,
): Progress | undefined {
  if (!stream.isTTY) return undefined
  let last = 0
  let lastPhase = ''
  return ({ phase, bytesRead, totalBytes }) => {
    const now = performance.now()
    if (phase === lastPhase && now - last < 200 && bytesRead < totalBytes) return
    if (phase !== lastPhase && lastPhase !== '') stream.write('\n')
    last = now
    lastPhase = phase
    const percent = totalBytes > 0 ? Math.min(100, (100 * bytesRead) / totalBytes) : 0
    stream.write(`\r${phase}: ${percent.toFixed(0)}% (${mib(bytesRead)} / ${mib(totalBytes)} MiB)`)
  }
}

function mib(bytes: number): string {
  return (bytes / 1024 / 1024).toFixed(1)
}
