import { defineConfig } from 'vitest/config';

// One entry point for every package's tests: `pnpm vitest` from the root runs them all.
export default defineConfig({
  test: {
    projects: ['packages/*', 'apps/*', 'chaos', 'infra'],
  },
});
