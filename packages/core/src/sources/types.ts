/**
 * Where an ingest job's document comes from (the payload's schemas live in `@quire/contracts`),
 * and the settings that bound how it is read.
 */
import type { LookupAddress } from 'node:dns';

export {
  type Base64Source,
  Base64SourceSchema,
  type IngestSource,
  IngestSourceSchema,
  type PathSource,
  PathSourceSchema,
  type TextSource,
  TextSourceSchema,
  type UrlSource,
  UrlSourceSchema,
} from '@quire/contracts';

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
