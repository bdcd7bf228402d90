/**
 * One behaviour spec run against both PDF engines (pdfjs, poppler): the same reproducers give the
 * same outcome whichever engine reads them, alone (no fallback) and as a deployment uses them
 * (first engine, then the other). Needs Poppler's tools (poppler-utils), which CI installs.
 */
import { execFileSync } from 'node:child_process';
import {
  makeBlankPdf,
  makeContentStreamBombPdf,
  makeControlCharPdf,
  makeCroppedPdf,
  makeDamagedPdf,
  makeEncryptedPdf,
  makeImagePdf,
  makeNearEmptyPdf,
  makePdf,
  makePng,
  makeScannedPdf,
  makeUnsupportedFilterPdf,
  REPORT_PAGES,
} from '@quire/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type DocumentError, isQuireError } from '../src/errors.js';
import {
  DEFAULT_LOAD_LIMITS,
  type LoadedDocument,
  loadDocument,
  type PdfEngineName,
  type PdfEngines,
  parsePdfInWorker,
  passwordCandidates,
  resolvePdfEngines,
} from '../src/loaders/index.js';
import { pagesNeedingOcr } from '../src/loaders/ocr/index.js';
import { ParseSandbox } from '../src/sandbox/parse-sandbox.js';
import { registerSandboxTask } from '../src/sandbox/task-kinds.js';

const sandbox = new ParseSandbox({ size: 2 });
let both: Record<PdfEngineName, PdfEngines>;

beforeAll(async () => {
  const pdfjs = await resolvePdfEngines('pdfjs');
  const poppler = await resolvePdfEngines('poppler');
  both = { pdfjs, poppler };
});

afterAll(() => sandbox.close());

/** One engine alone: no fallback. */
function only(engine: PdfEngineName): PdfEngines {
  return { ...both[engine], fallback: null };
}

function load(
  bytes: Uint8Array,
  name: string,
  engines: PdfEngines,
  password?: string,
): Promise<LoadedDocument> {
  return loadDocument(
    { bytes, name, ...(password === undefined ? {} : { password }) },
    { sandbox, pdfEngines: engines },
  );
}

async function failure(promise: Promise<unknown>): Promise<DocumentError> {
  const error = await promise.then(
    () => {
      throw new Error('expected the load to fail');
    },
    (e: unknown) => e,
  );
  if (!isQuireError(error)) throw error;
  return error as DocumentError;
}

describe('engine resolution', () => {
  it('resolves auto to poppler when its tools are installed, with pdfjs as the fallback', async () => {
    const auto = await resolvePdfEngines('auto');
    expect(auto.primary).toMatchObject({
      engine: 'poppler',
      version: expect.stringMatching(/^poppler \d+\.\d+/),
    });
    expect(auto.fallback).toMatchObject({
      engine: 'pdfjs',
      version: expect.stringMatching(/^pdfjs-dist \d+\./),
    });
  });

  it('refuses an unknown engine by name', async () => {
    await expect(resolvePdfEngines('mupdf' as never)).rejects.toMatchObject({
      code: 'invalid_input',
      message: expect.stringContaining('"mupdf"'),
    });
  });
});

