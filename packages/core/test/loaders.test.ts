import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  FIXTURE_PASSWORD,
  type FixtureManifest,
  makeHtmlWithBoilerplate,
  makePdf,
  REPORT_PAGES,
  writeFixtureSet,
} from '@quire/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DocumentError } from '../src/errors.js';
import { DEFAULT_LOAD_LIMITS, type LoadedDocument, loadDocument } from '../src/loaders/index.js';

let dir: string;
let manifest: FixtureManifest;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'quire-loaders-'));
  manifest = await writeFixtureSet(dir);
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function load(name: string, password?: string): Promise<LoadedDocument> {
  const bytes = await readFile(join(dir, name));
  return loadDocument({ bytes, name, ...(password === undefined ? {} : { password }) });
}

function expectExactOffsets(doc: LoadedDocument): void {
  expect(doc.text).toBe(doc.sections.map((section) => section.text).join('\n\n'));
  for (const section of doc.sections) {
    expect(doc.text.slice(section.start, section.start + section.text.length)).toBe(section.text);
  }
}

describe('loadDocument on the fixture set', () => {
  it('covers good and bad files of every kind', () => {
    const outcomes = Object.values(manifest);
    const kinds = new Set(outcomes.flatMap((entry) => (entry.outcome === 'ok' ? [entry.kind] : [])));
    expect([...kinds].sort()).toEqual(['csv', 'docx', 'html', 'json', 'markdown', 'pdf', 'text']);
    const codes = new Set(outcomes.flatMap((entry) => (entry.outcome === 'error' ? [entry.code] : [])));
    expect([...codes].sort()).toEqual([
      'corrupt',
      'encrypted',
      'garbled_text',
      'needs_ocr',
      'no_text',
      'unsupported_type',
      'wrong_password',
    ]);
  });

  it('loads every good file with its kind, pages, title and the known phrase where it belongs', async () => {
    for (const [name, expected] of Object.entries(manifest)) {
      if (expected.outcome !== 'ok') continue;
      const doc = await load(name, expected.password);
      expect({
        name,
        kind: doc.kind,
        mediaType: doc.mediaType,
        pageCount: doc.pageCount,
        title: doc.title,
      }).toEqual({
        name,
        kind: expected.kind,
        mediaType: expected.mediaType,
        pageCount: expected.pageCount,
        title: expected.title,
      });
      const holders = doc.sections.filter((section) => section.text.includes(expected.phrase));
      expect(holders, `${name}: sections holding "${expected.phrase}"`).toHaveLength(1);
      expect({ name, page: holders[0]?.page, headingPath: holders[0]?.headingPath }).toEqual({
        name,
        page: expected.page,
        headingPath: expected.headingPath,
      });
      expectExactOffsets(doc);
    }
  });

  it('fails every bad file with its code and a message naming the file', async () => {
    for (const [name, expected] of Object.entries(manifest)) {
      if (expected.outcome !== 'error') continue;
      const error = await load(name, expected.password).then(
        () => null,
        (caught: unknown) => caught,
      );
      expect(error, name).toBeInstanceOf(DocumentError);
      expect({ name, code: (error as DocumentError).code }).toEqual({ name, code: expected.code });
      expect((error as DocumentError).message.startsWith(`${JSON.stringify(name)}: `)).toBe(true);
      expect((error as DocumentError).document).toBe(name);
      expect((error as DocumentError).retryable).toBe(false);
    }
  });
});

