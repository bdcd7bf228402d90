import { parse } from 'csv-parse/sync';
import { DocumentError } from '../errors.js';
import type { ExtractedDocument } from './extracted.js';
import { collapseWhitespace, SectionBuilder } from './section-builder.js';

/** Records per section: sections bound chunks, so a chunk never mixes far-apart rows. */
export const CSV_RECORDS_PER_SECTION = 50;

const CANDIDATE_DELIMITERS = [',', ';', '\t', '|'] as const;

/**
 * CSV/TSV: the first row names the columns; every other record becomes one line
 * `column: value; column: value` (empty values left out), so that each line reads on its own
 * wherever the chunker cuts. Sections hold `CSV_RECORDS_PER_SECTION` records each.
 */
export function extractCsv(text: string, name: string, mediaType: string): ExtractedDocument {
  const delimiter = mediaType === 'text/tab-separated-values' ? '\t' : sniffDelimiter(text);
  let rows: string[][];
  try {
    rows = parse(text, { delimiter, relax_column_count: true, skip_empty_lines: true, bom: true });
  } catch (error) {
    throw new DocumentError(
      name,
      'corrupt',
      `is not valid CSV: ${error instanceof Error ? error.message : String(error)}`,
      {
        cause: error,
      },
    );
  }
  const [header, ...records] = rows;
  if (header === undefined) throw new DocumentError(name, 'no_text', 'contains no CSV rows');
  const columns = header.map((cell, index) => collapseWhitespace(cell) || `column ${index + 1}`);

  const builder = new SectionBuilder();
  let lines: string[] = [];
  for (const record of records) {
    const line = record
      .map((cell, index) => {
        const value = collapseWhitespace(cell);
        return value === '' ? '' : `${columns[index] ?? `column ${index + 1}`}: ${value}`;
      })
      .filter((pair) => pair !== '')
      .join('; ');
    if (line === '') continue;
    lines.push(line);
    if (lines.length === CSV_RECORDS_PER_SECTION) {
      builder.add(lines.join('\n'), null, []);
      lines = [];
    }
  }
  builder.add(lines.join('\n'), null, []);
  if (builder.isEmpty) throw new DocumentError(name, 'no_text', 'has a header row but no records');
  return { ...builder.build(), pageCount: null, title: null };
}

/** The candidate delimiter seen most often outside quotes on the first line; a comma if none. */
export function sniffDelimiter(text: string): string {
  const counts = new Map<string, number>();
  let quoted = false;
  for (const char of text.slice(0, 64 * 1024)) {
    if (char === '"') quoted = !quoted;
    else if (!quoted && char === '\n') break;
    else if (!quoted && (CANDIDATE_DELIMITERS as readonly string[]).includes(char)) {
      counts.set(char, (counts.get(char) ?? 0) + 1);
    }
  }
  let best = ',';
  let bestCount = 0;
  for (const [delimiter, count] of counts) {
    if (count > bestCount) {
      best = delimiter;
      bestCount = count;
    }
  }
  return best;
}
