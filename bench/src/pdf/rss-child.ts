/**
 * Loads one PDF with Quire's loadDocument in a process of its own and reports its memory: the parent
 * reads this process's VmHWM, which counts the parser's worker thread too (threads share the process).
 *
 * Input: the PDF's path and its page count. Output: one line `RESULT <json>`.
 */
import { procMemory } from '../lib/proc.js';
import { runLoadDocument } from './tools.js';

const [path, pages] = process.argv.slice(2);
if (path === undefined || pages === undefined) {
  process.stderr.write('usage: rss-child.ts <pdf> <pages>\n');
  process.exit(2);
}
const before = procMemory('self');
process.stdout.write('START\n');
const load = await runLoadDocument(path, Number(pages) + 1);
const after = procMemory('self');
process.stdout.write(
  `RESULT ${JSON.stringify({ ...load, baselineRssMb: before?.rssMb ?? null, hwmMb: after?.hwmMb ?? null })}\n`,
);
