/**
 * Renders PDF pages to images for OCR with poppler's `pdftoppm` (the fastest renderer measured,
 * and the one Tesseract's own tools use). Each page is rendered at the OCR resolution, lowered for
 * a page so large that it would exceed the pixel limit. `pdftoppm` runs as its own process under
 * the parse time limit; its memory is bounded by the pixel limit.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { DocumentError } from '../../errors.js';

const run = promisify(execFile);
const POINTS_PER_INCH = 72;

export interface RasteriseOptions {
  dpi: number;
  maxPixels: number;
  timeoutMs: number;
  password?: string;
  signal?: AbortSignal;
}

let available: Promise<boolean> | undefined;

/** Whether `pdftoppm` (poppler-utils) can be run. */
export function pdftoppmAvailable(): Promise<boolean> {
  available ??= run('pdftoppm', ['-v'], { timeout: 10_000 }).then(
    () => true,
    (error: NodeJS.ErrnoException) => error.code !== 'ENOENT',
  );
  return available;
}

/** The resolution a page of `widthPt × heightPt` points is rendered at: `dpi`, or less to fit `maxPixels`. */
export function pageDpi(widthPt: number, heightPt: number, dpi: number, maxPixels: number): number {
  const inches = (widthPt / POINTS_PER_INCH) * (heightPt / POINTS_PER_INCH);
  if (!(inches > 0)) return dpi;
  return Math.max(1, Math.min(dpi, Math.floor(Math.sqrt(maxPixels / inches))));
}

function passwordArgs(password: string | undefined): string[] {
  return password === undefined || password === '' ? [] : ['-upw', password];
}

/** A PDF written once to a private temporary directory, rendered page by page, then removed. */
export class PdfRasteriser {
  private constructor(
    private readonly dir: string,
    private readonly file: string,
    private readonly name: string,
    private readonly options: RasteriseOptions,
    private readonly sizes: Map<number, [number, number]>,
  ) {}

  static async open(bytes: Uint8Array, name: string, options: RasteriseOptions): Promise<PdfRasteriser> {
    if (!(await pdftoppmAvailable())) {
      throw new DocumentError(
        name,
        'no_text',
        "needs OCR, which renders pages with poppler's pdftoppm, and pdftoppm is not installed (Debian: apt-get install poppler-utils)",
      );
    }
    const dir = await mkdtemp(join(tmpdir(), 'quire-ocr-'));
    const file = join(dir, 'document.pdf');
    try {
      await writeFile(file, bytes, { mode: 0o600 });
      const sizes = await pageSizes(file, options);
      return new PdfRasteriser(dir, file, name, options, sizes);
    } catch (error) {
      await rm(dir, { recursive: true, force: true });
      throw error;
    }
  }

  /** One page as an 8-bit grey PGM (uncompressed: rendering PNG would spend as long compressing as rendering). */
  async page(page: number): Promise<Uint8Array> {
    const [width, height] = this.sizes.get(page) ?? [612, 792];
    const dpi = pageDpi(width, height, this.options.dpi, this.options.maxPixels);
    const args = [
      ...passwordArgs(this.options.password),
      '-r',
      String(dpi),
      '-f',
      String(page),
      '-l',
      String(page),
      '-gray',
      '-singlefile',
      this.file,
    ];
    try {
      const { stdout } = await run('pdftoppm', args, {
        encoding: 'buffer',
        maxBuffer: this.options.maxPixels * 2 + 1_048_576,
        timeout: this.options.timeoutMs,
        ...(this.options.signal === undefined ? {} : { signal: this.options.signal }),
      });
      return new Uint8Array(stdout.buffer, stdout.byteOffset, stdout.byteLength);
    } catch (error) {
      this.options.signal?.throwIfAborted();
      const failure = error as { killed?: boolean; stderr?: Buffer; code?: unknown };
      const killed = failure.killed === true;
      const said = failure.stderr?.toString('utf8').trim().split('\n')[0] ?? '';
      throw new DocumentError(
        this.name,
        killed ? 'parse_timeout' : 'corrupt',
        killed
          ? `rendering page ${page} for OCR took longer than ${this.options.timeoutMs} ms (parseTimeoutMs)`
          : `page ${page} could not be rendered for OCR (pdftoppm: ${said || String(failure.code ?? (error as Error).message)})`,
        { cause: error },
      );
    }
  }

  async close(): Promise<void> {
    await rm(this.dir, { recursive: true, force: true });
  }
}

/** Page sizes in points from `pdfinfo` (MediaBox, rotation applied); missing pages get Letter size. */
async function pageSizes(file: string, options: RasteriseOptions): Promise<Map<number, [number, number]>> {
  const sizes = new Map<number, [number, number]>();
  try {
    const { stdout } = await run(
      'pdfinfo',
      [...passwordArgs(options.password), '-f', '1', '-l', '100000', file],
      {
        timeout: options.timeoutMs,
        maxBuffer: 64 * 1_048_576,
      },
    );
    for (const match of stdout.matchAll(/^Page\s+(\d+) size:\s+([\d.]+) x ([\d.]+) pts/gm)) {
      sizes.set(Number(match[1]), [Number(match[2]), Number(match[3])]);
    }
  } catch {
    // Without sizes every page is rendered at `dpi` and the OCR task's pixel check still applies.
  }
  return sizes;
}
