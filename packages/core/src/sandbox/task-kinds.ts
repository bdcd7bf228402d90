import { QuireError } from '../errors.js';

/**
 * The kinds of task the sandbox runs, each a module the child imports (`export async function
 * run(input)`). The built-in ones parse PDFs, DOCX and HTML; another engine or OCR adds its own
 * with `registerSandboxTask` and then runs it with `ParseSandbox.run({ kind, ... })`.
 */
const kinds = new Map<string, URL>();

/**
 * This module runs from `src/` as TypeScript (tests, tsx) or from `dist/` as JavaScript; the task
 * modules beside it have the same extension.
 */
export const MODULE_EXTENSION = import.meta.url.endsWith('.ts') ? '.ts' : '.js';

function sibling(path: string): URL {
  return new URL(`${path}${MODULE_EXTENSION}`, import.meta.url);
}

/** The built-in kinds: `pdf` is the `pdfjs` PDF engine, `pdf-poppler` the `poppler` one. */
export const BUILTIN_TASK_KINDS = ['pdf', 'pdf-poppler', 'docx', 'html'] as const;
kinds.set('pdf', sibling('./tasks/pdf-task'));
kinds.set('pdf-poppler', sibling('./tasks/poppler-task'));
kinds.set('docx', sibling('./tasks/docx-task'));
kinds.set('html', sibling('./tasks/html-task'));

/**
 * Adds (or replaces) a task kind. `module` must be a `file:` URL of an ES module exporting
 * `run(input): Promise<output>` whose input and output survive structured cloning; it may throw
 * `TaskFailure` for a problem of the document.
 */
export function registerSandboxTask(kind: string, module: URL): void {
  if (!/^[a-z][a-z0-9-]*$/.test(kind)) {
    throw new QuireError(
      'invalid_input',
      `sandbox task kind must be lower-case letters, digits and dashes: ${JSON.stringify(kind)}`,
    );
  }
  if (module.protocol !== 'file:') {
    throw new QuireError('invalid_input', `sandbox task module must be a file: URL, got ${module.href}`);
  }
  kinds.set(kind, module);
}

/** The module of a kind; an unknown kind is an `invalid_input` error. */
export function sandboxTaskModule(kind: string): URL {
  const module = kinds.get(kind);
  if (module === undefined) {
    throw new QuireError(
      'invalid_input',
      `unknown sandbox task kind ${JSON.stringify(kind)} (known: ${[...kinds.keys()].join(', ')})`,
    );
  }
  return module;
}