describe.each(['pdfjs', 'poppler'] as const)('the %s engine', (engine) => {
  it('reads a text PDF page by page, with its title and the engine in the recipe', async () => {
    const pdf = await makePdf(REPORT_PAGES, { title: 'Quarterly report' });
    const doc = await load(pdf, 'report.pdf', only(engine));
    expect(doc.pageCount).toBe(REPORT_PAGES.length);
    expect(doc.title).toBe('Quarterly report');
    expect(doc.sections.map((s) => s.page)).toEqual(REPORT_PAGES.map((_, i) => i + 1));
    expect(doc.text).toContain(REPORT_PAGES[0]![0]!);
    expect(doc.extraction.pdf).toEqual(both[engine].primary);
  });

  it('keeps a title with markup characters as written', async () => {
    const title = `R&D <draft> "Q3" l'été`;
    const doc = await load(await makePdf(REPORT_PAGES, { title }), 'rd.pdf', only(engine));
    expect(doc.title).toBe(title);
  });

  it('gives a title on two lines whole with pdf.js, its first line with poppler (as pdfinfo does)', async () => {
    const doc = await load(
      await makePdf(REPORT_PAGES, { title: 'Annual report\nDraft two' }),
      't.pdf',
      only(engine),
    );
    expect(doc.title).toBe(engine === 'poppler' ? 'Annual report' : 'Annual report\nDraft two');
  });

  it('refuses a PDF with more text than maxChars', async () => {
    // ~150 KB of text: more than the cap on what an engine reads for 1,000 characters.
    const long = Array.from({ length: 30 }, (_, page) =>
      Array.from(
        { length: 60 },
        (_, line) => `Page ${page + 1} line ${line + 1}: the keeper logged the storm.`,
      ),
    );
    const refused = loadDocument(
      { bytes: await makePdf(long), name: 'long.pdf' },
      { sandbox, pdfEngines: only(engine), limits: { maxChars: 1000 } },
    );
    await expect(refused).rejects.toMatchObject({ code: 'too_many_chars' });
  });

  it('leaves out text a page holds outside its crop box', async () => {
    const pages = [REPORT_PAGES[0]!, REPORT_PAGES[1]!];
    const pdf = await makeCroppedPdf(pages, 'SLUG 14773_00_proof.qxd 4TH PASS');
    const doc = await load(pdf, 'proof.pdf', only(engine));
    expect(doc.pageCount).toBe(2);
    expect(doc.text).toContain(pages[1]![0]!);
    expect(doc.text).not.toContain('SLUG');
  });

  it('calls an image-only PDF scanned: needs_ocr', async () => {
    const error = await failure(load(await makeScannedPdf(2), 'scan.pdf', only(engine)));
    expect(error.code).toBe('needs_ocr');
    expect(error.message).toContain('2 of 2 pages hold images and no text');
  });

  it('calls a blank PDF blank, not scanned', async () => {
    const error = await failure(load(await makeBlankPdf(3), 'blank.pdf', only(engine)));
    expect(error.code).toBe('blank_document');
    expect(error.message).toContain('is blank: none of its 3 pages holds text or images');
  });

  it('calls a PDF holding only page numbers nearly empty, not scanned', async () => {
    const error = await failure(load(await makeNearEmptyPdf(3), 'numbers.pdf', only(engine)));
    expect(error.code).toBe('blank_document');
    expect(error.message).toContain('is nearly empty: 3 letters or digits on 3 pages and no images');
  });

  it('calls a text layer of control characters garbled', async () => {
    const error = await failure(load(makeControlCharPdf(REPORT_PAGES), 'ctrl.pdf', only(engine)));
    expect(error.code).toBe('garbled_text');
    expect(error.message).toContain('its text layer is unreadable');
    // Its "l" is code 12, a form feed, which also ends a page in Poppler's output: pages are still
    // counted right.
    expect(error.details).toMatchObject({ pageCount: REPORT_PAGES.length });
  });

  it('names an unsupported compression filter instead of calling the file damaged', async () => {
    const error = await failure(load(makeUnsupportedFilterPdf(REPORT_PAGES), 'brotli.pdf', only(engine)));
    expect(error.code).toBe('unsupported_feature');
    expect(error.message).toContain('is compressed with the BrotliDecode filter');
  });

  it("says a damaged file is damaged in Quire's words, the engine's message as detail", async () => {
    const error = await failure(load(makeDamagedPdf(), 'damaged.pdf', only(engine)));
    expect(error.code).toBe('corrupt');
    expect(error.message).toMatch(/^"damaged\.pdf": is damaged/);
    expect(error.details?.engines).toEqual([expect.objectContaining({ engine, code: 'corrupt' })]);
  });

  it('opens AES-256 with a password that only works SASLprep-normalised, never showing it', async () => {
    // The file's password is the SASLprep form (a plain space); the user types a no-break space.
    const typed = 'pässwörd\u00a0ünïcode';
    const pdf = await makeEncryptedPdf(REPORT_PAGES, {
      userPassword: 'pässwörd ünïcode',
      pdfVersion: '1.7ext3',
    });
    const doc = await load(pdf, 'aes256.pdf', only(engine), typed);
    expect(doc.text).toContain(REPORT_PAGES[0]![0]!);

    const wrong = await failure(load(pdf, 'aes256.pdf', only(engine), 'not it'));
    expect(wrong.code).toBe('wrong_password');
    expect(JSON.stringify({ message: wrong.message, details: wrong.details })).not.toContain('not it');
    const none = await failure(load(pdf, 'aes256.pdf', only(engine)));
    expect(none.code).toBe('encrypted');
  });
});