describe('PDF', () => {
  it('puts each page in its own section with its page number', async () => {
    const doc = await load('report.pdf');
    expect(doc.sections.map((section) => section.page)).toEqual([1, 2, 3]);
    REPORT_PAGES.forEach((lines, index) => {
      for (const line of lines) expect(doc.sections[index]?.text).toContain(line);
    });
    expect(doc.skippedPages).toEqual([]);
  });

  it('opens a non-ASCII password under AES-256 (UTF-8 passwords) and RC4 (Latin-1 passwords)', async () => {
    for (const name of ['locked-aes256.pdf', 'locked-rc4.pdf']) {
      const doc = await load(name, FIXTURE_PASSWORD);
      expect(doc.pageCount).toBe(3);
      await expect(load(name, 'pässwort')).rejects.toMatchObject({ code: 'wrong_password' });
    }
  });

  it('says how to fix an encrypted PDF without a password, and keeps the password out of messages', async () => {
    await expect(load('locked-no-password.pdf')).rejects.toMatchObject({
      message: '"locked-no-password.pdf": the PDF is password-protected; give its password',
    });
    const error = await load('locked-wrong-password.pdf', 'hunter2-secret').catch(
      (caught: unknown) => caught,
    );
    expect(String((error as Error).message)).not.toContain('hunter2-secret');
  });

  it('opens a PDF with only an owner password even when a password is given', async () => {
    const doc = await load('owner-password-only.pdf', 'irrelevant');
    expect(doc.pageCount).toBe(3);
  });

  it('calls a scanned PDF scanned and says to run OCR', async () => {
    await expect(load('scanned.pdf')).rejects.toMatchObject({
      code: 'needs_ocr',
      message: expect.stringContaining('it is scanned: 3 of 3 pages hold images and no text'),
    });
  });

  it('fails a PDF with more pages than allowed, naming count and limit', async () => {
    const pdf = await makePdf([['one'], ['two'], ['three'], ['four']]);
    await expect(
      loadDocument({ bytes: pdf, name: 'long.pdf' }, { limits: { maxPages: 3 } }),
    ).rejects.toMatchObject({
      code: 'too_many_pages',
      message: '"long.pdf": has 4 pages, more than the limit of 3 (maxPages)',
    });
  });

  it('skips pages without text in a document that is mostly text, and lists them', async () => {
    // A blank middle page stands in for an illustration plate.
    const pdf = await makePdf([REPORT_PAGES[0] ?? [], [], REPORT_PAGES[1] ?? [], REPORT_PAGES[2] ?? []]);
    const doc = await loadDocument({ bytes: pdf, name: 'plates.pdf' });
    expect(doc.pageCount).toBe(4);
    expect(doc.sections.map((section) => section.page)).toEqual([1, 3, 4]);
    expect(doc.skippedPages).toEqual([{ page: 2, reason: 'no_text' }]);
  });
});

describe('limits and options', () => {
  it('checks the size before anything else', async () => {
    const bytes = Buffer.from('x'.repeat(2_000));
    await expect(
      loadDocument({ bytes, name: 'big.txt' }, { limits: { maxBytes: 1_000 } }),
    ).rejects.toMatchObject({
      code: 'too_large',
      message: '"big.txt": is 2000 bytes, more than the limit of 1000 bytes (maxBytes)',
      details: { bytes: 2_000, limit: 1_000 },
    });
  });

  it('fails text longer than maxChars after extraction', async () => {
    const bytes = Buffer.from('word '.repeat(400));
    await expect(
      loadDocument({ bytes, name: 'long.txt' }, { limits: { maxChars: 100 } }),
    ).rejects.toMatchObject({
      code: 'too_many_chars',
      message: expect.stringContaining('more than the limit of 100 (maxChars)'),
    });
  });

  it('stops a PDF worker as soon as the extracted text passes maxChars', async () => {
    const pdf = await makePdf(REPORT_PAGES);
    await expect(
      loadDocument({ bytes: pdf, name: 'r.pdf' }, { limits: { maxChars: 120 } }),
    ).rejects.toMatchObject({
      code: 'too_many_chars',
      message: expect.stringMatching(/reached on page [12]$/),
    });
  });

  it('uses the claimed type only as a hint for files without a telling name', async () => {
    const html = Buffer.from(makeHtmlWithBoilerplate());
    const hinted = await loadDocument({
      bytes: html,
      name: 'download',
      claimedType: 'text/html; charset=utf-8',
    });
    expect(hinted.kind).toBe('html');
    const named = await loadDocument({ bytes: html, name: 'page.txt', claimedType: 'text/html' });
    expect(named.kind).toBe('text');
  });

  it('rejects with the abort reason when the signal is already aborted', async () => {
    const controller = new AbortController();
    controller.abort(new Error('shutting down'));
    await expect(
      loadDocument({ bytes: Buffer.from('hello'), name: 'a.txt', signal: controller.signal }),
    ).rejects.toThrow('shutting down');
  });

  it('rejects bad input and bad limits as invalid_input', async () => {
    await expect(
      loadDocument({ bytes: 'text' as unknown as Uint8Array, name: 'a.txt' }),
    ).rejects.toMatchObject({
      code: 'invalid_input',
    });
    await expect(loadDocument({ bytes: Buffer.from('x'), name: ' ' })).rejects.toMatchObject({
      code: 'invalid_input',
    });
    await expect(
      loadDocument({ bytes: Buffer.from('x'), name: 'a.txt' }, { limits: { maxChars: 0 } }),
    ).rejects.toMatchObject({ code: 'invalid_input' });
  });

  it('documents safe defaults', () => {
    expect(DEFAULT_LOAD_LIMITS.maxBytes).toBe(50 * 1024 * 1024);
    expect(Object.isFrozen(DEFAULT_LOAD_LIMITS)).toBe(true);
  });
});
