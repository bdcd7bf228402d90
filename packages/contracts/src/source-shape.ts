/**
 * Checks of a source that need no settings, no file system and no network, for a producer to
 * refuse a job its worker would refuse anyway. The worker checks everything again, with its
 * settings (roots, size limits, address policy).
 */
import type { IngestSource } from './sources.js';

/** What is wrong with the source's shape (naming the field), or null. */
export function sourceShapeProblem(source: IngestSource): string | null {
  switch (source.kind) {
    case 'path':
      // POSIX, drive-letter or UNC: absolute on the machine that reads it.
      return /^(\/|[A-Za-z]:[\\/]|\\\\)/.test(source.path) ? null : 'source.path must be absolute';
    case 'url': {
      const { protocol } = new URL(source.url);
      return protocol === 'http:' || protocol === 'https:'
        ? null
        : `source.url must use http or https, not ${protocol}`;
    }
    case 'base64': {
      const invalid = /[^A-Za-z0-9+/=]/.exec(source.data);
      return invalid === null
        ? null
        : `source.data: character at offset ${invalid.index} is not in the base64 alphabet`;
    }
    case 'text':
      return null;
  }
}
