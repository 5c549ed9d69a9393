import { defineConfig } from 'vitest/config'

// Unit-only runs for helpers working on isolated modules (no DynamoDB/SQS global setup).
export default defineConfig({
  test: {
    include: [
      'lib/**/*.test.ts',
      'test/support/**/*.test.ts',
      'test/fakes/**/*.test.ts',
      'infra/**/*.test.ts',
    ],
    exclude: ['**/node_modules/**'],
    testTimeout: 60_000,
  },
})
