import { createInflateRaw } from 'node:zlib';
import type { ZipEntry } from './zip-entries.js';

const LOCAL_FILE_HEADER = 0x04034b50;
const LOCAL_HEADER_SIZE = 30;

export type ZipInflation =
  | { ok: true; inflatedBytes: number }
  /** Inflating went past the limit in `entry`; `inflatedBytes` counts up to where it stopped. */
  | { ok: false; entry: string; inflatedBytes: number };

/**
 * Inflates every entry of a ZIP archive, streaming, and counts the bytes that actually come out,
 * stopping as soon as the total passes `limitBytes`. The sizes an archive declares are never
 * trusted (a bomb declares 1,000 bytes and inflates to a gigabyte); nothing inflated is kept, so
 * memory stays at one output chunk whatever the archive holds. Each entry's compressed data is
 * the span its central directory record gives, as the ZIP readers that parse it afterwards use.
 * An entry whose data cannot be located or inflated is left to those readers to reject.
 */
export async function measureZipInflation(
  bytes: Uint8Array,
  entries: readonly ZipEntry[],
  limitBytes: number,
): Promise<ZipInflation> {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let total = 0;
  for (const entry of entries) {
    const start = dataStart(view, entry.localHeaderOffset);
    if (start === null) continue;
    const data = bytes.subarray(start, Math.min(bytes.byteLength, start + entry.compressedSize));
    if (entry.method === 0) {
      total += data.byteLength;
    } else if (entry.method === 8) {
      const inflated = await inflateCounting(data, limitBytes - total);
      total += inflated.bytes;
      if (inflated.exceeded) return { ok: false, entry: entry.name, inflatedBytes: total };
    }
    if (total > limitBytes) return { ok: false, entry: entry.name, inflatedBytes: total };
  }
  return { ok: true, inflatedBytes: total };
}

function dataStart(view: DataView, offset: number): number | null {
  if (offset + LOCAL_HEADER_SIZE > view.byteLength) return null;
  if (view.getUint32(offset, true) !== LOCAL_FILE_HEADER) return null;
  const nameLength = view.getUint16(offset + 26, true);
  const extraLength = view.getUint16(offset + 28, true);
  return offset + LOCAL_HEADER_SIZE + nameLength + extraLength;
}

/** Inflates raw DEFLATE data, dropping the output; stops once more than `budget` bytes came out. */
function inflateCounting(data: Uint8Array, budget: number): Promise<{ bytes: number; exceeded: boolean }> {
  return new Promise((resolve) => {
    const inflate = createInflateRaw({ chunkSize: 64 * 1024 });
    let bytes = 0;
    let done = false;
    const finish = (exceeded: boolean) => {
      if (done) return;
      done = true;
      inflate.destroy();
      resolve({ bytes, exceeded });
    };
    inflate.on('data', (chunk: Buffer) => {
      bytes += chunk.byteLength;
      if (bytes > budget) finish(true);
    });
    inflate.on('end', () => finish(false));
    // Damaged data: what came out counts; the parser that reads the entry next rejects it.
    inflate.on('error', () => finish(false));
    inflate.end(data);
  });
}
