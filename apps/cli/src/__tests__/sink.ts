import type { OutputStream } from '../io.js';

/** An in-memory output stream. */
export class StringSink implements OutputStream {
  text = '';
  constructor(
    readonly isTTY = false,
    readonly columns = 100,
    readonly rows = 40,
  ) {}
  write(chunk: string): boolean {
    this.text += chunk;
    return true;
  }
}
