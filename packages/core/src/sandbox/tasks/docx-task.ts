/** Sandbox task `docx`: a Word document's text and headings (see `readDocx`). */
import { type DocxTaskInput, readDocx } from '../../loaders/docx-loader.js';
import type { ExtractedDocument } from '../../loaders/extracted.js';

export function run(input: DocxTaskInput): Promise<ExtractedDocument> {
  return readDocx(input);
}
