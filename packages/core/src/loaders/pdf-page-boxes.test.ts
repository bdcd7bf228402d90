import { deflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { MAX_INFLATED_BYTES, MAX_OBJECT_STREAMS, mayCropPages } from './pdf-page-boxes.js';

/**
 * A PDF-like byte string: the page dictionaries' text and where its cross-reference section is
 * (a classic table unless `xref` says otherwise) are all the scan reads.
 */
function pdf(...objects: string[]): Uint8Array {
  const body = `%PDF-1.4\n${objects.join('\n')}\n`;
  return Buffer.from(
    `${body}xref\n0 1\n0000000000 65535 f \ntrailer\n<< /Size 1 >>\nstartxref\n${body.length}\n%%EOF\n`,
    'latin1',
  );
}

/** An object stream holding `objects` (compressed unless `filter` says otherwise) as the file spells it. */
function objectStream(
  objects: string,
  options: { dict?: string; filter?: string; data?: Buffer } = {},
): string {
  const filter = options.filter ?? '/Filter /FlateDecode';
  const data =
    options.data ??
    (filter.includes('FlateDecode')
      ? deflateSync(Buffer.from(objects, 'latin1'))
      : Buffer.from(objects, 'latin1'));
  const dict = options.dict ?? '/Type /ObjStm /N 2 /First 12';
  return `5 0 obj\n<< ${dict} ${filter} /Length ${data.length} >>\nstream\r\n${data.toString('latin1')}\nendstream\nendobj`;
}

const CROPPED_PAGE = '1 0 2 40 << /Type /Page /MediaBox [0 0 612 792] /CropBox [40 40 572 752] >>';
const PLAIN_PAGE = '1 0 2 40 << /Type /Page /MediaBox [0 0 612 792] >>';

describe('mayCropPages', () => {
  it('says no for pages without a crop box', () => {
    expect(mayCropPages(pdf('1 0 obj << /Type /Page /MediaBox [0 0 612 792] >> endobj'))).toBe(false);
  });

  it('says no when every crop box holds every media box, whatever the corner order or spacing', () => {
    const bytes = pdf(
      '1 0 obj << /Type /Pages /MediaBox [ 0 0 612.0 792 ] >> endobj',
      '2 0 obj << /Type /Page /CropBox[612 792 0 0] >> endobj',
      '3 0 obj << /Type /Page /CropBox\n[ -0.5 .0 612.4 792.9 ]/Rotate 90 >> endobj',
    );
    expect(mayCropPages(bytes)).toBe(false);
  });

  it('says yes for a crop box inside the media box', () => {
    const bytes = pdf(
      '1 0 obj << /Type /Page /MediaBox [0 0 595.28 841.89] /CropBox [50 50 545.28 791.89] >> endobj',
    );
    expect(mayCropPages(bytes)).toBe(true);
  });

  it('says yes when one page of many is cropped', () => {
    const pages = Array.from(
      { length: 20 },
      (_, i) => `${i + 1} 0 obj << /MediaBox [0 0 612 792] /CropBox [0 0 612 792] >> endobj`,
    );
    pages.push('99 0 obj << /MediaBox [0 0 612 792] /CropBox [0 0 306 792] >> endobj');
    expect(mayCropPages(pdf(...pages))).toBe(true);
  });

  it('says yes when a box is given by reference or cannot be read', () => {
    expect(mayCropPages(pdf('1 0 obj << /MediaBox [0 0 612 792] /CropBox 7 0 R >> endobj'))).toBe(true);
    expect(mayCropPages(pdf('1 0 obj << /MediaBox 8 0 R /CropBox [0 0 612 792] >> endobj'))).toBe(true);
    expect(mayCropPages(pdf('1 0 obj << /MediaBox [0 0 612 792] /CropBox [0 0 612] >> endobj'))).toBe(true);
  });

  it('reads the boxes of page dictionaries in object streams, compressed or not', () => {
    expect(mayCropPages(pdf(objectStream(PLAIN_PAGE)))).toBe(false);
    expect(mayCropPages(pdf(objectStream(CROPPED_PAGE)))).toBe(true);
    expect(mayCropPages(pdf(objectStream(PLAIN_PAGE, { filter: '' })))).toBe(false);
    expect(mayCropPages(pdf(objectStream(CROPPED_PAGE, { filter: '' })))).toBe(true);
    expect(mayCropPages(pdf(objectStream(CROPPED_PAGE, { filter: '/Filter [/FlateDecode]' })))).toBe(true);
    // A crop box in the file's plain text against a media box in an object stream, and back.
    const mixed = pdf(
      '9 0 obj << /Type /Page /Parent 2 0 R /CropBox [0 0 300 300] >> endobj',
      objectStream('2 0 << /Type /Pages /MediaBox [0 0 612 792] >>'),
    );
    expect(mayCropPages(mixed)).toBe(true);
  });

  it('reads an object stream without its type, found by its /First key', () => {
    expect(mayCropPages(pdf(objectStream(CROPPED_PAGE, { dict: '/N 2 /First 12' })))).toBe(true);
    expect(mayCropPages(pdf(objectStream(PLAIN_PAGE, { dict: '/N 2 /First 12' })))).toBe(false);
  });

  it("does not take an outline item or a stream's data for an object stream", () => {
    const outline = pdf(
      '1 0 obj << /Type /Page /MediaBox [0 0 612 792] >> endobj',
      '3 0 obj << /Type /Outlines /First 4 0 R /Last 4 0 R >> endobj',
      '6 0 obj << /Length 30 >>\nstream\nBT /First 12 Tf (a) Tj ET\nendstream\nendobj',
    );
    expect(mayCropPages(outline)).toBe(false);
  });

  it('says yes for an object stream it cannot read', () => {
    const readable = objectStream(PLAIN_PAGE);
    expect(mayCropPages(pdf(readable))).toBe(false);
    // Another filter, two filters, a predictor, a filter given by reference.
    expect(
      mayCropPages(pdf(objectStream(PLAIN_PAGE, { filter: '/Filter /LZWDecode', data: Buffer.from('x') }))),
    ).toBe(true);
    expect(
      mayCropPages(pdf(objectStream(PLAIN_PAGE, { filter: '/Filter [/ASCIIHexDecode /FlateDecode]' }))),
    ).toBe(true);
    expect(
      mayCropPages(
        pdf(objectStream(PLAIN_PAGE, { filter: '/Filter /FlateDecode /DecodeParms << /Predictor 12 >>' })),
      ),
    ).toBe(true);
    expect(mayCropPages(pdf(objectStream(PLAIN_PAGE, { filter: '/Filter 7 0 R' })))).toBe(true);
    // Damaged data, a stream without its end, encrypted object streams.
    expect(mayCropPages(pdf(objectStream(PLAIN_PAGE, { data: Buffer.from('not deflated') })))).toBe(true);
    expect(mayCropPages(pdf(readable.replace('endstream', 'end')))).toBe(true);
    expect(mayCropPages(pdf(readable, 'trailer << /Encrypt 8 0 R >>'))).toBe(true);
    // An object stream typed as one but without the /First key it needs.
    expect(mayCropPages(pdf(objectStream(PLAIN_PAGE, { dict: '/Type /ObjStm /N 2' })))).toBe(true);
  });

  it('reads a file of many /First keys in one pass', () => {
    // Each key's next keyword is the same far-away `endobj`: searched once, not once per key.
    const keys = pdf(`1 0 obj << /MediaBox [0 0 612 792] ${'/First 1 '.repeat(200_000)}>> endobj`);
    expect(mayCropPages(keys)).toBe(false);
    // Many outline items, each its own object: the next string or comment is searched once too.
    const items = Array.from({ length: 100_000 }, (_, i) => `${i + 9} 0 obj << /First 1 0 R >> endobj`);
    expect(mayCropPages(pdf('1 0 obj << /MediaBox [0 0 612 792] >> endobj', ...items, '(a)'))).toBe(false);
    const withoutKeywords = Buffer.from(`%PDF-1.5\n${'/First 1 '.repeat(200_000)}`, 'latin1');
    expect(mayCropPages(withoutKeywords)).toBe(false);
    // Many object streams, each read once.
    const many = Array.from({ length: 2_000 }, () => objectStream(PLAIN_PAGE));
    expect(mayCropPages(pdf(...many))).toBe(false);
    expect(mayCropPages(pdf(...many, objectStream(CROPPED_PAGE)))).toBe(true);
  });

  it('says yes for an object stream whose dictionary it cannot find', () => {
    const far = `5 0 obj\n<< /Type /ObjStm /N 2 ${' '.repeat(10_000)}/First 12 /Length 9 >>\nstream\nnot read\nendstream\nendobj`;
    expect(mayCropPages(pdf('4 0 obj << /MediaBox [0 0 612 792] >> endobj', far))).toBe(true);
  });

  it('says yes where a filter, a keyword or a dictionary could be read otherwise than Poppler reads it', () => {
    const cropped = (dict: string, filter = '/Filter /FlateDecode') =>
      mayCropPages(pdf(objectStream(CROPPED_PAGE, { dict, filter })));
    // Poppler's short keys for the filter and its parameters, and a key given twice (the last wins).
    expect(cropped('/Type /ObjStm /N 2 /First 12', '/F /FlateDecode')).toBe(true);
    expect(cropped('/Type /ObjStm /N 2 /First 12 /DP << /Predictor 11 >>')).toBe(true);
    expect(cropped('/Type /ObjStm /N 2 /First 12 /Filter []')).toBe(true);
    // Keywords inside strings, comments and names.
    expect(cropped('/S (endobj) /Type /ObjStm /N 2 /First 12')).toBe(true);
    expect(cropped('/Type /ObjStm /N 2 /First 12 /S (stream\n) /T (endstream)')).toBe(true);
    expect(cropped('/Type /ObjStm /N 2 /First 12 %stream\n')).toBe(true);
    expect(cropped('/Friendobj 1 /Type /ObjStm /N 2 /First 12')).toBe(true);
    // An object stream without its type, whose `/First` a fake keyword follows.
    expect(cropped('/N 2 /First 12 /X /endobj')).toBe(true);
    expect(cropped('/N 2 /First 12 /S (endobj)')).toBe(true);
    // The same dictionaries with an uncropped page need no such doubt where they are plain.
    expect(mayCropPages(pdf(objectStream(PLAIN_PAGE, { dict: '/N 2 /First 12 /X /endobjs' })))).toBe(false);
  });

  it('reads an outline item with titles as it is, and doubts one whose title holds a keyword', () => {
    const outline = (title: string) =>
      pdf(
        '1 0 obj << /Type /Page /MediaBox [0 0 612 792] >> endobj',
        `3 0 obj << /Title (Part (1\\) one) /First 4 0 R /Next (${title}) >> endobj`,
      );
    expect(mayCropPages(outline('Chapter 1'))).toBe(false);
    // The plain byte search meets `endobj` inside the title, a reader after it: not certain.
    expect(mayCropPages(outline('a (b) endobj'))).toBe(true);
  });

  it('holds one object stream at a time and stops past MAX_OBJECT_STREAMS of them', () => {
    const small = objectStream('1 0 2 40 << /MediaBox [0 0 612 792] >>');
    expect(mayCropPages(pdf(...Array.from({ length: MAX_OBJECT_STREAMS }, () => small)))).toBe(false);
    expect(mayCropPages(pdf(...Array.from({ length: MAX_OBJECT_STREAMS + 1 }, () => small)))).toBe(true);
  });

  it('stops inflating past its limit', () => {
    const big = deflateSync(Buffer.alloc(MAX_INFLATED_BYTES + 1, 0x20));
    expect(mayCropPages(pdf(objectStream(PLAIN_PAGE, { data: big })))).toBe(true);
    const justUnder = deflateSync(
      Buffer.concat([Buffer.from(PLAIN_PAGE, 'latin1'), Buffer.alloc(1 << 20, 0x20)]),
    );
    expect(mayCropPages(pdf(objectStream(PLAIN_PAGE, { data: justUnder })))).toBe(false);
  });

  it('reads a file with a cross-reference stream like any other', () => {
    const body = '%PDF-1.5\n1 0 obj << /MediaBox [0 0 612 792] >> endobj\n';
    const stream = `${body}2 0 obj << /Type /XRef /Size 3 /W [1 2 1] >> stream\nx\nendstream endobj\nstartxref\n${body.length}\n%%EOF\n`;
    expect(mayCropPages(Buffer.from(stream, 'latin1'))).toBe(false);
    const cropped = stream.replace('/MediaBox [0 0 612 792]', '/MediaBox [0 0 612 792] /CropBox [9 9 99 99]');
    expect(mayCropPages(Buffer.from(cropped, 'latin1'))).toBe(true);
  });

  it('says yes for a box key spelled with # escapes, and no for other escaped names', () => {
    expect(mayCropPages(pdf(objectStream(PLAIN_PAGE, { dict: '/Type /ObjStm /N 2 /Fir#73t 12' })))).toBe(
      true,
    );
    expect(
      mayCropPages(pdf(objectStream('1 0 2 40 << /MediaBox [0 0 612 792] /Crop#42ox [1 1 2 2] >>'))),
    ).toBe(true);
    expect(mayCropPages(pdf('1 0 obj << /MediaBox [0 0 612 792] /Crop#42ox [50 50 300 300] >> endobj'))).toBe(
      true,
    );
    expect(
      mayCropPages(
        pdf('1 0 obj << /MediaBox [0 0 612 792] /Font << /F1 << /BaseFont /Times#2DRoman >> >> >> endobj'),
      ),
    ).toBe(false);
  });

  it('does not take a longer name for a box key', () => {
    const bytes = pdf('1 0 obj << /MediaBox [0 0 612 792] /CropBoxes [1 1 2 2] >> endobj');
    expect(mayCropPages(bytes)).toBe(false);
  });
});
