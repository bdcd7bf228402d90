/**
 * Loads one PDF in a process of its own, for the memory figures: the parent samples the RSS of this
 * process and of everything below it (the parse sandbox's children; the baseline's threads share
 * this process).
 *
 * Input: the PDF's path, its page count (0: a hostile PDF expected to fail) and the tool (`quire`,
 * the parse sandbox; `threads`, the previous worker threads). Output: one line `RESULT <json>`.
 */
import { readFile } from 'node:fs/promises';
import { procMemory } from '../lib/proc.js';
import { closeThreads, runLoadDocument, runThreads } from './tools.js';

const [path, pages, tool = 'quire'] = process.argv.slice(2);
if (path === undefined || pages === undefined) {
  process.stderr.write('usage: rss-child.ts <pdf> <pages> [quire|threads]\n');
  process.exit(2);
}
await readFile(path);
const before = procMemory('self');
process.stdout.write('START\n');
const started = performance.now();
let load: { ms: number; pages: number; chars: number; error?: string };
try {
  load =
    tool === 'threads'
      ? await runThreads(path, 1)
      : await runLoadDocument(path, Math.max(2000, Number(pages) + 1)).then(({ ms, pages, chars }) => ({
          ms,
          pages,
          chars,
        }));
} catch (error) {
  load = { ms: performance.now() - started, pages: 0, chars: 0, error: (error as Error).message };
}
await closeThreads();
const after = procMemory('self');
process.stdout.write(
  `RESULT ${JSON.stringify({ ...load, baselineRssMb: before?.rssMb ?? null, hwmMb: after?.hwmMb ?? null })}\n`,
);
process.exit(0);
