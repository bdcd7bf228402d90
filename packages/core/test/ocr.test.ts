/**
 * OCR through `loadDocument`, on pages made here from known text: an image-only PDF, a page turned
 * sideways, a page in English and French, a PDF mixing a text page and a scanned page, a multi-page
 * TIFF, JPEG and WebP images, a blank scan, and an image bomb. Each page read must hold at least 95%
 * of the words it was made from.
 */
import {
  OCR_ENGLISH_PAGE as ENGLISH_PAGE,
  OCR_FRENCH_PAGE as FRENCH_PAGE,
  makeImageBomb,
  makeImagePdf as makePdf,
  makeMultiPageTiff as makeTiff,
  renderTextPage as renderPage,
  wordRecall,
} from '@quire/testkit';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DocumentError, QuireError } from '../src/errors.js';
import { type LoadDocumentOptions, loadDocument } from '../src/loaders/index.js';
import type { OcrEngineSetting } from '../src/loaders/ocr/engine.js';
import { openOcrCache } from '../src/loaders/ocr/ocr-cache.js';
import { type OcrSettingsInput, resolveOcrSettings } from '../src/loaders/ocr/settings.js';
import { type ParseFinishedEvent, ParseSandbox } from '../src/sandbox/index.js';

const finished: ParseFinishedEvent[] = [];
const sandbox = new ParseSandbox({ size: 2, observer: { parseFinished: (e) => finished.push(e) } });
const limits = { parseTimeoutMs: 120_000, parseMaxMemoryMb: 512 };
const english = ENGLISH_PAGE.join('\n');
const french = FRENCH_PAGE.join('\n');

let englishPng: Buffer;
let frenchPng: Buffer;

beforeAll(async () => {
  englishPng = await renderPage(ENGLISH_PAGE);
  frenchPng = await renderPage(FRENCH_PAGE);
});
afterAll(() => sandbox.close());

/** The engine the running block tests (each engine's block sets it); `auto` elsewhere. */
let engine: OcrEngineSetting = 'auto';

function options(
  ocr: OcrSettingsInput = {},
  extra: Partial<LoadDocumentOptions['ocr']> = {},
): LoadDocumentOptions {
  return { sandbox, limits, ocr: { settings: resolveOcrSettings({ engine }, ocr), ...extra } };
}

function pageText(doc: Awaited<ReturnType<typeof loadDocument>>, page: number): string {
  return doc.sections
    .filter((s) => s.page === page)
    .map((s) => s.text)
    .join('\n');
}

