// The tests of the repository's own scripts (./stagecraft, scripts/*.sh, the test
// summary): child processes and servers on 127.0.0.1, no Docker.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    name: 'scripts',
    include: ['test/**/*.test.ts'],
    // npm and bash child processes on a shared 2-core machine.
    testTimeout: 60_000,
    hookTimeout: 20_000,
  },
});
