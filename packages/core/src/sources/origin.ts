/** Safe descriptions of sources for logs and error messages, and safe file names. */
import type { IngestSource } from './types.js';

/**
 * A URL without its credentials, query and fragment: signed URLs carry their secret in the
 * query, so only a marker says one was there.
 */
export function redactUrl(url: URL): string {
  return `${url.protocol}//${url.host}${url.pathname}${url.search === '' ? '' : '?…'}`;
}

/** Redacts a URL given as text; an unparsable one is never repeated, since it may hold credentials. */
export function redactUrlText(text: string): string {
  return URL.canParse(text) ? redactUrl(new URL(text)) : '(invalid URL)';
}

/** Where a source's bytes come from, safe to log. */
export function sourceOrigin(source: IngestSource): string {
  switch (source.kind) {
    case 'path':
      return source.path;
    case 'url':
      return redactUrlText(source.url);
    case 'text':
    case 'base64':
      return 'inline';
  }
}

/** The name a source's document goes by in error messages. */
export function sourceLabel(source: IngestSource): string {
  if (source.kind === 'base64') return source.name;
  if (source.kind === 'text') return source.name ?? 'inline text';
  return sourceOrigin(source);
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are exactly what we remove
const CONTROL_CHARS = /[\u0000-\u001f\u007f-\u009f]/g;

/**
 * The base name of a name that came from outside (an HTTP header, a URL, a payload): directory
 * parts and control characters removed, at most 255 characters. Null when nothing usable is left.
 */
export function safeFileName(name: string): string | null {
  const base = (name.split(/[/\\]/).pop() ?? '').replace(CONTROL_CHARS, '').trim();
  if (base === '' || base === '.' || base === '..') return null;
  if (base.length <= 255) return base;
  const dot = base.lastIndexOf('.');
  const extension = dot > 0 && base.length - dot <= 16 ? base.slice(dot) : '';
  return base.slice(0, 255 - extension.length) + extension;
}
