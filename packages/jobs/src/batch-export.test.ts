import { parse } from 'csv-parse/sync';
import { describe, expect, it } from 'vitest';
import { BATCH_CSV_COLUMNS, batchReportToCsv, batchReportToJsonl, escapeFormula } from './batch-export.js';
import { type BatchReport, BatchReportSchema } from './query-schemas.js';

const report: BatchReport = BatchReportSchema.parse({
  v: 1,
  batchId: 'b1',
  tenant: 'acme',
  name: null,
  total: 3,
  answered: 2,
  failed: 1,
  items: [
    {
      ok: true,
      index: 0,
      id: 'q,"0"',
      question: 'Which fuel, "exactly"?\nAnd why?',
      answer: 'Paraffin oil, "refined" [1].\nSee also the log [2].',
      notFound: false,
      reranked: false,
      rerankError: 'reranking failed: HTTP 500, "server_error"',
      citations: [
        {
          number: 1,
          documentId: 'manual',
          sourceName: 'manual, v2.pdf',
          pageStart: 2,
          pageEnd: 3,
          chunkIndex: 4,
          excerpt: 'Paraffin oil, "refined"…',
        },
      ],
      timingsMs: { embed: 1.5, search: 0.25, rerank: 0, generate: 12, total: 14.75 },
    },
    { ok: false, index: 1, id: null, question: '=HYPERLINK("x")', error: 'input refused: 400' },
    {
      ok: true,
      index: 2,
      id: null,
      question: 'Ünïcödé — 漢字?',
      answer: 'I could not find the answer in the provided documents.',
      notFound: true,
      reranked: true,
      citations: [],
      timingsMs: { embed: 1, search: 1, rerank: 1, generate: 0, total: 3 },
    },
  ],
});

describe('batch exports', () => {
  it('writes one JSON line per question that parses back to the item', () => {
    const jsonl = batchReportToJsonl(report);
    expect(jsonl.endsWith('\n')).toBe(true);
    const lines = jsonl.slice(0, -1).split('\n');
    expect(lines.map((line) => JSON.parse(line))).toEqual(report.items);
  });

  it('writes a CSV whose every field reads back, quotes, commas and line breaks included', () => {
    const rows = parse(batchReportToCsv(report, { formulas: 'keep' }), { columns: true }) as Record<
      string,
      string
    >[];
    expect(Object.keys(rows[0] ?? {})).toEqual([...BATCH_CSV_COLUMNS]);
    expect(rows).toHaveLength(3);
    expect(rows[0]).toMatchObject({
      index: '0',
      id: 'q,"0"',
      question: 'Which fuel, "exactly"?\nAnd why?',
      ok: 'true',
      answer: 'Paraffin oil, "refined" [1].\nSee also the log [2].',
      not_found: 'false',
      reranked: 'false',
      rerank_error: 'reranking failed: HTTP 500, "server_error"',
      embed_ms: '1.5',
      total_ms: '14.75',
      error: '',
    });
    expect(JSON.parse(rows[0]!.citations!)).toEqual(report.items[0]!.ok && report.items[0]!.citations);
    expect(rows[1]).toMatchObject({
      id: '',
      question: '=HYPERLINK("x")',
      ok: 'false',
      answer: '',
      error: 'input refused: 400',
    });
    expect(rows[2]).toMatchObject({ question: 'Ünïcödé — 漢字?', not_found: 'true', citations: '[]' });
  });

  it('escapes cells a spreadsheet would run as formulas, unless asked to keep them', () => {
    const hostile: BatchReport = BatchReportSchema.parse({
      ...report,
      total: 2,
      answered: 1,
      failed: 1,
      items: [
        {
          ...report.items[0],
          id: '@cmd',
          question: '+1+1',
          answer: '-2+3 is what the passage says [1].',
          rerankError: '\t=1',
        },
        { ok: false, index: 1, id: null, question: '=HYPERLINK("http://x","y")', error: '\r=2' },
      ],
    });
    const escaped = parse(batchReportToCsv(hostile), { columns: true }) as Record<string, string>[];
    expect(escaped[0]).toMatchObject({
      id: "'@cmd",
      question: "'+1+1",
      answer: "'-2+3 is what the passage says [1].",
      rerank_error: "'\t=1",
      // Not text a person typed: numbers and the JSON array are left alone.
      index: '0',
      total_ms: '14.75',
    });
    expect(escaped[0]!.citations!.startsWith('[')).toBe(true);
    expect(escaped[1]).toMatchObject({ question: `'=HYPERLINK("http://x","y")`, error: "'\r=2" });
    // Text that starts otherwise is untouched, here and in the escape itself.
    expect(escapeFormula('Paraffin oil = fuel')).toBe('Paraffin oil = fuel');
    expect(escapeFormula('')).toBe('');

    const kept = parse(batchReportToCsv(hostile, { formulas: 'keep' }), { columns: true }) as Record<
      string,
      string
    >[];
    expect(kept.map((row) => row.question)).toEqual(['+1+1', '=HYPERLINK("http://x","y")']);
    expect(kept[0]).toMatchObject({
      id: '@cmd',
      answer: '-2+3 is what the passage says [1].',
      rerank_error: '\t=1',
    });
  });
});
