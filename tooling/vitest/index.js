// Shared vitest project settings. Workspace packages resolve to their TypeScript sources
// through the `@quire/source` export condition, so tests never need a prior build of a dependency.
import { defineProject, mergeConfig } from 'vitest/config';

const conditions = ['@quire/source', 'module', 'node', 'development|production'];

/**
 * @param {string} name project name shown by vitest
 * @param {import('vitest/config').UserProjectConfigExport} [overrides]
 */
export function quireProject(name, overrides = {}) {
  return mergeConfig(
    defineProject({
      resolve: { conditions },
      ssr: { resolve: { conditions, externalConditions: ['@quire/source'] } },
      test: {
        name,
        environment: 'node',
        include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
        testTimeout: 30_000,
        hookTimeout: 60_000,
      },
    }),
    overrides,
  );
}
