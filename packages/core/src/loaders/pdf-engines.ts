/**
 * Which PDF engine reads files (`QUIRE_PDF_ENGINE`), resolved once per process: `auto` takes
 * `poppler` when its tools (`pdftotext`, `pdfinfo`, `pdfimages`) answer, else `pdfjs`, so a
 * deployment reads every file with one engine. The other engine, when available, is the fallback
 * for a file the first reads as no text or garbage. Each engine's version is part of the
 * extraction recipe, hence of the document's version.
 */
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { QuireError } from '../errors.js';
import type { PdfEngineRecipe } from './extraction-recipe.js';
import { PDF_ENGINE_SETTINGS, type PdfEngineName, type PdfEngineSetting } from './pdf-engine-types.js';

/** The engines a process uses: the first reads every PDF, the fallback (if any) retries. */
export interface PdfEngines {
  /** What was asked for (`QUIRE_PDF_ENGINE`). */
  setting: PdfEngineSetting;
  primary: PdfEngineRecipe;
  /** The other engine, when it is available. */
  fallback: PdfEngineRecipe | null;
}

/** The sandbox task kind of each engine. */
export const PDF_ENGINE_TASK: Record<PdfEngineName, string> = { pdfjs: 'pdf', poppler: 'pdf-poppler' };

/** The version of pdf.js that pdf-parse loads, e.g. `pdf-parse 2.4.5 / pdfjs-dist 5.4.296`. */
export function pdfjsVersion(): string {
  const require = createRequire(import.meta.url);
  const parseRequire = createRequire(require.resolve('pdf-parse'));
  const versionOf = (path: string) => (JSON.parse(readFileSync(path, 'utf8')) as { version: string }).version;
  const pdfjs = versionOf(parseRequire.resolve('pdfjs-dist/package.json'));
  return `pdfjs-dist ${pdfjs}`;
}

function toolVersion(tool: string): Promise<string | null> {
  return new Promise((resolve) => {
    execFile(tool, ['-v'], { timeout: 10_000 }, (error, stdout, stderr) => {
      if (error) {
        resolve(null);
        return;
      }
      const version = /version\s+(\d+(?:\.\d+)+)/i.exec(`${stderr}\n${stdout}`)?.[1];
      resolve(version ?? null);
    });
  });
}

/** Poppler's version when `pdftotext`, `pdfinfo` and `pdfimages` all run (one release), else null. */
export async function popplerVersion(): Promise<string | null> {
  const versions = await Promise.all(['pdftotext', 'pdfinfo', 'pdfimages'].map(toolVersion));
  if (versions.some((v) => v === null)) return null;
  return `poppler ${versions[0]}`;
}

/**
 * Resolves `QUIRE_PDF_ENGINE`. `poppler` without its tools is an error (a deployment that asks for
 * it must have it); `auto` quietly takes pdfjs then.
 */
export async function resolvePdfEngines(setting: PdfEngineSetting = 'auto'): Promise<PdfEngines> {
  if (!(PDF_ENGINE_SETTINGS as readonly string[]).includes(setting)) {
    throw new QuireError(
      'invalid_input',
      `unknown PDF engine ${JSON.stringify(setting)} (known: ${PDF_ENGINE_SETTINGS.join(', ')})`,
    );
  }
  const pdfjs: PdfEngineRecipe = { engine: 'pdfjs', version: pdfjsVersion() };
  const popplerAt = await popplerVersion();
  const poppler: PdfEngineRecipe | null =
    popplerAt === null ? null : { engine: 'poppler', version: popplerAt };
  if (setting === 'poppler' && poppler === null) {
    throw new QuireError(
      'invalid_input',
      "QUIRE_PDF_ENGINE=poppler but Poppler's pdftotext, pdfinfo and pdfimages are not all installed (Debian: apt-get install poppler-utils)",
    );
  }
  if (setting === 'pdfjs' || poppler === null) return { setting, primary: pdfjs, fallback: poppler };
  return { setting, primary: poppler, fallback: pdfjs };
}

let processEngines: Promise<PdfEngines> | undefined;

/**
 * The process-wide engines that loads use unless given theirs: set once at start-up with
 * `configurePdfEngines` (a worker logs the result), else resolved from `auto` on first use.
 */
export function defaultPdfEngines(): Promise<PdfEngines> {
  processEngines ??= resolvePdfEngines('auto');
  return processEngines;
}

/** Resolves `setting` and makes it the process-wide choice; rejects like `resolvePdfEngines`. */
export async function configurePdfEngines(setting: PdfEngineSetting): Promise<PdfEngines> {
  const engines = resolvePdfEngines(setting);
  processEngines = engines;
  try {
    return await engines;
  } catch (error) {
    processEngines = undefined;
    throw error;
  }
}
