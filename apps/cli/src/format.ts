/** Text output shared by the commands: tables, answers with their sources, durations. */
import { stripVTControlCharacters } from 'node:util';
import type { Citation } from '@quire/core';
import type { Colors } from './io.js';

export interface TableOptions {
  /** Columns aligned right (numbers). */
  right?: readonly number[];
  /** Widest a cell may be before it is cut with `…`, in columns. Default 60. */
  maxCellWidth?: number;
}

/** Columns separated by two spaces, padded to the widest cell; colour codes do not count as width. */
export function renderTable(
  headers: readonly string[],
  rows: readonly string[][],
  options: TableOptions = {},
): string {
  const max = options.maxCellWidth ?? 60;
  const right = new Set(options.right ?? []);
  const cut = (cell: string) =>
    visibleWidth(cell) > max ? `${stripVTControlCharacters(cell).slice(0, max - 1)}…` : cell;
  const body = rows.map((row) => row.map(cut));
  const widths = headers.map((h, i) =>
    Math.max(visibleWidth(h), ...body.map((row) => visibleWidth(row[i] ?? ''))),
  );
  const line = (cells: readonly string[]) =>
    cells
      .map((cell, i) => {
        const pad = ' '.repeat(Math.max(0, (widths[i] ?? 0) - visibleWidth(cell)));
        return right.has(i) ? pad + cell : i === cells.length - 1 ? cell : cell + pad;
      })
      .join('  ')
      .trimEnd();
  return [line(headers), ...body.map(line)].join('\n');
}

export function visibleWidth(text: string): number {
  return stripVTControlCharacters(text).length;
}

/** `p. 3`, `pp. 3–4`, or empty for formats without pages. */
export function formatPages(start: number | null, end: number | null): string {
  if (start === null) return '';
  return end === null || end === start ? `p. ${start}` : `pp. ${start}–${end}`;
}

/** One source line: `[1] guide.pdf, p. 3` (with the document id when it differs from the name). */
export function formatCitation(citation: Citation, colors: Colors): string {
  const pages = formatPages(citation.pageStart, citation.pageEnd);
  const name =
    citation.sourceName === citation.documentId
      ? citation.sourceName
      : `${citation.sourceName} (${citation.documentId})`;
  return `${colors.bold(`[${citation.number}]`)} ${name}${pages === '' ? '' : `, ${pages}`}`;
}

export interface AnswerView {
  answer: string;
  notFound: boolean;
  citations: readonly Citation[];
  /** What the context budget left out, when it did. */
  contextTruncated?: { budget: number; kept: number; dropped: number; shortened: boolean } | undefined;
}

/** `context budget 3000 tokens: 9 passages given, 3 left out`, or null when nothing was cut. */
export function formatTruncation(truncated: AnswerView['contextTruncated']): string | null {
  if (truncated === undefined) return null;
  const parts = [`${truncated.kept} passage${truncated.kept === 1 ? '' : 's'} given`];
  if (truncated.dropped > 0) parts.push(`${truncated.dropped} left out`);
  if (truncated.shortened) parts.push('the passage given was shortened');
  return `context budget ${truncated.budget} tokens: ${parts.join(', ')} (raise it with --context-tokens)`;
}

/** The answer, then its numbered sources. */
export function formatAnswer(result: AnswerView, colors: Colors): string {
  const lines = [result.answer];
  const truncation = formatTruncation(result.contextTruncated);
  if (result.notFound) {
    lines.push('', colors.dim('(no passage of the documents answers this)'));
    if (truncation !== null) lines.push(colors.dim(truncation));
    return lines.join('\n');
  }
  if (result.citations.length > 0) {
    lines.push('', colors.bold('Sources'));
    // The excerpt (the passage's opening words) stays in --json: it is rarely the sentence cited.
    for (const citation of result.citations) lines.push(`  ${formatCitation(citation, colors)}`);
  }
  if (truncation !== null) lines.push('', colors.dim(truncation));
  return lines.join('\n');
}

export function truncate(text: string, max: number): string {
  return text.length <= max ? text : `${text.slice(0, Math.max(0, max - 1))}…`;
}

/** `850 ms`, `4.2 s`, `3 min 5 s`. */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${(ms / 1000).toFixed(1)} s`;
  const minutes = Math.floor(ms / 60_000);
  return `${minutes} min ${Math.round((ms - minutes * 60_000) / 1000)} s`;
}
