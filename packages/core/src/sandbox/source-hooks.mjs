// Module hooks for a sandbox child started from the TypeScript sources (tests, tsx): `.ts` files
// are transpiled with TypeScript (types dropped, nothing checked) and a `./x.js` import from a
// `.ts` file finds `./x.ts`. Everything else, node_modules included, loads untouched: a general
// TypeScript loader also transforms dependencies, and pdf.js alone then costs ~20 s and ~450 MiB
// in every child. Production runs the compiled `dist/`, without any hook.
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';

/** @type {typeof import('typescript') | undefined} */
let ts;

/**
 * @param {string} specifier
 * @param {{ parentURL?: string }} context
 * @param {(specifier: string, context: unknown) => Promise<{ url: string }>} next
 */
export async function resolve(specifier, context, next) {
  try {
    return await next(specifier, context);
  } catch (error) {
    const fromTs = context.parentURL?.endsWith('.ts') === true;
    if (!fromTs || !specifier.startsWith('.') || !specifier.endsWith('.js')) throw error;
    return next(`${specifier.slice(0, -3)}.ts`, context);
  }
}

/**
 * @param {string} url
 * @param {unknown} context
 * @param {(url: string, context: unknown) => Promise<unknown>} next
 */
export async function load(url, context, next) {
  if (!url.startsWith('file:') || !url.endsWith('.ts')) return next(url, context);
  ts ??= /** @type {typeof import('typescript')} */ (createRequire(import.meta.url)('typescript'));
  const typescript = ts;
  const source = await readFile(new URL(url), 'utf8');
  const output = typescript.transpileModule(source, {
    fileName: url,
    compilerOptions: {
      module: typescript.ModuleKind.ESNext,
      target: typescript.ScriptTarget.ES2022,
      sourceMap: false,
      inlineSourceMap: true,
    },
  });
  return { format: 'module', source: output.outputText, shortCircuit: true };
}
