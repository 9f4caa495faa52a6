import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // live tests make namespaces and processes: keep files apart, run them one at a time
    fileParallelism: false,
    // CI also writes a JSON report, from which .ci/run prints a plain 'N passed, N failed' line
    reporters: process.env.CI ? ['default', ['json', { outputFile: '.vitest-report.json' }]] : ['default'],
  },
});
