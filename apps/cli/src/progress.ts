/**
 * Progress of many jobs at once: on a terminal a block of bars redrawn in place (hand-rolled ANSI,
 * a dozen escape codes, rather than a library), elsewhere one plain line per finished job so that
 * logs and CI output stay readable.
 */
import { stripVTControlCharacters } from 'node:util';
import { formatDuration, truncate, visibleWidth } from './format.js';
import type { Terminal } from './io.js';

/** `left`: no longer followed (time out, Ctrl-C) although the job goes on. */
export type RowState = 'queued' | 'active' | 'done' | 'failed' | 'left';

export interface ProgressRow {
  label: string;
  state: RowState;
  /** 0…1. */
  fraction: number;
  /** Stage or outcome, e.g. `embedding 30/80` or `ingested · 12 chunks`. */
  detail: string;
}

export interface ProgressView {
  update(rows: readonly ProgressRow[]): void;
  /** Draws the final state; the live block stays on screen. */
  finish(rows: readonly ProgressRow[]): void;
}

export function createProgressView(term: Terminal, now: () => number = Date.now): ProgressView {
  return term.live ? new LiveProgress(term, now) : new PlainProgress(term);
}

const BAR_WIDTH = 20;
const SPINNER = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];
const ESC = '\u001b[';

/** Redraws the whole block each update: cursor up over the previous block, rewrite, clear the rest. */
export class LiveProgress implements ProgressView {
  readonly #term: Terminal;
  readonly #now: () => number;
  readonly #started: number;
  #drawn = 0;
  #frame = 0;

  constructor(term: Terminal, now: () => number) {
    this.#term = term;
    this.#now = now;
    this.#started = now();
  }

  update(rows: readonly ProgressRow[]): void {
    this.#draw(rows, false);
  }

  finish(rows: readonly ProgressRow[]): void {
    this.#draw(rows, true);
  }

  #draw(rows: readonly ProgressRow[], final: boolean): void {
    const lines = this.render(rows);
    const up = this.#drawn > 0 ? `${ESC}${this.#drawn}A\r` : '';
    const body = lines.map((line) => `${ESC}2K${line}\n`).join('');
    // Hide the cursor while redrawing so it does not flicker across the block; show it at the end.
    this.#term.stdout.write(`${ESC}?25l${up}${body}${ESC}J${final ? `${ESC}?25h` : ''}`);
    this.#drawn = lines.length;
    this.#frame += 1;
  }

  /** The lines of one frame, each cut to the terminal width so that none wraps. */
  render(rows: readonly ProgressRow[]): string[] {
    const c = this.#term.colors;
    const room = Math.max(3, this.#term.height - 2);
    let shown: readonly ProgressRow[] = rows;
    let hidden = 0;
    if (rows.length > room - 1) {
      // Too many for the screen: the ones still moving matter most.
      const order: Record<RowState, number> = { active: 0, queued: 1, left: 2, failed: 3, done: 4 };
      shown = [...rows].sort((a, b) => order[a.state] - order[b.state]).slice(0, room - 2);
      hidden = rows.length - shown.length;
    }
    const labelWidth = Math.min(40, Math.max(8, ...shown.map((r) => r.label.length)));
    const spinner = SPINNER[this.#frame % SPINNER.length]!;
    const lines = shown.map((row) => {
      const icon =
        row.state === 'done'
          ? c.green('✔')
          : row.state === 'failed'
            ? c.red('✖')
            : row.state === 'active'
              ? c.cyan(spinner)
              : row.state === 'left'
                ? c.yellow('…')
                : c.dim('·');
      const filled = Math.round(Math.min(1, Math.max(0, row.fraction)) * BAR_WIDTH);
      const paint =
        row.state === 'failed'
          ? c.red
          : row.state === 'done'
            ? c.green
            : row.state === 'left'
              ? c.yellow
              : c.cyan;
      const bar = paint('█'.repeat(filled)) + c.dim('░'.repeat(BAR_WIDTH - filled));
      const label = truncate(row.label, labelWidth).padEnd(labelWidth);
      const detail = row.state === 'failed' ? c.red(row.detail) : c.dim(row.detail);
      return `${icon} ${label}  ${bar}  ${detail}`;
    });
    if (hidden > 0) lines.push(c.dim(`  … and ${hidden} more`));
    const done = rows.filter((r) => r.state === 'done').length;
    const failed = rows.filter((r) => r.state === 'failed').length;
    const left = rows.filter((r) => r.state === 'left').length;
    const elapsed = formatDuration(this.#now() - this.#started);
    const parts = [
      c.bold(`${done + failed} of ${rows.length} finished`),
      failed > 0 ? c.red(`${failed} failed`) : '0 failed',
      ...(left > 0 ? [c.yellow(`${left} still running`)] : []),
      elapsed,
    ];
    lines.push(parts.join(' · '));
    return lines.map((line) => fit(line, this.#term.width - 1));
  }
}

/** One line per job that finishes, in the order they finish. */
export class PlainProgress implements ProgressView {
  readonly #term: Terminal;
  readonly #reported = new Set<number>();

  constructor(term: Terminal) {
    this.#term = term;
  }

  update(rows: readonly ProgressRow[]): void {
    rows.forEach((row, index) => {
      if (this.#reported.has(index) || row.state === 'queued' || row.state === 'active') return;
      this.#reported.add(index);
      const word = { done: 'done  ', failed: 'failed', left: 'left  ' }[row.state];
      this.#term.stdout.write(`${word}  ${row.label}  ${row.detail}\n`);
    });
  }

  finish(rows: readonly ProgressRow[]): void {
    this.update(rows);
  }
}

/** Cuts a line with colour codes to `width` visible columns (dropping its colours when it must cut). */
function fit(line: string, width: number): string {
  if (visibleWidth(line) <= width) return line;
  return truncate(stripVTControlCharacters(line), width);
}
