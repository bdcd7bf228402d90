/**
 * The CLI's own settings, read from the environment once at start-up. The only module that reads
 * `process.env`: everything else gets a {@link CliEnv}. Flags override these; the workers' settings
 * (REDIS_URL, QUIRE_QUEUE_PREFIX, QUIRE_DATA_DIR, QDRANT_URL …) are parsed by `@quire/core` from
 * {@link CliEnv.vars} when a command needs them, so that the CLI and the workers read one config.
 */
// The config module alone: core's index loads every loader and store, which no command line needs to start.
import { envList } from '@quire/core/config';
import * as z from 'zod';
import { CliError } from './errors.js';

const optionalString = z
  .string()
  .optional()
  .transform((v) => (v === undefined || v.trim() === '' ? undefined : v.trim()));

export const DEFAULT_TENANT = 'default';

/**
 * Default cap of a file sent inline (base64 in the job payload): 256 KiB, the gateway's default too.
 * Larger files go through the spool shared with the workers.
 */
export const DEFAULT_INLINE_MAX_BYTES = 256 * 1024;

const CliEnvSchema = z.object({
  // --- Where to send work
  /** Base URL of a Quire gateway (e.g. http://localhost:8080); unset = talk to Redis directly. */
  QUIRE_URL: optionalString.pipe(z.string().url('QUIRE_URL must be an absolute URL').optional()),
  /** API key for the gateway. Never printed. */
  QUIRE_API_KEY: optionalString,
  /** The gateway's admin key, for `quire status --url` (queue counts of every tenant). Never printed. */
  QUIRE_ADMIN_KEY: optionalString,
  /** Tenant used when `--tenant` is not given (checked with the tenant rules when a command runs). */
  QUIRE_TENANT: optionalString,
  // --- Ingestion
  /**
   * Directories the workers read too (comma-separated), the same variable the workers read: files
   * below them are sent as paths, others inline.
   */
  QUIRE_FILE_ROOTS: envList,
  /** Largest file sent inline (base64) when it is not under a shared root, in bytes (at most 16 MiB). */
  QUIRE_INLINE_MAX_BYTES: z.coerce
    .number()
    .int()
    .min(1)
    .max(16 * 1024 * 1024)
    .default(DEFAULT_INLINE_MAX_BYTES),
  // --- Terminal
  /** https://no-color.org: any non-empty value turns colours off. */
  NO_COLOR: optionalString,
  /** Forces colours on (any value but `0`/`false`, as other tools read it) whatever the terminal. */
  FORCE_COLOR: optionalString.transform((v) => (v === undefined ? undefined : !['0', 'false'].includes(v))),
});

export interface CliEnv {
  gatewayUrl: string | undefined;
  /** Gateway API key; kept out of every message. */
  apiKey: string | undefined;
  /** Gateway admin key (status through the gateway); kept out of every message. */
  adminKey: string | undefined;
  tenant: string;
  inlineMaxBytes: number;
  /** Shared roots as given (relative ones are resolved against the working directory by the caller). */
  fileRoots: string[];
  /** `true`/`false` when the environment decides colours; `undefined` = follow the terminal. */
  color: boolean | undefined;
  /**
   * The whole environment, read-only: Quire's shared settings are parsed from it by `@quire/core`
   * (with flags applied on top), and `quire dev`/`quire demo` pass it on to the processes they start.
   */
  vars: Readonly<Record<string, string | undefined>>;
}

/**
 * Parses the CLI's settings; a wrong value throws a CliError naming the variable. Kept free of the
 * heavier packages so that `--help` and bad flags answer at once.
 */
export function loadEnv(env: Record<string, string | undefined> = process.env): CliEnv {
  const parsed = CliEnvSchema.safeParse(env);
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.join('.') || '(env)'}: ${i.message}`);
    throw new CliError(`invalid configuration:\n${issues.join('\n')}`, 2);
  }
  const e = parsed.data;
  return {
    gatewayUrl: e.QUIRE_URL,
    apiKey: e.QUIRE_API_KEY,
    adminKey: e.QUIRE_ADMIN_KEY,
    tenant: e.QUIRE_TENANT ?? DEFAULT_TENANT,
    inlineMaxBytes: e.QUIRE_INLINE_MAX_BYTES,
    fileRoots: e.QUIRE_FILE_ROOTS,
    color: e.NO_COLOR !== undefined ? false : e.FORCE_COLOR,
    vars: Object.freeze({ ...env }),
  };
}
