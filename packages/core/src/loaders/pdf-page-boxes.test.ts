import { describe, expect, it } from 'vitest';
import { mayCropPages } from './pdf-page-boxes.js';

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

  it('says yes for a file with object streams, where page dictionaries may be compressed', () => {
    expect(
      mayCropPages(
        pdf('1 0 obj << /Type /ObjStm /N 3 /First 20 /Filter /FlateDecode >> stream\nx\nendstream endobj'),
      ),
    ).toBe(true);
  });

  it('says yes for a cross-reference stream, which may lead to object streams without their type', () => {
    const body = '%PDF-1.5\n1 0 obj << /MediaBox [0 0 612 792] >> endobj\n';
    const stream = `${body}2 0 obj << /Type /XRef /Size 3 /W [1 2 1] >> stream\nx\nendstream endobj\nstartxref\n${body.length}\n%%EOF\n`;
    expect(mayCropPages(Buffer.from(stream, 'latin1'))).toBe(true);
    const hybrid = pdf('1 0 obj << /MediaBox [0 0 612 792] >> endobj', 'trailer << /XRefStm 999 >>');
    expect(mayCropPages(hybrid)).toBe(true);
    expect(
      mayCropPages(Buffer.from('%PDF-1.4\n1 0 obj << /MediaBox [0 0 612 792] >> endobj\n', 'latin1')),
    ).toBe(true);
  });

  it('says yes for a box key spelled with # escapes, and no for other escaped names', () => {
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
