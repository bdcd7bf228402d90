/**
 * Where an ingest job's document comes from, as carried in the job payload, and the settings that
 * bound how it is read.
 */
import type { LookupAddress } from 'node:dns';
import { z } from 'zod';

// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are exactly what we refuse
const CONTROL_CHARS = /[\u0000-\u001f\u007f]/;

const FileNameSchema = z
  .string()
  .min(1, 'name must not be empty')
  .max(255, 'name must be at most 255 characters')
  .refine((name) => !CONTROL_CHARS.test(name), 'name must not contain control characters');

const MediaTypeSchema = z
  .string()
  .max(255, 'mediaType must be at most 255 characters')
  .regex(
    /^[A-Za-z0-9!#$&^_.+-]+\/[A-Za-z0-9!#$&^_.+-]+(\s*;.*)?$/,
    'mediaType must look like "type/subtype"',
  );

export const PathSourceSchema = z
  .object({
    kind: z.literal('path'),
    /** Absolute path of a file inside one of the worker's configured roots. */
    path: z
      .string()
      .min(1, 'path must not be empty')
      .max(4096, 'path must be at most 4096 characters')
      .refine((path) => !path.includes('\0'), 'path must not contain NUL characters'),
  })
  .strict();

export const UrlSourceSchema = z
  .object({
    kind: z.literal('url'),
    /** An http(s) URL; credentials in it are used for its own origin and never logged. */
    url: z
      .string()
      .min(1, 'url must not be empty')
      .max(8192, 'url must be at most 8192 characters')
      // The message never repeats the URL: it may carry credentials.
      .refine((url) => URL.canParse(url), 'url is not a valid absolute URL'),
  })
  .strict();

export const TextSourceSchema = z
  .object({
    kind: z.literal('text'),
    text: z.string(),
    /** File name given to the text; default `inline.txt`, or after `mediaType` (`inline.md` …). */
    name: FileNameSchema.optional(),
    /** Media type of the text, e.g. `text/markdown`; a hint for the loader. */
    mediaType: MediaTypeSchema.optional(),
  })
  .strict();

export const Base64SourceSchema = z
  .object({
    kind: z.literal('base64'),
    /** The file's bytes in standard base64 (RFC 4648 §4), padding optional, no whitespace. */
    data: z.string(),
    /** File name; its extension helps to detect the type. */
    name: FileNameSchema,
  })
  .strict();

/** The `source` of an ingest job. */
export const IngestSourceSchema = z.discriminatedUnion('kind', [
  PathSourceSchema,
  UrlSourceSchema,
  TextSourceSchema,
  Base64SourceSchema,
]);

export type PathSource = z.infer<typeof PathSourceSchema>;
export type UrlSource = z.infer<typeof UrlSourceSchema>;
export type TextSource = z.infer<typeof TextSourceSchema>;
export type Base64Source = z.infer<typeof Base64SourceSchema>;
export type IngestSource = z.infer<typeof IngestSourceSchema>;

export interface SourceOptions {
  /**
   * Absolute directories that `path` sources may read from (after resolving symlinks).
   * Default `[]`: path sources are refused.
   */
  roots: string[];
  /** Largest document accepted from any source, in bytes. Default 50 MiB. */
  maxBytes: number;
  /** Wall-clock limit for fetching a URL, redirects and body included, in milliseconds. Default 30 000. */
  urlTimeoutMs: number;
  /**
   * Let URL sources reach private, loopback, link-local and other non-public addresses.
   * Cloud metadata addresses stay refused. Default `false`.
   */
  allowPrivateNetworks: boolean;
  /**
   * Non-public addresses or CIDR ranges that URL sources may reach although
   * `allowPrivateNetworks` is off, e.g. `['10.20.0.0/16']` for an intranet document server.
   * Default `[]`.
   */
  allowAddresses: string[];
  /** Most redirects followed for one URL source; each hop is checked again. Default 5. */
  maxRedirects: number;
}

export const DEFAULT_SOURCE_OPTIONS: Readonly<SourceOptions> = Object.freeze({
  roots: [],
  maxBytes: 50 * 1024 * 1024,
  urlTimeoutMs: 30_000,
  allowPrivateNetworks: false,
  allowAddresses: [],
  maxRedirects: 5,
});

/**
 * Resolves a host name to its addresses. Every address returned is checked against the network
 * policy, and the connection goes to a checked one: the name is never resolved a second time.
 */
export type HostLookup = (hostname: string) => Promise<LookupAddress[]>;

export interface ResolveSourceOptions extends Partial<SourceOptions> {
  /** Aborts the read; the abort reason is thrown as is. */
  signal?: AbortSignal;
  /** Replaces the system resolver (`dns.lookup` with `all: true`); meant for tests. */
  lookup?: HostLookup;
}

export interface ResolvedSource {
  bytes: Uint8Array;
  /** File name: the path's base name, the HTTP response's file name, or the given name. */
  name: string;
  /** Media type claimed by the source (HTTP Content-Type, `mediaType`); a hint only. */
  claimedType?: string;
  /** Where the bytes came from, safe to log: a path, a URL without credentials or query, `inline`. */
  origin: string;
}
