import { defineConfig } from 'vitest/config';

// The benchmark's own logic (parsing what it reads), not the benchmark: no Docker, no load.
export default defineConfig({
  test: {
    name: 'bench',
    root: new URL('.', import.meta.url).pathname,
    include: ['test/**/*.test.ts'],
  },
});