// Both engines: Tesseract's program (CI installs Debian's) and tesseract.js.
describe.each(['tesseract', 'tesseract.js'] as const)(
  'OCR of scanned PDFs (%s)',
  { timeout: 180_000 },
  (tested) => {
    beforeAll(() => {
      engine = tested;
    });
    afterAll(() => {
      engine = 'auto';
    });

    it('reads an image-only PDF page by page, with confidence and progress', async () => {
      const bytes = await makePdf([{ image: englishPng }, { image: englishPng }]);
      const progress: Array<{ done: number; total: number }> = [];
      const doc = await loadDocument(
        { bytes, name: 'scan.pdf' },
        options({}, { onPage: (p) => progress.push(p) }),
      );
      expect(doc.kind).toBe('pdf');
      expect(doc.pageCount).toBe(2);
      for (const page of [1, 2])
        expect(wordRecall(english, pageText(doc, page))).toBeGreaterThanOrEqual(0.95);
      expect(doc.ocr?.pages.map((p) => p.page)).toEqual([1, 2]);
      for (const page of doc.ocr?.pages ?? []) {
        expect(page.confidence).toBeGreaterThan(80);
        expect(page.lowConfidence).toBe(false);
        expect(page.illegible).toBe(false);
      }
      expect(doc.ocr?.recipe).toMatchObject({ langs: ['eng'], dpi: 300 });
      expect(doc.ocr?.recipe.engine).toMatch(
        tested === 'tesseract' ? /^tesseract@\d+\.\d+/ : /^tesseract\.js@/,
      );
      expect(progress.map((p) => p.done)).toEqual([1, 2]);
      expect(progress.every((p) => p.total === 2)).toBe(true);
    });

    it('reads a page scanned sideways', async () => {
      const turned = await sharp(englishPng).rotate(90).png().toBuffer();
      const doc = await loadDocument(
        { bytes: await makePdf([{ image: turned }]), name: 'sideways.pdf' },
        options(),
      );
      expect(wordRecall(english, pageText(doc, 1))).toBeGreaterThanOrEqual(0.95);
    });

    it('reads a page scanned upside down, turning it', async () => {
      const turned = await sharp(englishPng).rotate(180).png().toBuffer();
      const doc = await loadDocument(
        { bytes: await makePdf([{ image: turned }]), name: 'upside-down.pdf' },
        options(),
      );
      expect(wordRecall(english, pageText(doc, 1))).toBeGreaterThanOrEqual(0.95);
      expect(doc.ocr?.pages[0]?.rotation).toBe(180);
    });

    it('reads a page in two languages with both models', async () => {
      const doc = await loadDocument(
        { bytes: await makePdf([{ image: frenchPng }]), name: 'bail.pdf' },
        options({ langs: ['eng', 'fra'] }),
      );
      const text = pageText(doc, 1);
      expect(wordRecall(french, text)).toBeGreaterThanOrEqual(0.95);
      expect(text).toContain('réparations');
      expect(doc.ocr?.recipe.langs).toEqual(['eng', 'fra']);
    });

    it('keeps the text layer of text pages in a mixed PDF and reads only the scanned page', async () => {
      const bytes = await makePdf([{ text: ENGLISH_PAGE }, { image: frenchPng }]);
      const doc = await loadDocument({ bytes, name: 'mixed.pdf' }, options({ langs: ['fra', 'eng'] }));
      expect(pageText(doc, 1)).toContain('Lease agreement between the owner and the tenant.');
      expect(doc.ocr?.pages.map((p) => p.page)).toEqual([2]);
      expect(wordRecall(french, pageText(doc, 2))).toBeGreaterThanOrEqual(0.95);
    });

    it('reports a blank scanned page as illegible and keeps the others', async () => {
      const blank = await sharp({ create: { width: 1240, height: 1754, channels: 3, background: '#fff' } })
        .png()
        .toBuffer();
      const doc = await loadDocument(
        { bytes: await makePdf([{ image: englishPng }, { image: blank }]), name: 'half.pdf' },
        options(),
      );
      expect(doc.skippedPages).toEqual([{ page: 2, reason: 'illegible' }]);
      expect(doc.ocr?.pages[1]).toMatchObject({ page: 2, illegible: true });
      const only = loadDocument({ bytes: await makePdf([{ image: blank }]), name: 'blank.pdf' }, options());
      await expect(only).rejects.toThrow(/"blank\.pdf": OCR found no legible text on 1 of its 1 pages/);
    });

    it('flags a page under the confidence threshold and keeps it', async () => {
      const doc = await loadDocument(
        { bytes: await makePdf([{ image: englishPng }]), name: 'strict.pdf' },
        options({ minConfidence: 99.9 }),
      );
      expect(doc.ocr?.pages[0]?.lowConfidence).toBe(true);
      expect(wordRecall(english, pageText(doc, 1))).toBeGreaterThanOrEqual(0.95);
    });

    it('leaves scanned pages alone when OCR is off', async () => {
      const bytes = await makePdf([{ image: englishPng }]);
      await expect(loadDocument({ bytes, name: 'scan.pdf' }, options({ mode: 'off' }))).rejects.toMatchObject(
        {
          code: 'needs_ocr',
          message: expect.stringMatching(/it is scanned/),
        },
      );
      await expect(loadDocument({ bytes, name: 'scan.pdf' }, { sandbox, limits })).rejects.toMatchObject({
        code: 'needs_ocr',
        message: expect.stringMatching(/it is scanned/),
      });
    });

    it('reads every page, text layer or not, when forced', async () => {
      const bytes = await makePdf([{ text: ENGLISH_PAGE }, { image: englishPng }]);
      const doc = await loadDocument({ bytes, name: 'forced.pdf' }, options({ mode: 'force' }));
      expect(doc.ocr?.pages.map((p) => p.page)).toEqual([1, 2]);
      expect(wordRecall(english, pageText(doc, 1))).toBeGreaterThanOrEqual(0.95);
    });

    it('reuses cached results: the same pages are not read again', async () => {
      const cache = openOcrCache(':memory:');
      const bytes = await makePdf([{ image: englishPng }]);
      const first = await loadDocument({ bytes, name: 'a.pdf' }, options({}, { cache }));
      const before = finished.filter((e) => e.kind === 'ocr').length;
      const second = await loadDocument({ bytes, name: 'b.pdf' }, options({}, { cache }));
      expect(finished.filter((e) => e.kind === 'ocr').length).toBe(before);
      expect(second.ocr?.pages[0]?.cached).toBe(true);
      expect(second.text).toBe(first.text);
      // Another recipe (languages) reads the page again.
      const third = await loadDocument(
        { bytes, name: 'c.pdf' },
        options({ langs: ['eng', 'fra'] }, { cache }),
      );
      expect(third.ocr?.pages[0]?.cached).toBe(false);
      cache.close();
    });

    it('names a language that is not installed', async () => {
      const bytes = await makePdf([{ image: englishPng }]);
      const load = loadDocument({ bytes, name: 'scan.pdf' }, options({ langs: ['xyz'] }));
      await expect(load).rejects.toBeInstanceOf(QuireError);
      await expect(load).rejects.toThrow(/OCR language "xyz" is not installed \(installed: .*eng/);
    });
  },
);

describe('OCR of image files', { timeout: 180_000 }, () => {
  it('reads a PNG, a JPEG and a WebP', async () => {
    const jpeg = await sharp(englishPng).jpeg({ quality: 85 }).toBuffer();
    const webp = await sharp(englishPng).webp({ quality: 85 }).toBuffer();
    for (const [name, bytes, mediaType] of [
      ['page.png', englishPng, 'image/png'],
      ['page.jpg', jpeg, 'image/jpeg'],
      ['page.webp', webp, 'image/webp'],
    ] as const) {
      const doc = await loadDocument({ bytes, name }, options());
      expect(doc.kind).toBe('image');
      expect(doc.mediaType).toBe(mediaType);
      expect(doc.pageCount).toBe(1);
      expect(wordRecall(english, doc.text)).toBeGreaterThanOrEqual(0.95);
      expect(doc.sections.every((s) => s.page === 1)).toBe(true);
    }
  });

  it('reads every page of a multi-page TIFF, each cited by its page', async () => {
    const tiff = await makeTiff([englishPng, frenchPng]);
    const doc = await loadDocument(
      { bytes: tiff, name: 'contract.tiff' },
      options({ langs: ['eng', 'fra'] }),
    );
    expect(doc.mediaType).toBe('image/tiff');
    expect(doc.pageCount).toBe(2);
    expect(wordRecall(english, pageText(doc, 1))).toBeGreaterThanOrEqual(0.95);
    expect(wordRecall(french, pageText(doc, 2))).toBeGreaterThanOrEqual(0.95);
  });

  it('refuses an image bomb from its header, before decoding it', async () => {
    const bomb = await makeImageBomb(100_000, 100_000);
    const load = loadDocument({ bytes: bomb, name: 'bomb.png' }, options());
    await expect(load).rejects.toBeInstanceOf(DocumentError);
    await expect(load).rejects.toMatchObject({ code: 'too_large' });
    await expect(load).rejects.toThrow(/100000 × 100000 pixels, more than the limit of 40000000 pixels/);
  });

  it('refuses an image when OCR is off', async () => {
    const load = loadDocument({ bytes: englishPng, name: 'page.png' }, { sandbox, limits });
    await expect(load).rejects.toThrow(/is an image: its text needs OCR, which is turned off/);
  });
});
