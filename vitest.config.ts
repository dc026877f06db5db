import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 180_000,
    globalSetup: ['test/global-setup.ts'],
    // One file at a time: the end-to-end and fault files each drive a broker, Redis and several
    // detector processes, and on a 2-core machine running them side by side only adds timeouts.
    fileParallelism: false,
  },
})
