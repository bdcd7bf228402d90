/** Sandbox task `html`: a page's main content by heading (see `extractHtml`). */
import type { ExtractedDocument } from '../../loaders/extracted.js';
import { extractHtml } from '../../loaders/html-loader.js';

export interface HtmlTaskInput {
  html: string;
}

export async function run(input: HtmlTaskInput): Promise<ExtractedDocument> {
  return extractHtml(input.html);
}
