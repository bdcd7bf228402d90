/** Plain-text tables for the command's output: columns padded, numbers right-aligned. */
export type Cell = string | number | boolean | null | undefined;

function show(cell: Cell): string {
  if (cell === null || cell === undefined) return '–';
  if (typeof cell === 'number') {
    if (Number.isNaN(cell)) return '–';
    return Number.isInteger(cell) ? String(cell) : cell.toFixed(cell >= 100 ? 0 : cell >= 10 ? 1 : 2);
  }
  return String(cell);
}

export function formatTable(headers: readonly string[], rows: readonly (readonly Cell[])[]): string {
  const cells = rows.map((row) => row.map(show));
  const widths = headers.map((h, i) => Math.max(h.length, ...cells.map((row) => (row[i] ?? '').length)));
  const numeric = headers.map((_, i) => rows.every((row) => typeof row[i] === 'number' || row[i] == null));
  const line = (values: readonly string[], header = false) =>
    `| ${values
      .map((v, i) => (numeric[i] && !header ? v.padStart(widths[i]!) : v.padEnd(widths[i]!)))
      .join(' | ')} |`;
  return [
    line(headers, true),
    `|${widths.map((w, i) => (numeric[i] ? `${'-'.repeat(w + 1)}:` : '-'.repeat(w + 2))).join('|')}|`,
    ...cells.map((row) => line(row)),
  ].join('\n');
}

/** Seconds with one decimal, from milliseconds. */
export function seconds(ms: number): number {
  return Math.round(ms / 100) / 10;
}
