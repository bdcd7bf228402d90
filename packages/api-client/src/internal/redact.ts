/** What replaces a secret wherever it would otherwise appear. */
export const REDACTED = '[redacted]';

/**
 * Removes every occurrence of each secret from `text`. Providers sometimes echo the key they
 * received (e.g. "invalid key sk-...") and URLs may carry one, so every string that leaves the
 * client through an error or a log line passes through here.
 */
export function redact(text: string, secrets: readonly string[]): string {
  let out = text;
  for (const secret of secrets) {
    // Very short values would blank out ordinary words; a real key is never that short.
    if (secret.length >= 4) out = out.split(secret).join(REDACTED);
  }
  return out;
}
