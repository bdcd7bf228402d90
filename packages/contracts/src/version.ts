/** The `v` field of payloads and results: see the README's versioning policy. */
import * as z from 'zod';

/**
 * The `v` a payload schema reads. A payload of another version fails with a message that names
 * it, so a worker older than its producer refuses the job instead of misreading it.
 */
export function payloadVersion<V extends number>(version: V) {
  return z.literal(version, {
    error: (issue) =>
      issue.input === undefined
        ? `v is missing: every payload carries its version (this release reads ${version})`
        : `unsupported payload version ${JSON.stringify(issue.input)}: this release reads version ${version} (upgrade the workers before the producers)`,
  });
}
