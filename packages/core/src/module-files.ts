/**
 * Modules that run in a thread or process of their own (the parse sandbox's child and tasks, the SQLite
 * store's read thread) are files beside the code that starts them: TypeScript when this package runs
 * from `src/` (tests, tsx), JavaScript from `dist/`.
 */
export const MODULE_EXTENSION = import.meta.url.endsWith('.ts') ? '.ts' : '.js';

/** The module `path` (without extension) relative to `base` (the caller's `import.meta.url`). */
export function moduleFile(path: string, base: string): URL {
  return new URL(`${path}${MODULE_EXTENSION}`, base);
}

/**
 * Node options that let a thread or process started from the TypeScript sources load them: a small
 * hook transpiles them (and only them) as they load. None from `dist/`.
 */
export function typeScriptLoader(): string[] {
  if (MODULE_EXTENSION !== '.ts') return [];
  return ['--import', new URL('./sandbox/register-source-hooks.mjs', import.meta.url).href];
}
