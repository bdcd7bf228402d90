/** Sandbox task `docx`: a Word document's text and headings (see `readDocx`). */
import type { DocxTaskInput } from '../../loaders/docx-loader.js';
import { readDocx } from '../../loaders/docx-reader.js';
import type { ExtractedDocument } from '../../loaders/extracted.js';

export function run(input: DocxTaskInput): Promise<ExtractedDocument> {
  return readDocx(input);
}
