/**
 * Where the OCR language data comes from: installed with the project, never fetched. A language is
 * looked up, in order, in the configured `langDirs`, in the npm package `@tesseract.js-data/<lang>`
 * (eng and fra are dependencies of this package) and in the system's Tesseract data
 * (Debian's `tesseract-ocr-<lang>` packages install `/usr/share/tesseract-ocr/5/tessdata/<lang>.traineddata`).
 *
 * tesseract.js reads every language of a page from one directory, as `<lang>.traineddata` (gzipped
 * or not); the languages of a job may come from several places, so a directory of links to them is
 * made once under the system's temporary directory, named after what it links to.
 */
import { createHash } from 'node:crypto';
import {
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { QuireError } from '../../errors.js';

/** System directories of Tesseract's language data, newest first. */
export const SYSTEM_TESSDATA_DIRS = [
  '/usr/share/tesseract-ocr/5/tessdata',
  '/usr/share/tesseract-ocr/4.00/tessdata',
  '/usr/share/tessdata',
  '/usr/local/share/tessdata',
];

/** The npm packages' LSTM model (the "best" network in integer form, as tesseract.js uses by default). */
const NPM_MODEL_DIR = '4.0.0_best_int';

export interface OcrLanguageFile {
  lang: string;
  path: string;
  source: 'dir' | 'npm' | 'system';
}

const require = createRequire(import.meta.url);

function npmLanguageFile(lang: string): string | undefined {
  try {
    const packageJson = require.resolve(`@tesseract.js-data/${lang}/package.json`);
    const file = join(dirname(packageJson), NPM_MODEL_DIR, `${lang}.traineddata.gz`);
    return existsSync(file) ? file : undefined;
  } catch {
    return undefined;
  }
}

/** The file of one language, or undefined when it is not installed. */
export function findOcrLanguage(lang: string, langDirs: readonly string[] = []): OcrLanguageFile | undefined {
  for (const dir of langDirs) {
    for (const name of [`${lang}.traineddata`, `${lang}.traineddata.gz`]) {
      if (existsSync(join(dir, name))) return { lang, path: join(dir, name), source: 'dir' };
    }
  }
  const npm = npmLanguageFile(lang);
  if (npm !== undefined) return { lang, path: npm, source: 'npm' };
  for (const dir of SYSTEM_TESSDATA_DIRS) {
    const file = join(dir, `${lang}.traineddata`);
    if (existsSync(file)) return { lang, path: file, source: 'system' };
  }
  return undefined;
}

/** A real directory (not a link) owned by this user that nobody else may write to. */
function ownPrivateDir(dir: string): boolean {
  const stat = lstatSync(dir);
  const uid = process.getuid?.();
  return stat.isDirectory() && (uid === undefined || stat.uid === uid) && (stat.mode & 0o022) === 0;
}

function fileStamp(path: string): string {
  const stat = statSync(path);
  return `${stat.size}:${stat.mtimeMs}`;
}

/** Every language installed (OSD, the orientation model, is not a language). */
export function installedOcrLanguages(langDirs: readonly string[] = []): string[] {
  const found = new Set<string>();
  for (const dir of [...langDirs, ...SYSTEM_TESSDATA_DIRS]) {
    let names: string[];
    try {
      names = readdirSync(dir);
    } catch {
      continue;
    }
    for (const name of names) {
      const match = /^([A-Za-z][A-Za-z0-9_]*)\.traineddata(?:\.gz)?$/.exec(name);
      if (match?.[1] !== undefined && match[1] !== 'osd') found.add(match[1]);
    }
  }
  for (const lang of ['eng', 'fra', 'deu', 'spa', 'ita', 'por', 'nld', 'chi_sim', 'jpn']) {
    if (npmLanguageFile(lang) !== undefined) found.add(lang);
  }
  return [...found].sort();
}

/**
 * The directory an OCR engine reads `langs` from (`<lang>.traineddata` links). Tesseract's
 * command-line program cannot read gzipped data (the npm packages' form): with `uncompressed`, such
 * a file is unpacked into the directory instead of linked. Throws `invalid_input` naming a language
 * that is not installed, and how to install it.
 */
export function ocrLanguageDir(
  langs: readonly string[],
  langDirs: readonly string[] = [],
  options: { uncompressed?: boolean } = {},
): string {
  const files: OcrLanguageFile[] = [];
  for (const lang of langs) {
    const file = findOcrLanguage(lang, langDirs);
    if (file === undefined) {
      const installed = installedOcrLanguages(langDirs);
      throw new QuireError(
        'invalid_input',
        `OCR language ${JSON.stringify(lang)} is not installed (installed: ${installed.join(', ') || 'none'}); ` +
          `install the npm package @tesseract.js-data/${lang} or the Debian package tesseract-ocr-${lang.replace(/_/g, '-').toLowerCase()}, ` +
          'or put its .traineddata file in a directory of QUIRE_OCR_LANG_DIRS',
      );
    }
    files.push(file);
  }
  const unpack = options.uncompressed === true;
  const key = createHash('sha256')
    // A file's size and time too: an unpacked copy follows its source when that is replaced.
    .update(JSON.stringify([unpack, files.map((f) => [f.lang, f.path, fileStamp(f.path)])]))
    .digest('hex')
    .slice(0, 16);
  const dir = join(tmpdir(), `quire-tessdata-${process.getuid?.() ?? 'user'}-${key}`);
  if (existsSync(dir)) {
    // Another user of a shared temporary directory may have made it first: only our own private
    // directory is read (an engine loads whatever model file it finds there).
    if (ownPrivateDir(dir)) return dir;
    throw new QuireError(
      'invalid_input',
      `the OCR language directory ${dir} exists but is not this user's own private directory; remove it`,
    );
  }
  // Made beside its final name and renamed into place, so a concurrent reader never sees half of it.
  const staging = `${dir}.${process.pid}.${Date.now()}`;
  mkdirSync(staging, { recursive: true, mode: 0o700 });
  try {
    for (const file of files) {
      const target = join(staging, `${file.lang}.traineddata`);
      if (unpack && file.path.endsWith('.gz')) writeFileSync(target, gunzipSync(readFileSync(file.path)));
      else symlinkSync(file.path, target);
    }
    renameSync(staging, dir);
  } catch (error) {
    rmSync(staging, { recursive: true, force: true });
    if (!existsSync(dir)) throw error;
  }
  return dir;
}
