/**
 * One webhook delivery attempt. A webhook URL is outside input: its host is resolved here, every
 * address is checked against the network policy, and the connection is pinned to the checked
 * addresses, so that neither a private address nor a DNS answer changed in between (rebinding)
 * lets a caller make the gateway call an internal service.
 */
import type { LookupAddress } from 'node:dns';
import { lookup as dnsLookup } from 'node:dns/promises';
import { request as httpRequest } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { LookupFunction } from 'node:net';
import { isIP } from 'node:net';
import { type AddressPolicy, refusalReason } from '@quire/core';

export type HostLookup = (hostname: string) => Promise<LookupAddress[]>;

const systemLookup: HostLookup = (hostname) => dnsLookup(hostname, { all: true });

/** Why a URL can never be delivered to (permanent), or null. Checks scheme and literal addresses only. */
export function webhookUrlProblem(text: string, policy: AddressPolicy): string | null {
  if (!URL.canParse(text)) return 'webhookUrl is not a valid absolute URL';
  const url = new URL(text);
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    return `webhookUrl must use http or https, not ${url.protocol}`;
  }
  if (url.username !== '' || url.password !== '') return 'webhookUrl must not carry credentials';
  const host = bareHost(url);
  if (isIP(host) !== 0) {
    const reason = refusalReason(host, policy);
    if (reason !== null) return `webhookUrl is refused: ${reason}`;
  }
  return null;
}

export interface DeliveryRequest {
  url: string;
  body: string;
  headers: Record<string, string>;
  policy: AddressPolicy;
  timeoutMs: number;
  lookup?: HostLookup;
}

export type DeliveryOutcome =
  | { ok: true; status: number }
  /** `permanent`: retrying cannot help (refused address, 4xx other than 408/429). */
  | { ok: false; permanent: boolean; reason: string };

/** POSTs the body once and says how it went; never throws. */
export async function deliverOnce(request: DeliveryRequest): Promise<DeliveryOutcome> {
  const problem = webhookUrlProblem(request.url, request.policy);
  if (problem !== null) return { ok: false, permanent: true, reason: problem };
  const url = new URL(request.url);
  const host = bareHost(url);
  let addresses: LookupAddress[];
  if (isIP(host) !== 0) {
    addresses = [{ address: host, family: isIP(host) }];
  } else {
    try {
      addresses = await (request.lookup ?? systemLookup)(host);
    } catch (error) {
      return { ok: false, permanent: false, reason: `host ${host} cannot be resolved (${errorCode(error)})` };
    }
    if (addresses.length === 0) return { ok: false, permanent: false, reason: `host ${host} has no address` };
    for (const { address } of addresses) {
      // One refused address refuses the host: a mixed answer is how rebinding starts.
      const reason = refusalReason(address, request.policy);
      if (reason !== null) return { ok: false, permanent: true, reason: `webhookUrl is refused: ${reason}` };
    }
  }
  try {
    const status = await post(url, addresses, request);
    if (status >= 200 && status <= 299) return { ok: true, status };
    const permanent = status >= 300 && status < 500 && status !== 408 && status !== 429;
    return { ok: false, permanent, reason: `receiver answered HTTP ${status}` };
  } catch (error) {
    return { ok: false, permanent: false, reason: `delivery failed (${errorCode(error)})` };
  }
}

function post(url: URL, addresses: readonly LookupAddress[], request: DeliveryRequest): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = (url.protocol === 'https:' ? httpsRequest : httpRequest)(
      {
        protocol: url.protocol,
        hostname: bareHost(url),
        port: url.port === '' ? undefined : Number(url.port),
        path: `${url.pathname}${url.search}`,
        method: 'POST',
        headers: { ...request.headers, 'content-length': Buffer.byteLength(request.body) },
        lookup: pinnedLookup(addresses),
        // A pooled socket may have been opened for another URL: never reuse one.
        agent: false,
        signal: AbortSignal.timeout(request.timeoutMs),
      },
      (res) => {
        // The receiver's body is not needed; drain it so the socket closes cleanly.
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(request.body);
  });
}

function pinnedLookup(addresses: readonly LookupAddress[]): LookupFunction {
  return (_hostname, options, callback) => {
    const wanted = options.family === 4 || options.family === 6 ? options.family : undefined;
    const usable = addresses.filter((entry) => wanted === undefined || entry.family === wanted);
    const chosen = usable[0];
    if (chosen === undefined) {
      const error: NodeJS.ErrnoException = new Error(`no checked IPv${wanted} address`);
      error.code = 'ENOTFOUND';
      callback(error, '', undefined);
    } else if (options.all === true) {
      callback(null, usable);
    } else {
      callback(null, chosen.address, chosen.family);
    }
  };
}

function bareHost(url: URL): string {
  return url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
}

function errorCode(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (typeof code === 'string') return code;
    if (error.name === 'TimeoutError' || error.name === 'AbortError') return 'timeout';
    return error.message;
  }
  return String(error);
}
