/**
 * Secrets in ingest jobs (a PDF password, credentials or a token in a source URL) never sit in
 * Redis in clear. The producer seals them with AES-256-GCM under a key from the environment
 * (`QUIRE_SECRET_KEYS`); the worker opens them for each attempt and, once the job has ended for
 * good, removes the sealed box from the job. The associated data binds a box to its tenant and
 * document, so a box copied into another job does not open.
 *
 * Keys are `id:base64` pairs, comma-separated, 32 bytes each (`openssl rand -base64 32`). The
 * first seals; every one opens. To rotate, put a new key first and keep the old one until no
 * job sealed with it is waiting or running (sealed boxes go when their job ends, so this is the
 * longest a job waits or retries, not the retention time).
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import { type IngestSecrets, IngestSecretsSchema, type SealedSecrets } from '@quire/contracts';

const ALGORITHM = 'aes-256-gcm';
const KEY_BYTES = 32;
const IV_BYTES = 12;
const KEY_ID = /^[A-Za-z0-9_.-]{1,32}$/;

export class SecretKeyError extends Error {
  override name = 'SecretKeyError';
}

/** The keys of one deployment: the first seals, all of them open. */
export class SecretKeyring {
  readonly #keys: ReadonlyMap<string, Buffer>;
  readonly #current: string;

  private constructor(keys: Map<string, Buffer>, current: string) {
    this.#keys = keys;
    this.#current = current;
  }

  /**
   * Parses `id:base64,id:base64` (the first seals). `name` is the setting named in errors.
   * Throws SecretKeyError; the message never repeats a key.
   */
  static parse(text: string, name = 'QUIRE_SECRET_KEYS'): SecretKeyring {
    const keys = new Map<string, Buffer>();
    let current: string | undefined;
    const entries = text
      .split(',')
      .map((entry) => entry.trim())
      .filter((entry) => entry !== '');
    if (entries.length === 0) throw new SecretKeyError(`${name} holds no key`);
    for (const [index, entry] of entries.entries()) {
      const colon = entry.indexOf(':');
      const id = colon > 0 ? entry.slice(0, colon) : '';
      if (!KEY_ID.test(id)) {
        throw new SecretKeyError(
          `${name}: entry ${index + 1} must be "id:base64key" with an id of 1-32 letters, digits, "_", "." or "-"`,
        );
      }
      const encoded = entry.slice(colon + 1);
      const key = Buffer.from(encoded, 'base64');
      if (!/^[A-Za-z0-9+/]+={0,2}$/.test(encoded) || key.byteLength !== KEY_BYTES) {
        throw new SecretKeyError(
          `${name}: key "${id}" must be ${KEY_BYTES} bytes in base64 (openssl rand -base64 32)`,
        );
      }
      if (keys.has(id)) throw new SecretKeyError(`${name}: key id "${id}" appears twice`);
      keys.set(id, key);
      current ??= id;
    }
    return new SecretKeyring(keys, current as string);
  }

  /** A keyring from a setting that may be unset: null when it is. */
  static fromSetting(text: string | undefined, name = 'QUIRE_SECRET_KEYS'): SecretKeyring | null {
    return text === undefined || text.trim() === '' ? null : SecretKeyring.parse(text, name);
  }

  /** Id of the key that seals. */
  get currentKeyId(): string {
    return this.#current;
  }

  seal(secrets: IngestSecrets, context: string): SealedSecrets {
    const key = this.#keys.get(this.#current) as Buffer;
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv(ALGORITHM, key, iv);
    cipher.setAAD(Buffer.from(context, 'utf8'));
    const data = Buffer.concat([cipher.update(JSON.stringify(secrets), 'utf8'), cipher.final()]);
    return {
      alg: 'A256GCM',
      kid: this.#current,
      iv: iv.toString('base64'),
      tag: cipher.getAuthTag().toString('base64'),
      data: data.toString('base64'),
    };
  }

  /** Opens a box sealed for `context`; throws SecretKeyError for an unknown key or a box that does not open. */
  open(sealed: SealedSecrets, context: string): IngestSecrets {
    const key = this.#keys.get(sealed.kid);
    if (key === undefined) {
      throw new SecretKeyError(
        `the job's secrets are sealed with key "${sealed.kid}", which is not in QUIRE_SECRET_KEYS`,
      );
    }
    let text: string;
    try {
      const decipher = createDecipheriv(ALGORITHM, key, Buffer.from(sealed.iv, 'base64'));
      decipher.setAAD(Buffer.from(context, 'utf8'));
      decipher.setAuthTag(Buffer.from(sealed.tag, 'base64'));
      text = Buffer.concat([decipher.update(Buffer.from(sealed.data, 'base64')), decipher.final()]).toString(
        'utf8',
      );
    } catch {
      throw new SecretKeyError(
        `the job's secrets do not open with key "${sealed.kid}" (a different key under that id, or a box made for another job)`,
      );
    }
    const parsed = IngestSecretsSchema.safeParse(JSON.parse(text));
    if (!parsed.success) throw new SecretKeyError("the job's sealed secrets have an unknown shape");
    return parsed.data;
  }
}

/** What a sealed box of an ingest job is bound to: its tenant and document. */
export function ingestSecretsContext(tenant: string, documentId: string): string {
  return `quire:ingest:v2:${tenant}:${documentId}`;
}

/**
 * The part of a source URL that may be stored in clear: scheme, host and path. Credentials and the
 * query (where presigned URLs keep their signatures) are left out; the fragment never leaves the
 * client anyway.
 */
export function publicUrl(url: string): string {
  const parsed = new URL(url);
  return `${parsed.protocol}//${parsed.host}${parsed.pathname}`;
}

/** Whether a source URL carries something that must not be stored in clear. */
export function urlHasSecrets(url: string): boolean {
  const parsed = new URL(url);
  return parsed.username !== '' || parsed.password !== '' || parsed.search !== '';
}

const REDACTED = '[redacted]';

/**
 * A copy of a job's data fit to show (dashboards, logs): sealed boxes, passwords and URL
 * credentials and queries replaced. Anything not an ingest payload passes through.
 */
export function redactJobData(data: unknown): unknown {
  if (typeof data !== 'object' || data === null || Array.isArray(data)) return data;
  const copy: Record<string, unknown> = { ...(data as Record<string, unknown>) };
  if ('sealed' in copy) copy.sealed = REDACTED;
  if ('password' in copy) copy.password = REDACTED;
  const source = copy.source;
  if (typeof source === 'object' && source !== null && 'url' in source) {
    const url = (source as { url?: unknown }).url;
    if (typeof url === 'string') {
      let shown = REDACTED;
      try {
        shown = urlHasSecrets(url) ? `${publicUrl(url)} ${REDACTED}` : url;
      } catch {
        // Not a URL: shown as redacted.
      }
      copy.source = { ...source, url: shown };
    }
  }
  return copy;
}
