/**
 * Which network addresses a URL source may connect to. Only global unicast addresses pass by
 * default: a document URL is outside input, and without this check it could make the worker
 * read an internal service or the cloud metadata endpoint (server-side request forgery).
 */
import { isIP } from 'node:net';
import ipaddr from 'ipaddr.js';

/** How an address was classified; `range` names the special range it falls in, `unicast` when none. */
export interface AddressClass {
  /** Normalised form; IPv4-mapped IPv6 addresses are shown as IPv4. */
  address: string;
  range: string;
  /** A global unicast address: reachable from anywhere, so safe to fetch from. */
  public: boolean;
  /** A cloud instance-metadata address: refused whatever the settings. */
  metadata: boolean;
}

export interface AddressPolicy {
  /** Allow every non-metadata address (intranet document servers, local development). */
  allowPrivateNetworks: boolean;
  /** Addresses or CIDR ranges allowed although not public; metadata addresses stay refused. */
  allowAddresses: readonly string[];
}

type ParsedAddress = ipaddr.IPv4 | ipaddr.IPv6;

/**
 * Metadata endpoints. The link-local and unique-local ones are refused as private anyway; they are
 * listed so that `allowPrivateNetworks` never opens them. 168.63.129.16 (Azure's host endpoint)
 * is a public address and would pass the range check without this list.
 */
const METADATA_ADDRESSES: readonly ParsedAddress[] = [
  '169.254.169.254',
  '169.254.170.2',
  '168.63.129.16',
  '100.100.100.200',
  'fd00:ec2::254',
].map((address) => ipaddr.parse(address));

/** NAT64's well-known prefix: the last 32 bits are an IPv4 address, which decides. */
const NAT64_PREFIX = ipaddr.parseCIDR('64:ff9b::/96');
/** IPv4-compatible IPv6 (deprecated); ipaddr.js calls `::7f00:1` unicast, but it embeds 127.0.0.1. */
const IPV4_COMPATIBLE_PREFIX = ipaddr.parseCIDR('::/96');

/** Parses an IP address literal, or returns null when `address` is not one. Brackets are accepted. */
export function parseAddress(address: string): ParsedAddress | null {
  const bare = address.startsWith('[') && address.endsWith(']') ? address.slice(1, -1) : address;
  // net.isIP is strict (no "127.1" or octal forms), unlike ipaddr.isValid.
  const withoutZone = bare.split('%', 1)[0] ?? bare;
  if (isIP(withoutZone) === 0) return null;
  return ipaddr.process(bare);
}

export function classifyAddress(address: string): AddressClass {
  const parsed = parseAddress(address);
  if (parsed === null) throw new TypeError(`not an IP address: ${JSON.stringify(address)}`);
  return classifyParsed(parsed);
}

function classifyParsed(parsed: ParsedAddress): AddressClass {
  const metadata = METADATA_ADDRESSES.some(
    (entry) => entry.kind() === parsed.kind() && entry.toString() === parsed.toString(),
  );
  let range: string = parsed.range();
  if (parsed.kind() === 'ipv6' && range === 'unicast' && parsed.match(IPV4_COMPATIBLE_PREFIX)) {
    range = 'ipv4Compatible';
  }
  if (parsed.kind() === 'ipv6' && parsed.match(NAT64_PREFIX)) {
    const bytes = parsed.toByteArray().slice(12);
    const embedded = classifyParsed(ipaddr.fromByteArray(bytes));
    return {
      address: parsed.toString(),
      range: embedded.public ? 'unicast' : `nat64(${embedded.range})`,
      public: embedded.public && !metadata,
      metadata: metadata || embedded.metadata,
    };
  }
  return { address: parsed.toString(), range, public: range === 'unicast' && !metadata, metadata };
}

/** Returns why `address` is refused under `policy`, or null when it may be connected to. */
export function refusalReason(address: string, policy: AddressPolicy): string | null {
  const parsed = parseAddress(address);
  if (parsed === null) return `${JSON.stringify(address)} is not an IP address`;
  const verdict = classifyParsed(parsed);
  if (verdict.metadata) return `${verdict.address} is a cloud metadata address`;
  if (verdict.public || policy.allowPrivateNetworks) return null;
  if (policy.allowAddresses.some((entry) => matchesEntry(parsed, entry))) return null;
  return `${verdict.address} is a non-public address (${verdict.range})`;
}

function matchesEntry(address: ParsedAddress, entry: string): boolean {
  const [base, bits] = entry.includes('/') ? ipaddr.parseCIDR(entry) : singleAddressRange(entry);
  return base.kind() === address.kind() && address.match(base, bits);
}

function singleAddressRange(entry: string): [ParsedAddress, number] {
  const parsed = ipaddr.process(entry);
  return [parsed, parsed.kind() === 'ipv4' ? 32 : 128];
}

/** Names the first entry of `allowAddresses` that is neither an IP address nor a CIDR range, if any. */
export function invalidAddressEntry(entries: readonly string[]): string | undefined {
  return entries.find((entry) => {
    const [address = '', bits] = entry.split('/');
    if (isIP(address) === 0) return true;
    return bits !== undefined && !ipaddr.isValidCIDR(entry);
  });
}
