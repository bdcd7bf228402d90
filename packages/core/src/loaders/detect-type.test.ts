import { makeDocx, makePdf, makePlainZip, makePng, makeZip } from '@quire/testkit';
import { describe, expect, it } from 'vitest';
import { detectDocumentType } from './detect-type.js';

const text = (value: string) => Buffer.from(value, 'utf8');

describe('detectDocumentType', () => {
  it('trusts the PDF signature over the name and the claimed type', async () => {
    const pdf = await makePdf([['hello']]);
    await expect(
      detectDocumentType({ bytes: pdf, name: 'notes.txt', claimedType: 'text/plain' }),
    ).resolves.toEqual({
      kind: 'pdf',
      mediaType: 'application/pdf',
    });
  });

  it('finds a PDF header after leading junk within the first kilobyte', async () => {
    const pdf = Buffer.concat([Buffer.from('junk\n'), await makePdf([['hello']])]);
    await expect(detectDocumentType({ bytes: pdf, name: 'x' })).resolves.toMatchObject({ kind: 'pdf' });
  });

  it('tells a DOCX from other ZIP archives', async () => {
    const docx = await makeDocx('Title', []);
    await expect(detectDocumentType({ bytes: docx, name: 'upload.bin' })).resolves.toMatchObject({
      kind: 'docx',
    });
    await expect(detectDocumentType({ bytes: makePlainZip(), name: 'report.docx' })).rejects.toMatchObject({
      code: 'unsupported_type',
      message: '"report.docx": is a ZIP archive, not a supported document',
    });
  });

  it('recognises a ZIP holding word/document.xml as DOCX even when file-type does not', async () => {
    const docxLike = makeZip({ 'word/document.xml': '<w:document/>' });
    await expect(detectDocumentType({ bytes: docxLike, name: 'x.zip' })).resolves.toMatchObject({
      kind: 'docx',
    });
  });

  it('names other Office formats', async () => {
    const xlsx = makeZip({ '[Content_Types].xml': '<Types/>', 'xl/workbook.xml': '<workbook/>' });
    await expect(detectDocumentType({ bytes: xlsx, name: 'sheet.xlsx' })).rejects.toMatchObject({
      code: 'unsupported_type',
      message: expect.stringContaining('an Excel workbook (.xlsx)'),
    });
  });

  it('takes scans and photos (PNG, JPEG, TIFF, WebP) as images for OCR, whatever their name', async () => {
    const png = makePng(4, 4, () => 0);
    await expect(
      detectDocumentType({ bytes: png, name: 'scan.pdf', claimedType: 'application/pdf' }),
    ).resolves.toEqual({ kind: 'image', mediaType: 'image/png' });
  });

  it('refuses other images, naming what they are', async () => {
    const gif = Buffer.from('GIF89a\x01\x00\x01\x00\x00\x00\x00;', 'latin1');
    await expect(detectDocumentType({ bytes: gif, name: 'anim.gif' })).rejects.toMatchObject({
      code: 'unsupported_type',
      message: '"anim.gif": is an image (GIF, image/gif), which is not a supported document type',
      details: { detectedType: 'image/gif' },
    });
  });

  it('keeps a text file whose first bytes happen to look like a signature', async () => {
    await expect(
      detectDocumentType({ bytes: text('MZ is how the notes begin.\n'), name: 'notes.txt' }),
    ).resolves.toMatchObject({
      kind: 'text',
    });
  });

  it('refuses a file named or sent as PDF whose bytes are not a PDF', async () => {
    await expect(
      detectDocumentType({ bytes: text('<!doctype html><p>Login</p>'), name: 'report.pdf' }),
    ).rejects.toMatchObject({
      code: 'corrupt',
      message: '"report.pdf": is named .pdf but is not a PDF: it looks like html text',
    });
    await expect(
      detectDocumentType({
        bytes: text('plain words'),
        name: 'download',
        claimedType: 'application/pdf; charset=binary',
      }),
    ).rejects.toMatchObject({
      code: 'corrupt',
      message: expect.stringContaining('was sent as application/pdf'),
    });
  });

  it('takes text kinds from the extension first, then the claimed type, then the content', async () => {
    const json = text('{"a": 1}');
    await expect(detectDocumentType({ bytes: json, name: 'data.txt' })).resolves.toMatchObject({
      kind: 'text',
    });
    await expect(
      detectDocumentType({ bytes: json, name: 'data', claimedType: 'text/markdown' }),
    ).resolves.toMatchObject({
      kind: 'markdown',
    });
    await expect(detectDocumentType({ bytes: json, name: 'data' })).resolves.toMatchObject({
      kind: 'json',
      mediaType: 'application/json',
    });
    await expect(
      detectDocumentType({ bytes: text('<!DOCTYPE html><html></html>'), name: 'page' }),
    ).resolves.toMatchObject({
      kind: 'html',
    });
    await expect(detectDocumentType({ bytes: text('[not json'), name: 'README' })).resolves.toMatchObject({
      kind: 'text',
    });
  });

  it('maps extensions to kinds and media types', async () => {
    const cases: Array<[string, string, string]> = [
      ['a.md', 'markdown', 'text/markdown'],
      ['a.HTM', 'html', 'text/html'],
      ['a.csv', 'csv', 'text/csv'],
      ['a.tsv', 'csv', 'text/tab-separated-values'],
      ['a.jsonl', 'json', 'application/jsonl'],
      ['a.log', 'text', 'text/plain'],
    ];
    for (const [name, kind, mediaType] of cases) {
      await expect(detectDocumentType({ bytes: text('x'), name })).resolves.toMatchObject({
        kind,
        mediaType,
      });
    }
  });

  it('reads XHTML that starts with an XML declaration as HTML and refuses other XML', async () => {
    const xhtml = text(
      '<?xml version="1.0"?>\n<html xmlns="http://www.w3.org/1999/xhtml"><body><p>x</p></body></html>',
    );
    await expect(detectDocumentType({ bytes: xhtml, name: 'page.xhtml' })).resolves.toMatchObject({
      kind: 'html',
    });
    const xml = text('<?xml version="1.0"?>\n<catalog><book>x</book></catalog>');
    await expect(detectDocumentType({ bytes: xml, name: 'books.xml' })).rejects.toMatchObject({
      code: 'unsupported_type',
    });
  });

  it('returns the decoded text of text formats', async () => {
    const detected = await detectDocumentType({ bytes: text('\ufeffa\r\nb'), name: 'a.txt' });
    expect(detected.decoded?.text).toBe('a\nb');
  });
});
