/**
 * Errors of the domain. Each carries a stable `code` and `retryable`: workers map a
 * non-retryable error to a failed job at once, a retryable one to BullMQ's backoff.
 */

export type QuireErrorCode =
  // the document itself: permanent
  | 'unsupported_type'
  | 'encrypted'
  | 'wrong_password'
  | 'no_text'
  // a PDF whose pages hold images and no text: a scan, it needs OCR
  | 'needs_ocr'
  // a PDF with no text and no images on any page (blank, or a few stray characters)
  | 'blank_document'
  // a text layer no engine reads as text (fonts without a Unicode map)
  | 'garbled_text'
  // a feature no engine supports (e.g. a compression filter), named in the message
  | 'unsupported_feature'
  | 'corrupt'
  | 'too_large'
  | 'too_many_pages'
  | 'too_many_chars'
  | 'parse_timeout'
  | 'parse_out_of_memory'
  // the source of the document
  | 'source_forbidden'
  | 'source_not_found'
  | 'source_unavailable'
  // the vector store
  | 'store_unavailable'
  | 'store_rejected'
  // the question-answering pipeline
  | 'rerank_failed'
  | 'answer_failed'
  // coordination between workers
  | 'lease_lost'
  // anything given by a caller
  | 'invalid_input';

export interface QuireErrorOptions {
  retryable?: boolean;
  cause?: unknown;
  /** Extra facts safe to log and return to the caller (never secrets or document text). */
  details?: Record<string, unknown>;
}

export class QuireError extends Error {
  readonly code: QuireErrorCode;
  readonly retryable: boolean;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: QuireErrorCode, message: string, options: QuireErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.retryable = options.retryable ?? false;
    this.details = options.details;
  }

  toJSON(): { name: string; code: QuireErrorCode; message: string; retryable: boolean } {
    return { name: this.name, code: this.code, message: this.message, retryable: this.retryable };
  }
}

/** A file that cannot be turned into text; permanent. The message names the document. */
export class DocumentError extends QuireError {
  readonly document: string;

  constructor(document: string, code: QuireErrorCode, reason: string, options: QuireErrorOptions = {}) {
    super(code, `${JSON.stringify(document)}: ${reason}`, {
      ...options,
      retryable: options.retryable ?? false,
    });
    this.document = document;
  }
}

/** A vector store failure: retryable when the store was unreachable or overloaded. */
export class StoreError extends QuireError {}

export function isQuireError(error: unknown): error is QuireError {
  return error instanceof QuireError;
}
