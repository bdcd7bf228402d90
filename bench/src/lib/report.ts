/** Printing figures and writing them to `bench/results/`. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { arch, cpus, loadavg, totalmem } from 'node:os';
import { fileURLToPath } from 'node:url';
import { round } from './stats.js';

export const RESULTS_DIR = fileURLToPath(new URL('../../results/', import.meta.url));

export interface MachineInfo {
  date: string;
  node: string;
  platform: string;
  cpus: number;
  cpuModel: string;
  memoryGiB: number;
  /** 1, 5 and 15 minute load averages when the benchmark started: other work shares these cores. */
  loadAverage: number[];
}

export function machineInfo(): MachineInfo {
  const list = cpus();
  return {
    date: new Date().toISOString(),
    node: process.version,
    platform: `${process.platform}-${arch()}`,
    cpus: list.length,
    cpuModel: list[0]?.model ?? 'unknown',
    memoryGiB: round(totalmem() / 2 ** 30, 1),
    loadAverage: loadavg().map((v) => round(v, 2)),
  };
}

/** Writes `<name>-<timestamp>.json` and `<name>-latest.json`; returns the first path. */
export function writeResults(name: string, data: unknown): string {
  mkdirSync(RESULTS_DIR, { recursive: true });
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const body = `${JSON.stringify(data, null, 2)}\n`;
  const path = `${RESULTS_DIR}${name}-${stamp}.json`;
  writeFileSync(path, body);
  writeFileSync(`${RESULTS_DIR}${name}-latest.json`, body);
  return path;
}

type Cell = string | number | null | undefined;

/** Prints rows as an aligned text table; numbers are rounded, missing cells show as "–". */
export function printTable(title: string, rows: Record<string, Cell>[]): void {
  process.stdout.write(`\n${title}\n`);
  if (rows.length === 0) {
    process.stdout.write('  (no rows)\n');
    return;
  }
  const columns = [...new Set(rows.flatMap((row) => Object.keys(row)))];
  const text = (cell: Cell): string =>
    cell === null || cell === undefined
      ? '–'
      : typeof cell === 'number'
        ? Number.isNaN(cell)
          ? '–'
          : String(round(cell))
        : cell;
  const cells = rows.map((row) => columns.map((column) => text(row[column])));
  const widths = columns.map((column, i) => Math.max(column.length, ...cells.map((row) => row[i]!.length)));
  const line = (values: string[]) =>
    `  ${values.map((value, i) => (i === 0 ? value.padEnd(widths[i]!) : value.padStart(widths[i]!))).join('  ')}\n`;
  process.stdout.write(line(columns));
  process.stdout.write(line(widths.map((w) => '-'.repeat(w))));
  for (const row of cells) process.stdout.write(line(row));
}

export function printLine(text = ''): void {
  process.stdout.write(`${text}\n`);
}

/** "1.23×" */
export function times(value: number): string {
  return Number.isFinite(value) ? `${round(value, 2)}×` : '–';
}

/** "91.2 %" */
export function percent(value: number): string {
  return Number.isFinite(value) ? `${round(value * 100, 1)} %` : '–';
}