describe('which pages the pdfjs engine finds painting images', () => {
  const limits = DEFAULT_LOAD_LIMITS;
  // Grey stripes, a stand-in for a scanned page of print.
  const scan = makePng(200, 260, (x, y) => (Math.floor(y / 6) % 3 === 0 && x > 20 && x < 180 ? 40 : 235));

  it('marks every page of an image-only PDF as painting images', async () => {
    const parsed = await parsePdfInWorker(await makeScannedPdf(3), 'scan.pdf', { limits, sandbox });
    expect(parsed.pages.map((p) => [p.page, p.images])).toEqual([
      [1, true],
      [2, true],
      [3, true],
    ]);
  });

  it('in a mixed PDF, tells the scanned page from the blank one and never looks at text pages', async () => {
    const bytes = await makeImagePdf([
      { text: REPORT_PAGES[0]! },
      { image: scan },
      { text: [] },
      { text: REPORT_PAGES[1]! },
    ]);
    const parsed = await parsePdfInWorker(bytes, 'mixed.pdf', { limits, sandbox });
    expect(parsed.pages.map((p) => [p.page, p.images])).toEqual([
      [1, undefined],
      [2, true],
      [3, false],
      [4, undefined],
    ]);
    // OCR reads the scanned page only: the blank page is known to paint nothing.
    expect(pagesNeedingOcr(parsed.pages, 'auto')).toEqual([2]);

    // Without OCR to use the answer, the pages of a document with text are not looked at...
    const unasked = await parsePdfInWorker(bytes, 'mixed.pdf', {
      limits,
      sandbox,
      imagesOfBlankPages: false,
    });
    expect(unasked.pages.map((p) => [p.page, p.images])).toEqual(
      [1, 2, 3, 4].map((page) => [page, undefined]),
    );
    expect(unasked.pages.map((p) => p.text)).toEqual(parsed.pages.map((p) => p.text));
    // ...while a would-be scan still is: its verdict depends on it.
    const scanned = await parsePdfInWorker(await makeScannedPdf(2), 'scan.pdf', {
      limits,
      sandbox,
      imagesOfBlankPages: false,
    });
    expect(scanned.pages.map((p) => p.images)).toEqual([true, true]);
  });
});

describe('passwordCandidates', () => {
  it('tries the password as typed and SASLprep-normalised, as UTF-8 bytes for pdf.js', () => {
    expect(passwordCandidates('a\u00a0b', 'poppler')).toEqual(['a\u00a0b', 'a b']);
    expect(passwordCandidates('a\u00a0b', 'pdfjs')).toEqual(['a\u00c2\u00a0b', 'a\u00a0b', 'a b']);
    expect(passwordCandidates('secret', 'pdfjs')).toEqual(['secret']);
    expect(passwordCandidates('', 'poppler')).toEqual([]);
  });
});

