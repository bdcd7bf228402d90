// The previous PDF isolation, kept as the benchmark's baseline: a long-lived worker thread that
// keeps pdf.js loaded and reads each PDF a page at a time (one getText call per page), as Quire's
// parser threads did before the parse sandbox. No limits: it is only timed on good PDFs.
import { parentPort } from 'node:worker_threads';

for (const stream of [process.stdout, process.stderr]) stream.write = () => true;
const { PDFParse, VerbosityLevel } = await import('pdf-parse');

parentPort?.on('message', async (/** @type {{ data: Uint8Array }} */ job) => {
  const parser = new PDFParse({ data: job.data, verbosity: VerbosityLevel.ERRORS, isEvalSupported: false });
  try {
    const info = await parser.getInfo();
    let chars = 0;
    for (let page = 1; page <= info.total; page++) {
      const result = await parser.getText({ partial: [page] });
      chars += result.pages[0]?.text.length ?? 0;
    }
    parentPort?.postMessage({ pages: info.total, chars });
  } catch (error) {
    parentPort?.postMessage({ error: error instanceof Error ? error.message : String(error) });
  } finally {
    await parser.destroy().catch(() => undefined);
  }
});
