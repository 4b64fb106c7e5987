import { defineConfig } from 'vitest/config'

export default defineConfig({
  test: {
    include: ['**/*.test.ts'],
    exclude: ['node_modules/**', 'data/**'],
    testTimeout: 60_000,
    hookTimeout: 30_000,
    pool: 'forks',
    // Makes the simulator's CA trusted by every worker (NODE_EXTRA_CA_CERTS) for the e2e suite.
    globalSetup: ['tests/e2e/global-setup.ts'],
  },
})
