import { QuireError } from '../errors.js';
import { moduleFile } from '../module-files.js';

/**
 * The kinds of task the sandbox runs, each a module the child imports (`export async function
 * run(input)`). The built-in ones parse PDFs, DOCX and HTML; another engine or OCR adds its own
 * with `registerSandboxTask` and then runs it with `ParseSandbox.run({ kind, ... })`.
 */
const kinds = new Map<string, URL>();
const policies = new Map<string, SandboxKindPolicy>();

/**
 * When a child that ran a task of a kind is replaced. A parser that frees what it read (pdf.js,
 * mammoth) keeps the default; a kind that keeps an engine loaded between tasks (OCR's Tesseract
 * worker, ~360 MiB) keeps its child longer, so the next task does not pay a process start and a
 * model load. The memory cap is the same either way: it bounds every task.
 */
export interface SandboxKindPolicy {
  /**
   * A child left with more RSS than this share of the task's memory cap after a task of this kind
   * is replaced; a child holding more than a kind's share is not given a task of that kind. Above 0,
   * at most 1. Default: the sandbox's `recycleRssMb`, else 0.5.
   */
  recycleRssShare?: number;
  /** Tasks a child runs before it is replaced, when it last ran this kind. Default: the sandbox's `maxTasksPerChild`. */
  maxTasksPerChild?: number;
}

function sibling(path: string): URL {
  return moduleFile(path, import.meta.url);
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
 * `TaskFailure` for a problem of the document. `policy` says when a child that ran the kind is
 * replaced (see `SandboxKindPolicy`; a sandbox's `kinds` option overrides it).
 */
export function registerSandboxTask(kind: string, module: URL, policy: SandboxKindPolicy = {}): void {
  if (!/^[a-z][a-z0-9-]*$/.test(kind)) {
    throw new QuireError(
      'invalid_input',
      `sandbox task kind must be lower-case letters, digits and dashes: ${JSON.stringify(kind)}`,
    );
  }
  if (module.protocol !== 'file:') {
    throw new QuireError('invalid_input', `sandbox task module must be a file: URL, got ${module.href}`);
  }
  checkSandboxKindPolicy(kind, policy);
  kinds.set(kind, module);
  policies.set(kind, { ...policy });
}

/** The recycling policy a kind was registered with (empty: the sandbox's defaults). */
export function sandboxKindPolicy(kind: string): SandboxKindPolicy {
  return policies.get(kind) ?? {};
}

/** Throws `invalid_input` for a share outside (0, 1] or a task count that is not a positive integer. */
export function checkSandboxKindPolicy(kind: string, policy: SandboxKindPolicy): void {
  const { recycleRssShare: share, maxTasksPerChild: tasks } = policy;
  if (share !== undefined && !(Number.isFinite(share) && share > 0 && share <= 1)) {
    throw new QuireError(
      'invalid_input',
      `sandbox task kind ${JSON.stringify(kind)}: recycleRssShare must be above 0 and at most 1, got ${String(share)}`,
    );
  }
  if (tasks !== undefined && !(Number.isInteger(tasks) && tasks > 0)) {
    throw new QuireError(
      'invalid_input',
      `sandbox task kind ${JSON.stringify(kind)}: maxTasksPerChild must be a positive integer, got ${String(tasks)}`,
    );
  }
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
