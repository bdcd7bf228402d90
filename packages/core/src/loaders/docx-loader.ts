import type { ExtractedDocument } from './extracted.js';
import { runInSandbox, type SandboxedLoadOptions } from './sandboxed.js';

/**
 * A DOCX parsed in a sandbox child (task `docx`, `docx-reader.ts`): zip bombs and inflating XML stay
 * there, and so do mammoth and the HTML parsers, which a worker never loads.
 */
export function extractDocx(
  bytes: Uint8Array,
  name: string,
  options: SandboxedLoadOptions,
): Promise<ExtractedDocument> {
  const input: DocxTaskInput = { data: bytes, maxInflatedBytes: options.limits.maxInflatedBytes };
  return runInSandbox<ExtractedDocument>('docx', name, input, options);
}

export interface DocxTaskInput {
  data: Uint8Array;
  /** Most bytes the archive's entries may inflate to, counted while inflating. */
  maxInflatedBytes: number;
}
