/**
 * The layering of the house (README, "Layout"), checked by `pnpm test` (`pnpm layers`):
 *
 *   contracts ← api-client ← core ← runtime ← apps
 *   contracts ← jobs ← apps
 *
 * Arrows point down only: a package imports only the layers below it, `jobs` never imports `core`
 * (a service that only enqueues installs no native module), and nothing imports an app's code.
 * The CLI lists the app packages as dependencies only to find and spawn their entry points
 * (`import.meta.resolve('@quire/gateway/main')` in `apps/cli/src/processes.ts`): it resolves a
 * path and starts a process, it never imports them, so the rule below holds for it too.
 * Shipped code only: tests may use the testkit and start other packages' processes.
 */
const OURS = '^(packages|apps)/';

/** A rule that `from` imports nothing of ours except `allowed` (folder names under packages/). */
function onlyImports(name, from, allowed) {
  const allowedPath = allowed.length === 0 ? '' : `|packages/(${allowed.join('|')})/`;
  return {
    name,
    severity: 'error',
    comment: `${from} may import ${allowed.length === 0 ? 'nothing of ours' : allowed.join(', ')} only`,
    from: { path: `^packages/${from}/` },
    to: { path: OURS, pathNot: `^packages/${from}/${allowedPath}` },
  };
}

module.exports = {
  forbidden: [
    onlyImports('contracts-imports-nothing', 'contracts', []),
    onlyImports('api-client-imports-contracts-only', 'api-client', ['contracts']),
    onlyImports('core-imports-below-only', 'core', ['contracts', 'api-client']),
    // runtime opens Redis with the SDK's connection factory (one factory, two roles, for every
    // process); jobs imports nothing but contracts, so this adds no path to core.
    onlyImports('runtime-imports-below-only', 'runtime', ['contracts', 'api-client', 'core', 'jobs']),
    onlyImports('jobs-imports-contracts-only', 'jobs', ['contracts']),
    {
      name: 'nothing-imports-an-app',
      severity: 'error',
      comment: "an app's code is its own: share it through a package instead",
      from: { path: '^(packages|apps)/([^/]+)/' },
      to: { path: '^apps/', pathNot: '^apps/$2/' },
    },
    {
      name: 'declared-quire-packages-only',
      severity: 'error',
      comment: 'a Quire package imported without being a dependency in package.json (or that does not exist)',
      from: { path: OURS },
      to: { path: '^@quire/', couldNotResolve: true },
    },
    {
      name: 'no-cycles',
      severity: 'error',
      comment: 'modules that import each other cannot be understood (or loaded lazily) one at a time',
      from: { path: OURS },
      to: { circular: true },
    },
  ],
  options: {
    includeOnly: '^(packages|apps)/|^@quire/',
    exclude: { path: '(\\.test\\.ts$|/__tests__/|/test/|/dist/)' },
    tsPreCompilationDeps: true,
    // Workspace packages resolve to their sources, as the type checker sees them.
    enhancedResolveOptions: {
      conditionNames: ['@quire/source', 'import', 'types', 'default'],
      exportsFields: ['exports'],
      extensions: ['.ts', '.js', '.mjs', '.json'],
    },
    combinedDependencies: false,
    preserveSymlinks: false,
  },
};
