import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // live tests make namespaces and processes: keep files apart, run them one at a time
    fileParallelism: false,
    reporters: ['default'],
  },
});
