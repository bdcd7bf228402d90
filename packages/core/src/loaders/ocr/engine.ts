/**
 * The OCR engine, `QUIRE_OCR_ENGINE`: `tesseract` (Tesseract's command-line program, e.g. Debian's
 * `tesseract-ocr`, one process per reading), `tesseract.js` (Tesseract compiled to WebAssembly,
 * an npm dependency, always there), or `auto`: `tesseract` when a program of version 4 or later
 * (the LSTM engine) answers, else `tesseract.js`. Both read the same language data with the same
 * settings; the engine and its version are part of the OCR recipe, so a document read by one is
 * read again by the other. A setting resolves once per process.
 */
import { execFile } from 'node:child_process';
import { QuireError } from '../../errors.js';

export const OCR_ENGINE_SETTINGS = ['auto', 'tesseract', 'tesseract.js'] as const;
export type OcrEngineSetting = (typeof OCR_ENGINE_SETTINGS)[number];
export type OcrEngineName = Exclude<OcrEngineSetting, 'auto'>;

export interface OcrEngine {
  name: OcrEngineName;
  /** Goes into the OCR recipe, e.g. `tesseract@5.3.0/lstm`. */
  recipe: string;
}

/** The tesseract.js engine's recipe (its major version: the engine inside changes with it). */
export const TESSERACT_JS_ENGINE: OcrEngine = { name: 'tesseract.js', recipe: 'tesseract.js@7/lstm' };

/** The version of the `tesseract` program on the PATH, or null when there is none. */
function tesseractVersion(): Promise<string | null> {
  return new Promise((resolve) => {
    execFile('tesseract', ['--version'], { timeout: 10_000 }, (error, stdout, stderr) => {
      if (error) {
        resolve(null);
        return;
      }
      resolve(/tesseract\s+v?(\d+\.\d+(?:\.\d+)?)/i.exec(`${stdout}\n${stderr}`)?.[1] ?? null);
    });
  });
}

async function resolve(setting: OcrEngineSetting): Promise<OcrEngine> {
  if (!(OCR_ENGINE_SETTINGS as readonly string[]).includes(setting)) {
    throw new QuireError(
      'invalid_input',
      `unknown OCR engine ${JSON.stringify(setting)} (known: ${OCR_ENGINE_SETTINGS.join(', ')})`,
    );
  }
  if (setting === 'tesseract.js') return TESSERACT_JS_ENGINE;
  const version = await tesseractVersion();
  const usable = version !== null && Number(version.split('.')[0]) >= 4;
  if (usable) return { name: 'tesseract', recipe: `tesseract@${version}/lstm` };
  if (setting === 'tesseract') {
    throw new QuireError(
      'invalid_input',
      version === null
        ? "QUIRE_OCR_ENGINE=tesseract but Tesseract's program is not installed (Debian: apt-get install tesseract-ocr)"
        : `QUIRE_OCR_ENGINE=tesseract but the installed Tesseract ${version} has no LSTM engine (4 or later is needed)`,
    );
  }
  return TESSERACT_JS_ENGINE;
}

const resolved = new Map<OcrEngineSetting, Promise<OcrEngine>>();

/** The engine a setting stands for, found once per process (a failure is not kept). */
export function resolveOcrEngine(setting: OcrEngineSetting = 'auto'): Promise<OcrEngine> {
  let engine = resolved.get(setting);
  if (engine === undefined) {
    engine = resolve(setting);
    resolved.set(setting, engine);
    engine.catch(() => resolved.delete(setting));
  }
  return engine;
}
