/**
 * The OCR engine's resolution (`QUIRE_OCR_ENGINE`), the language data each engine reads, and how
 * Tesseract's TSV becomes a page's text and confidence. Needs Tesseract's program and its English
 * data (Debian's tesseract-ocr), which CI installs.
 */

import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { QuireError } from '../src/errors.js';
import { resolveOcrEngine, TESSERACT_JS_ENGINE } from '../src/loaders/ocr/engine.js';
import { ocrLanguageDir } from '../src/loaders/ocr/languages.js';
import {
  fromTsv,
  greyTiff,
  run as readWithTesseract,
  tesseractArgs,
  tsvPages,
} from '../src/sandbox/tasks/tesseract-task.js';

const GZIP_MAGIC = [0x1f, 0x8b];

describe('resolveOcrEngine', () => {
  const path = process.env.PATH;
  afterEach(() => {
    process.env.PATH = path;
    vi.resetModules();
  });

  it('takes the installed program for auto and tesseract, with its version in the recipe', async () => {
    const auto = await resolveOcrEngine('auto');
    expect(auto.name).toBe('tesseract');
    expect(auto.recipe).toMatch(/^tesseract@\d+\.\d+(\.\d+)?\/lstm$/);
    await expect(resolveOcrEngine('tesseract')).resolves.toEqual(auto);
    await expect(resolveOcrEngine('tesseract.js')).resolves.toEqual(TESSERACT_JS_ENGINE);
  });

  it('falls back to tesseract.js for auto without the program, and refuses tesseract', async () => {
    const empty = mkdtempSync(join(tmpdir(), 'quire-no-tesseract-'));
    try {
      process.env.PATH = empty;
      // A fresh module: the process's resolutions are cached.
      const fresh = await import('../src/loaders/ocr/engine.js');
      await expect(fresh.resolveOcrEngine('auto')).resolves.toEqual(TESSERACT_JS_ENGINE);
      const refused = fresh.resolveOcrEngine('tesseract');
      // Its own copy of the error class, as the module is fresh.
      await expect(refused).rejects.toMatchObject({ name: 'QuireError', code: 'invalid_input' });
      await expect(refused).rejects.toThrow(
        /QUIRE_OCR_ENGINE=tesseract but Tesseract's program is not installed/,
      );
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });

  it('names an unknown engine', async () => {
    await expect(resolveOcrEngine('ocrmypdf' as 'auto')).rejects.toBeInstanceOf(QuireError);
    await expect(resolveOcrEngine('ocrmypdf' as 'auto')).rejects.toThrow(
      /unknown OCR engine "ocrmypdf" \(known: auto, tesseract, tesseract.js\)/,
    );
  });
});

describe('ocrLanguageDir', () => {
  it('links the npm package’s gzipped model for tesseract.js and unpacks it for the program', () => {
    const linked = readFileSync(join(ocrLanguageDir(['eng']), 'eng.traineddata'));
    expect([...linked.subarray(0, 2)]).toEqual(GZIP_MAGIC);
    const unpackedDir = ocrLanguageDir(['eng'], [], { uncompressed: true });
    const unpacked = readFileSync(join(unpackedDir, 'eng.traineddata'));
    expect([...unpacked.subarray(0, 2)]).not.toEqual(GZIP_MAGIC);
    expect(unpacked.length).toBeGreaterThan(linked.length);
    // Made once: asked again, the same directory.
    expect(ocrLanguageDir(['eng'], [], { uncompressed: true })).toBe(unpackedDir);
  });

  it('refuses a directory of its name that others may write to', () => {
    const dir = ocrLanguageDir(['fra', 'eng']);
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir);
    chmodSync(dir, 0o777);
    try {
      expect(() => ocrLanguageDir(['fra', 'eng'])).toThrow(/is not this user's own private directory/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    // Once it is gone, a private one is made again.
    expect(readFileSync(join(ocrLanguageDir(['fra', 'eng']), 'fra.traineddata')).length).toBeGreaterThan(0);
  });
});

describe('the tesseract task', () => {
  it.each([60, 100, 150])(
    'names running out of a %i MiB memory limit as such, not as a damaged file or an empty page',
    async (maxMemoryMb) => {
      // A large grey page: at 60 MiB Tesseract cannot load its libraries, at 100 it aborts, at 150
      // Leptonica fails to allocate images and Tesseract would go on without them.
      const width = 4000;
      const height = 5000;
      const image = Buffer.concat([
        Buffer.from(`P5\n${width} ${height}\n255\n`, 'latin1'),
        Buffer.alloc(width * height, 200),
      ]);
      const reading = readWithTesseract({
        image,
        frame: 0,
        langs: ['eng'],
        langDir: ocrLanguageDir(['eng'], [], { uncompressed: true }),
        maxPixels: 40_000_000,
        maxOcrPixels: 40_000_000,
        maxMemoryMb,
        keepRssShare: 0.8,
      });
      await expect(reading).rejects.toMatchObject({ name: 'TaskFailure', code: 'parse_out_of_memory' });
    },
  );
});

describe('several images in one run', () => {
  it('writes PGM images as the pages of a TIFF that Tesseract reads page by page', () => {
    const pgm = (width: number, height: number, shade: number) =>
      Buffer.concat([
        Buffer.from(`P5\n${width} ${height}\n255\n`, 'latin1'),
        Buffer.alloc(width * height, shade),
      ]);
    // Odd sizes: each page's data is padded so the next directory starts on a word boundary.
    const tiff = greyTiff([pgm(33, 21, 255), pgm(20, 31, 0), pgm(7, 9, 128)]);
    const tsv = execFileSync(
      'tesseract',
      tesseractArgs(ocrLanguageDir(['eng'], [], { uncompressed: true }), ['eng']),
      { input: tiff, stdio: ['pipe', 'pipe', 'ignore'], env: { ...process.env, OMP_THREAD_LIMIT: '1' } },
    ).toString();
    // Level 1 rows: one per page, with its size.
    const pages = tsv
      .split('\n')
      .filter((row) => row.startsWith('1\t'))
      .map((row) => row.split('\t').slice(1, 2).concat(row.split('\t').slice(8, 10)));
    expect(pages).toEqual([
      ['1', '33', '21'],
      ['2', '20', '31'],
      ['3', '7', '9'],
    ]);
  });

  it('splits a TSV by page, in page order, a page without rows empty', () => {
    const row = (page: number, word: string) => ['5', page, 1, 1, 1, 1, 0, 0, 1, 1, 90, word].join('\t');
    const tsv = ['level\tpage_num', row(2, 'beta'), row(1, 'alpha'), row(9, 'stray')].join('\n');
    expect(tsvPages(tsv, 3).map((page) => fromTsv(page).text)).toEqual(['alpha\n\n', 'beta\n\n', '']);
  });
});

describe('fromTsv', () => {
  const header =
    'level\tpage_num\tblock_num\tpar_num\tline_num\tword_num\tleft\ttop\twidth\theight\tconf\ttext';
  const row = (
    level: number,
    block: number,
    par: number,
    line: number,
    word: number,
    conf: number,
    text = '',
  ) => [level, 1, block, par, line, word, 0, 0, 10, 10, conf, text].join('\t');

  it('joins words into lines and paragraphs, and averages the words’ confidences', () => {
    const tsv = [
      header,
      row(1, 0, 0, 0, 0, -1),
      row(2, 1, 0, 0, 0, -1),
      row(3, 1, 1, 0, 0, -1),
      row(4, 1, 1, 1, 0, -1),
      row(5, 1, 1, 1, 1, 90, 'Lease'),
      row(5, 1, 1, 1, 2, 80, 'agreement.'),
      row(4, 1, 1, 2, 0, -1),
      row(5, 1, 1, 2, 1, 70, 'Rent'),
      row(5, 1, 1, 2, 2, 95, '   '),
      row(3, 1, 2, 0, 0, -1),
      row(5, 1, 2, 1, 1, 60, 'Deposit'),
      row(5, 2, 1, 1, 1, 100, 'Signed'),
    ].join('\n');
    expect(fromTsv(tsv)).toEqual({
      text: 'Lease agreement.\nRent\n\nDeposit\n\nSigned\n\n',
      confidence: (90 + 80 + 70 + 60 + 100) / 5,
    });
  });

  it('gives no text and no confidence for a page without words', () => {
    expect(fromTsv([header, row(1, 0, 0, 0, 0, -1)].join('\n'))).toEqual({ text: '', confidence: 0 });
    expect(fromTsv('')).toEqual({ text: '', confidence: 0 });
  });
});
