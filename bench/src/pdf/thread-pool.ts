/**
 * The baseline of `bench:pdf`: PDFs parsed on long-lived worker threads of the benchmark's own
 * process (`thread-worker.mjs`), the isolation Quire used before the parse sandbox. Same pdf.js,
 * same page loop; what differs is a thread (shared memory, no RSS cap) against a child process.
 */
import { Worker } from 'node:worker_threads';

interface Slot {
  worker: Worker;
  busy: boolean;
}

export class ThreadPdfPool {
  readonly #slots: Slot[];
  readonly #waiting: Array<() => void> = [];

  constructor(size: number) {
    this.#slots = Array.from({ length: size }, () => ({
      worker: new Worker(new URL('./thread-worker.mjs', import.meta.url), { execArgv: [] }),
      busy: false,
    }));
  }

  async parse(bytes: Uint8Array): Promise<{ pages: number; chars: number }> {
    let slot = this.#slots.find((s) => !s.busy);
    while (slot === undefined) {
      await new Promise<void>((resolve) => this.#waiting.push(resolve));
      slot = this.#slots.find((s) => !s.busy);
    }
    slot.busy = true;
    const chosen = slot;
    try {
      const data = new Uint8Array(bytes);
      return await new Promise((resolve, reject) => {
        chosen.worker.once('message', (message: { pages: number; chars: number } | { error: string }) => {
          if ('error' in message) reject(new Error(message.error));
          else resolve(message);
        });
        chosen.worker.postMessage({ data }, [data.buffer]);
      });
    } finally {
      chosen.busy = false;
      this.#waiting.shift()?.();
    }
  }

  async close(): Promise<void> {
    await Promise.all(this.#slots.map((s) => s.worker.terminate()));
  }
}
