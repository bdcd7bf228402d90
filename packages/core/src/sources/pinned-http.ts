/**
 * Outgoing HTTP to addresses an outside party chose (document URLs, webhook URLs), safe against
 * server-side request forgery. The one place that does it, for every caller:
 *
 * 1. {@link vetHost} resolves the URL's host and checks every address against the network policy;
 *    one refused address refuses the host, since a mixed answer is how DNS rebinding starts;
 * 2. {@link pinnedRequest} connects to the vetted addresses only (its `lookup` answers with them),
 *    so a DNS answer changed between the check and the connection cannot reach a private host,
 *    and never through a pooled socket opened for another URL or policy.
 *
 * Each caller turns a refusal into its own error (a document's reason, a webhook's outcome).
 */
import type { LookupAddress } from 'node:dns';
import { lookup as dnsLookup } from 'node:dns/promises';
import { type ClientRequest, request as httpRequest, type OutgoingHttpHeaders } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { LookupFunction } from 'node:net';
import { type AddressPolicy, parseAddress, refusalReason } from './address-policy.js';
import type { HostLookup } from './types.js';

/** The system resolver, every address of the host. */
export const systemLookup: HostLookup = (hostname) => dnsLookup(hostname, { all: true });

/** The URL's host without IPv6 brackets. */
export function bareHost(url: URL): string {
  return url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
}

export type VettedHost =
  | { ok: true; addresses: LookupAddress[] }
  /** An address of the host is refused by the policy (`reason` says which rule). */
  | { ok: false; problem: 'refused'; reason: string }
  | { ok: false; problem: 'no_address' }
  /** The lookup failed: `code` is the resolver's (`ENOTFOUND`, `EAI_AGAIN`…) when it gave one. */
  | { ok: false; problem: 'lookup_failed'; code: string | undefined; error: unknown };

/** Resolves the URL's host (an IP literal is taken as it is) and checks each address. */
export async function vetHost(
  url: URL,
  policy: AddressPolicy,
  lookup: HostLookup = systemLookup,
): Promise<VettedHost> {
  const host = bareHost(url);
  const literal = parseAddress(host);
  if (literal !== null) {
    const reason = refusalReason(host, policy);
    if (reason !== null) return { ok: false, problem: 'refused', reason };
    return { ok: true, addresses: [{ address: host, family: literal.kind() === 'ipv4' ? 4 : 6 }] };
  }
  let addresses: LookupAddress[];
  try {
    addresses = await lookup(host);
  } catch (error) {
    return { ok: false, problem: 'lookup_failed', code: errorCode(error), error };
  }
  if (addresses.length === 0) return { ok: false, problem: 'no_address' };
  for (const { address } of addresses) {
    const reason = refusalReason(address, policy);
    if (reason !== null) return { ok: false, problem: 'refused', reason };
  }
  return { ok: true, addresses };
}

/** A `lookup` for the HTTP client that answers with the vetted addresses only. */
export function pinnedLookup(addresses: readonly LookupAddress[]): LookupFunction {
  return (_hostname, options, callback) => {
    const wanted = options.family === 4 || options.family === 6 ? options.family : undefined;
    const usable = addresses.filter((entry) => wanted === undefined || entry.family === wanted);
    const chosen = usable[0];
    if (chosen === undefined) {
      const error: NodeJS.ErrnoException = new Error(`no vetted IPv${wanted} address`);
      error.code = 'ENOTFOUND';
      callback(error, '', undefined);
    } else if (options.all === true) {
      callback(null, usable);
    } else {
      callback(null, chosen.address, chosen.family);
    }
  };
}

export interface PinnedRequestOptions {
  method: 'GET' | 'POST';
  headers: OutgoingHttpHeaders;
  signal?: AbortSignal;
}

/** An http(s) request to `url` that can only connect to `addresses` (from {@link vetHost}). */
export function pinnedRequest(
  url: URL,
  addresses: readonly LookupAddress[],
  options: PinnedRequestOptions,
): ClientRequest {
  return (url.protocol === 'https:' ? httpsRequest : httpRequest)({
    protocol: url.protocol,
    hostname: bareHost(url),
    port: url.port === '' ? undefined : Number(url.port),
    path: `${url.pathname}${url.search}`,
    method: options.method,
    headers: options.headers,
    lookup: pinnedLookup(addresses),
    // A pooled socket may have been opened for another URL, under another policy: never reuse one.
    agent: false,
    ...(options.signal === undefined ? {} : { signal: options.signal }),
  });
}

function errorCode(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null || !('code' in error)) return undefined;
  return typeof error.code === 'string' ? error.code : undefined;
}
