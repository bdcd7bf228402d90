/** Documents carried in the job payload itself: inline text and base64 data. */
import { Buffer } from 'node:buffer';
import { DocumentError } from '../errors.js';
import { safeFileName } from './origin.js';
import type { Base64Source, ResolvedSource, TextSource } from './types.js';

const EXTENSION_BY_MEDIA_TYPE: Readonly<Record<string, string>> = {
  'text/markdown': 'md',
  'text/x-markdown': 'md',
  'text/html': 'html',
  'text/csv': 'csv',
  'application/json': 'json',
};

/** The type/subtype part of a media type, lower-cased. */
export function mediaTypeEssence(mediaType: string): string {
  return (mediaType.split(';', 1)[0] ?? '').trim().toLowerCase();
}

export function defaultTextName(mediaType: string | undefined): string {
  const extension =
    mediaType === undefined ? undefined : EXTENSION_BY_MEDIA_TYPE[mediaTypeEssence(mediaType)];
  return `inline.${extension ?? 'txt'}`;
}

export function readTextSource(source: TextSource, maxBytes: number): ResolvedSource {
  const name =
    (source.name === undefined ? null : safeFileName(source.name)) ?? defaultTextName(source.mediaType);
  checkTextSize(source.text, name, maxBytes);
  return {
    bytes: new TextEncoder().encode(source.text),
    name,
    ...(source.mediaType === undefined ? {} : { claimedType: source.mediaType }),
    origin: 'inline',
  };
}

export function checkTextSize(text: string, label: string, maxBytes: number): void {
  // UTF-8 never takes fewer bytes than UTF-16 code units, so a long string is refused unmeasured.
  if (text.length > maxBytes) {
    throw new DocumentError(label, 'too_large', `text is more than ${maxBytes} bytes of UTF-8 (the limit)`, {
      details: { maxBytes },
    });
  }
  const size = Buffer.byteLength(text, 'utf8');
  if (size > maxBytes) {
    throw new DocumentError(
      label,
      'too_large',
      `text is ${size} bytes of UTF-8, more than the limit of ${maxBytes}`,
      {
        details: { bytes: size, maxBytes },
      },
    );
  }
}

export function readBase64Source(source: Base64Source, maxBytes: number): ResolvedSource {
  const name = safeFileName(source.name) ?? 'inline.bin';
  checkBase64(source.data, name, maxBytes);
  return { bytes: ownedBytes(Buffer.from(source.data, 'base64')), name, origin: 'inline' };
}

/** Bytes that `data` decodes to, computed from its length alone. */
export function base64DecodedLength(data: string): number {
  const padding = data.endsWith('==') ? 2 : data.endsWith('=') ? 1 : 0;
  return Math.floor(((data.length - padding) * 3) / 4);
}

/**
 * Checks the decoded size (before anything is decoded) and then the alphabet and padding:
 * Node's decoder skips characters it does not know, which would turn a damaged payload into a
 * silently different file.
 */
export function checkBase64(data: string, label: string, maxBytes: number | undefined): void {
  const size = base64DecodedLength(data);
  if (maxBytes !== undefined && size > maxBytes) {
    throw new DocumentError(
      label,
      'too_large',
      `base64 data decodes to ${size} bytes, more than the limit of ${maxBytes}`,
      {
        details: { bytes: size, maxBytes },
      },
    );
  }
  const problem = base64Problem(data);
  if (problem !== null) throw new DocumentError(label, 'invalid_input', `invalid base64 data: ${problem}`);
}

function base64Problem(data: string): string | null {
  const invalid = /[^A-Za-z0-9+/=]/.exec(data);
  if (invalid !== null) {
    const char = invalid[0];
    return `character ${describeChar(char)} at offset ${invalid.index} is not in the base64 alphabet${hintFor(data, char)}`;
  }
  const firstPad = data.indexOf('=');
  if (firstPad !== -1) {
    if (firstPad < data.length - 2 || data.slice(firstPad) !== '='.repeat(data.length - firstPad)) {
      return `"=" padding at offset ${firstPad} is not at the end`;
    }
    if (data.length % 4 !== 0) return 'padded data must have a length that is a multiple of 4';
  } else if (data.length % 4 === 1) {
    return 'its length cannot be base64 (truncated data?)';
  }
  return null;
}

function describeChar(char: string): string {
  const code = (char.codePointAt(0) ?? 0).toString(16).toUpperCase().padStart(4, '0');
  return /[\p{L}\p{N}\p{P}\p{S}]/u.test(char) ? `"${char}" (U+${code})` : `U+${code}`;
}

function hintFor(data: string, char: string): string {
  if (data.startsWith('data:')) return ' (send the base64 data alone, not a data: URL)';
  if (/\s/.test(char)) return ' (whitespace and line breaks are not allowed)';
  if (char === '-' || char === '_') {
    return ' (this looks like base64url: use the standard alphabet with "+" and "/")';
  }
  return '';
}

/**
 * A Uint8Array with an ArrayBuffer of its own. Small Node buffers are views into a shared pool;
 * handing one on would expose other data through `.buffer`, and transferring it to a worker
 * thread would detach the pool.
 */
export function ownedBytes(buffer: Uint8Array): Uint8Array {
  if (buffer.byteOffset === 0 && buffer.byteLength === buffer.buffer.byteLength) {
    return new Uint8Array(buffer.buffer, 0, buffer.byteLength);
  }
  return new Uint8Array(buffer);
}
