/** Turning an ingest job's `source` into bytes, and the early checks a producer can make. */
import type { z } from 'zod';
import { DocumentError, QuireError } from '../errors.js';
import { invalidAddressEntry, refusalReason } from './address-policy.js';
import { checkBase64, checkTextSize, readBase64Source, readTextSource } from './inline-source.js';
import { sourceLabel } from './origin.js';
import { checkPathShape, readPathSource } from './path-source.js';
import {
  DEFAULT_SOURCE_OPTIONS,
  type IngestSource,
  IngestSourceSchema,
  type ResolvedSource,
  type ResolveSourceOptions,
  type SourceOptions,
} from './types.js';
import { literalAddress, parseSourceUrl, readUrlSource } from './url-source.js';

/**
 * Reads a source's bytes with every check: roots and symlinks for paths, address policy,
 * redirects, size and time limits for URLs, size and encoding for inline data.
 * Throws a {@link QuireError}: `source_forbidden`, `source_not_found`, `source_unavailable`
 * (retryable when transient), `too_large` or `invalid_input`; an abort throws the signal's reason.
 */
export async function resolveSource(
  source: IngestSource,
  options: ResolveSourceOptions = {},
): Promise<ResolvedSource> {
  const parsed = parseSource(source);
  const settings = sourceSettings(options);
  const { signal } = options;
  signal?.throwIfAborted();
  switch (parsed.kind) {
    case 'path':
      return readPathSource(parsed, {
        roots: settings.roots,
        maxBytes: settings.maxBytes,
        ...(signal === undefined ? {} : { signal }),
      });
    case 'url':
      return readUrlSource(parsed, {
        maxBytes: settings.maxBytes,
        urlTimeoutMs: settings.urlTimeoutMs,
        maxRedirects: settings.maxRedirects,
        policy: settings,
        ...(options.lookup === undefined ? {} : { lookup: options.lookup }),
        ...(signal === undefined ? {} : { signal }),
      });
    case 'text':
      return readTextSource(parsed, settings.maxBytes);
    case 'base64':
      return readBase64Source(parsed, settings.maxBytes);
  }
}

/**
 * The checks that need neither the file system nor the network, for a producer to refuse a bad
 * job before enqueueing it: shape, absolute path, URL scheme, base64 alphabet. A check that
 * depends on a setting (roots, size limit, private addresses) runs only when that setting is
 * given, since the worker may be configured otherwise; the worker checks everything again.
 */
export function checkSourceShape(source: IngestSource, options: Partial<SourceOptions> = {}): void {
  const parsed = parseSource(source);
  const label = sourceLabel(parsed);
  switch (parsed.kind) {
    case 'path':
      checkPathShape(parsed.path, options.roots);
      return;
    case 'url': {
      const url = parseSourceUrl(parsed.url);
      const address = literalAddress(url);
      if (address !== null && options.allowPrivateNetworks !== undefined) {
        const reason = refusalReason(address, {
          allowPrivateNetworks: options.allowPrivateNetworks,
          allowAddresses: options.allowAddresses ?? [],
        });
        if (reason !== null) {
          throw new DocumentError(
            label,
            'source_forbidden',
            `${url.protocol}//${url.host} is refused: ${reason}`,
          );
        }
      }
      return;
    }
    case 'text':
      if (options.maxBytes !== undefined) checkTextSize(parsed.text, label, options.maxBytes);
      return;
    case 'base64':
      checkBase64(parsed.data, label, options.maxBytes);
      return;
  }
}

function parseSource(source: unknown): IngestSource {
  const result = IngestSourceSchema.safeParse(source);
  if (result.success) return result.data;
  throw new QuireError('invalid_input', `invalid source: ${describeIssues(result.error)}`);
}

function describeIssues(error: z.ZodError): string {
  return error.issues
    .map((issue) => `${issue.path.length > 0 ? issue.path.join('.') : '(root)'}: ${issue.message}`)
    .join('; ');
}

/** Settings with defaults filled in; a wrong one is a configuration error, named here. */
export function sourceSettings(options: Partial<SourceOptions>): SourceOptions {
  const settings: SourceOptions = {
    roots: options.roots ?? DEFAULT_SOURCE_OPTIONS.roots,
    maxBytes: options.maxBytes ?? DEFAULT_SOURCE_OPTIONS.maxBytes,
    urlTimeoutMs: options.urlTimeoutMs ?? DEFAULT_SOURCE_OPTIONS.urlTimeoutMs,
    allowPrivateNetworks: options.allowPrivateNetworks ?? DEFAULT_SOURCE_OPTIONS.allowPrivateNetworks,
    allowAddresses: options.allowAddresses ?? DEFAULT_SOURCE_OPTIONS.allowAddresses,
    maxRedirects: options.maxRedirects ?? DEFAULT_SOURCE_OPTIONS.maxRedirects,
  };
  const wrong = (name: string, rule: string) =>
    new QuireError('invalid_input', `source option ${name} must be ${rule}`);
  if (!Number.isSafeInteger(settings.maxBytes) || settings.maxBytes < 0) {
    throw wrong('maxBytes', 'a whole number ≥ 0');
  }
  if (!Number.isFinite(settings.urlTimeoutMs) || settings.urlTimeoutMs <= 0) {
    throw wrong('urlTimeoutMs', 'a number > 0');
  }
  if (!Number.isSafeInteger(settings.maxRedirects) || settings.maxRedirects < 0) {
    throw wrong('maxRedirects', 'a whole number ≥ 0');
  }
  const entry = invalidAddressEntry(settings.allowAddresses);
  if (entry !== undefined) {
    throw wrong('allowAddresses', `IP addresses or CIDR ranges (got ${JSON.stringify(entry)})`);
  }
  return settings;
}
