export {
  type AddressClass,
  type AddressPolicy,
  classifyAddress,
  invalidAddressEntry,
  refusalReason,
} from './address-policy.js';
export { base64DecodedLength, defaultTextName } from './inline-source.js';
export { redactUrl, safeFileName, sourceOrigin } from './origin.js';
export {
  bareHost,
  type PinnedRequestOptions,
  pinnedLookup,
  pinnedRequest,
  systemLookup,
  type VettedHost,
  vetHost,
} from './pinned-http.js';
export { checkSourceShape, resolveSource, sourceSettings } from './resolve-source.js';
export {
  type Base64Source,
  Base64SourceSchema,
  DEFAULT_SOURCE_OPTIONS,
  type HostLookup,
  type IngestSource,
  IngestSourceSchema,
  type PathSource,
  PathSourceSchema,
  type ResolvedSource,
  type ResolveSourceOptions,
  type SourceOptions,
  type TextSource,
  TextSourceSchema,
  type UrlSource,
  UrlSourceSchema,
} from './types.js';
