/**
 * One webhook delivery attempt. A webhook URL is outside input: it goes through core's SSRF-safe
 * client (`vetHost` + `pinnedRequest`, the same as document URLs), so that neither a private
 * address nor a DNS answer changed in between (rebinding) lets a caller make the gateway call an
 * internal service.
 */
import type { LookupAddress } from 'node:dns';
import { isIP } from 'node:net';
import {
  type AddressPolicy,
  bareHost,
  type HostLookup,
  pinnedRequest,
  refusalReason,
  vetHost,
} from '@quire/core';

export type { HostLookup };

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
  const vetted = await vetHost(url, request.policy, request.lookup);
  if (!vetted.ok) {
    switch (vetted.problem) {
      case 'refused':
        return { ok: false, permanent: true, reason: `webhookUrl is refused: ${vetted.reason}` };
      case 'no_address':
        return { ok: false, permanent: false, reason: `host ${host} has no address` };
      case 'lookup_failed':
        return {
          ok: false,
          permanent: false,
          reason: `host ${host} cannot be resolved (${vetted.code ?? errorCode(vetted.error)})`,
        };
    }
  }
  const { addresses } = vetted;
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
    const req = pinnedRequest(url, addresses, {
      method: 'POST',
      headers: { ...request.headers, 'content-length': Buffer.byteLength(request.body) },
      signal: AbortSignal.timeout(request.timeoutMs),
    });
    req.on('response', (res) => {
      // The receiver's body is not needed; drain it so the socket closes cleanly.
      res.resume();
      res.on('end', () => resolve(res.statusCode ?? 0));
      res.on('error', reject);
    });
    req.on('error', reject);
    req.end(request.body);
  });
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