describe('fallback to the other engine', () => {
  it('reads with the other engine a file the first reads as control characters, and records it', async () => {
    // A pdfjs that returns control characters for every page, as pdf.js did for a readable paper.
    registerSandboxTask('pdf', new URL('./fixtures/sandbox-tasks/control-chars-pdf.ts', import.meta.url));
    try {
      const pdf = await makePdf(REPORT_PAGES);
      const doc = await load(pdf, 'paper.pdf', both.pdfjs);
      expect(doc.text).toContain(REPORT_PAGES[0]![0]!);
      expect(doc.extraction.pdf).toEqual(both.poppler.primary);
      // Alone, the same engine refuses it.
      const error = await failure(load(pdf, 'paper.pdf', only('pdfjs')));
      expect(error.code).toBe('garbled_text');
    } finally {
      registerSandboxTask('pdf', new URL('../src/sandbox/tasks/pdf-task.ts', import.meta.url));
    }
  });

  it('never hands a password to poppler when pdfjs is the chosen engine', async () => {
    const pdf = await makeEncryptedPdf(REPORT_PAGES, { userPassword: 'right', pdfVersion: '1.7ext3' });
    const chosenPdfjs = await failure(load(pdf, 'locked.pdf', both.pdfjs, 'wrong'));
    expect(chosenPdfjs.code).toBe('wrong_password');
    expect(chosenPdfjs.details?.engines).toEqual([expect.objectContaining({ engine: 'pdfjs' })]);
    // With poppler chosen, a refused password is tried by pdfjs too.
    const chosenPoppler = await failure(load(pdf, 'locked.pdf', both.poppler, 'wrong'));
    expect(chosenPoppler.details?.engines).toEqual([
      expect.objectContaining({ engine: 'poppler', code: 'wrong_password' }),
      expect.objectContaining({ engine: 'pdfjs', code: 'wrong_password' }),
    ]);
  });

  it('reports the more telling verdict when both engines fail, with both engines under details', async () => {
    const error = await failure(load(await makeScannedPdf(1), 'scan.pdf', both.poppler));
    expect(error.code).toBe('needs_ocr');
    expect(error.details?.engines).toEqual([
      expect.objectContaining({ engine: 'poppler', code: 'needs_ocr' }),
      expect.objectContaining({ engine: 'pdfjs', code: 'needs_ocr' }),
    ]);
  });
});

describe('the poppler engine in the sandbox', () => {
  it('leaves no tool running when the parse is stopped by its time limit', async () => {
    // 1 GiB of text in one content stream: pdftotext is still at it when the limit strikes.
    const bomb = makeContentStreamBombPdf();
    const own = new ParseSandbox({ size: 1 });
    try {
      const loading = loadDocument(
        { bytes: bomb, name: 'bomb.pdf' },
        {
          sandbox: own,
          pdfEngines: only('poppler'),
          limits: { parseTimeoutMs: 1500, parseMaxMemoryMb: 1024 },
        },
      );
      const child = await waitFor(() => own.pids()[0]);
      const error = await failure(loading);
      expect(error.code).toBe('parse_timeout');
      // The sandbox killed the child's process group, so no tool of it is left (once the kernel
      // has reaped it: a killed process lingers a moment).
      let left = processesInGroup(child);
      for (let i = 0; i < 50 && left.length > 0; i++) {
        await new Promise((resolve) => setTimeout(resolve, 100));
        left = processesInGroup(child);
      }
      expect(left).toEqual([]);
    } finally {
      await own.close();
    }
  });
});

async function waitFor<T>(get: () => T | undefined): Promise<T> {
  for (;;) {
    const value = get();
    if (value !== undefined) return value;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

function processesInGroup(group: number): string[] {
  return execFileSync('ps', ['-eo', 'pgid=,pid=,stat=,comm='], { encoding: 'utf8' })
    .split('\n')
    .map((line) => line.trim().split(/\s+/))
    .filter(([pgid, , stat]) => Number(pgid) === group && !stat?.startsWith('Z'))
    .map((fields) => fields.join(' '));
}
