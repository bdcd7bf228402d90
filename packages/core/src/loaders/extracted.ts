import type { LoadedDocument } from './types.js';

/** What a format's loader returns; `loadDocument` adds the kind and media type. */
export type ExtractedDocument = Omit<LoadedDocument, 'kind' | 'mediaType' | 'extraction'> &
  Partial<Pick<LoadedDocument, 'extraction'>>;
