import { parseArgs } from 'node:util';
import { type ModelServerKnobs, ModelServerOptionsError, validateKnobs } from '../model-server/options.js';
import type { StartModelServerOptions } from '../model-server/server.js';

/** A wrong flag or variable; the message names it. The process prints it with the usage and exits 2. */
export class CliUsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CliUsageError';
  }
}

type Kind = 'port' | 'int' | 'uint' | 'number' | 'rate' | 'string' | 'boolean';

interface Setting {
  flag: string;
  env: string;
  kind: Kind;
  help: string;
}

/** Every setting, as a flag and as an environment variable; a flag wins over its variable. */
export const SETTINGS = [
  { flag: 'port', env: 'MODEL_SERVER_PORT', kind: 'port', help: 'TCP port, 0 for a free one (default 8080)' },
  {
    flag: 'host',
    env: 'MODEL_SERVER_HOST',
    kind: 'string',
    help: 'interface to listen on (default 127.0.0.1)',
  },
  {
    flag: 'api-key',
    env: 'MODEL_SERVER_API_KEY',
    kind: 'string',
    help: 'require "Authorization: Bearer <key>" (prefer the variable: flags show in ps)',
  },
  { flag: 'latency-ms', env: 'MODEL_SERVER_LATENCY_MS', kind: 'number', help: 'fixed delay per answer, ms' },
  {
    flag: 'latency-per-input-ms',
    env: 'MODEL_SERVER_LATENCY_PER_INPUT_MS',
    kind: 'number',
    help: 'extra delay per input/document, ms',
  },
  {
    flag: 'max-inputs',
    env: 'MODEL_SERVER_MAX_INPUTS',
    kind: 'int',
    help: 'inputs/documents per request, else 413',
  },
  { flag: 'rpm', env: 'MODEL_SERVER_RPM', kind: 'int', help: 'requests per rolling minute, else 429' },
  { flag: 'tpm', env: 'MODEL_SERVER_TPM', kind: 'int', help: 'tokens per rolling minute, else 429' },
  {
    flag: 'error-rate',
    env: 'MODEL_SERVER_ERROR_RATE',
    kind: 'rate',
    help: 'share of requests answered 500 (0..1)',
  },
  {
    flag: 'hang-rate',
    env: 'MODEL_SERVER_HANG_RATE',
    kind: 'rate',
    help: 'share of requests never answered (0..1)',
  },
  {
    flag: 'malformed-rate',
    env: 'MODEL_SERVER_MALFORMED_RATE',
    kind: 'rate',
    help: 'share answered 200 with invalid JSON (0..1)',
  },
  {
    flag: 'wrong-dimension-rate',
    env: 'MODEL_SERVER_WRONG_DIMENSION_RATE',
    kind: 'rate',
    help: 'share of embeddings with wrong-length vectors (0..1)',
  },
  { flag: 'seed', env: 'MODEL_SERVER_SEED', kind: 'uint', help: 'fault PRNG seed (default 1)' },
  {
    flag: 'dimension',
    env: 'MODEL_SERVER_DIMENSION',
    kind: 'int',
    help: 'built-in embedding width (default 384)',
  },
  {
    flag: 'verbose',
    env: 'MODEL_SERVER_VERBOSE',
    kind: 'boolean',
    help: 'log each request as a JSON line on stderr',
  },
] as const satisfies readonly Setting[];

type FlagName = (typeof SETTINGS)[number]['flag'];

export const USAGE = [
  'Usage: model-server [options]',
  '',
  'Serves the built-in models over the OpenAI/Jina-compatible HTTP API (POST /v1/embeddings,',
  '/v1/rerank, /v1/chat/completions; GET /v1/models) and prints its base URL.',
  '',
  'Options (each also read from the environment variable shown):',
  ...SETTINGS.map((s) => `  --${s.flag.padEnd(22)} ${s.env.padEnd(34)} ${s.help}`),
  '  --help                 show this text',
].join('\n');

export type CliCommand =
  | { help: true }
  | { help: false; options: StartModelServerOptions & { port: number; host: string }; verbose: boolean };

/** Reads flags (`argv` without node and script) and environment variables into server options. */
export function parseModelServerCli(
  argv: readonly string[],
  env: Readonly<Record<string, string | undefined>>,
): CliCommand {
  // `pnpm run model-server -- --port 1` forwards the separator itself.
  const args = argv[0] === '--' ? argv.slice(1) : [...argv];
  let values: Record<string, string | boolean | undefined>;
  try {
    const options: Record<string, { type: 'string' | 'boolean' }> = { help: { type: 'boolean' } };
    for (const setting of SETTINGS)
      options[setting.flag] = { type: setting.kind === 'boolean' ? 'boolean' : 'string' };
    options.key = { type: 'string' };
    values = parseArgs({ args, options, strict: true, allowPositionals: false }).values;
  } catch (error) {
    throw new CliUsageError((error as Error).message);
  }
  if (values.help === true) return { help: true };
  if (values.key !== undefined) values['api-key'] ??= values.key;

  const raw = (flag: FlagName): { raw: string | boolean; source: string } | undefined => {
    const setting = SETTINGS.find((s) => s.flag === flag)!;
    const fromFlag = values[flag];
    if (fromFlag !== undefined) return { raw: fromFlag, source: `--${flag}` };
    const fromEnv = env[setting.env];
    return fromEnv === undefined || fromEnv === '' ? undefined : { raw: fromEnv, source: setting.env };
  };
  const kindOf = (flag: FlagName): Kind => SETTINGS.find((s) => s.flag === flag)!.kind;
  const num = (flag: FlagName): number | undefined => {
    const given = raw(flag);
    return given === undefined ? undefined : (parseValue(given.raw, kindOf(flag), given.source) as number);
  };
  const str = (flag: FlagName): string | undefined => {
    const given = raw(flag);
    return given === undefined ? undefined : String(given.raw);
  };
  const bool = (flag: FlagName): boolean | undefined => {
    const given = raw(flag);
    return given === undefined ? undefined : (parseValue(given.raw, 'boolean', given.source) as boolean);
  };

  const knobs: ModelServerKnobs = {};
  const apiKey = str('api-key');
  if (apiKey !== undefined) knobs.apiKey = apiKey;
  const latencyMs = num('latency-ms');
  if (latencyMs !== undefined) knobs.latencyMs = latencyMs;
  const latencyPerInputMs = num('latency-per-input-ms');
  if (latencyPerInputMs !== undefined) knobs.latencyPerInputMs = latencyPerInputMs;
  const maxInputs = num('max-inputs');
  if (maxInputs !== undefined) knobs.maxInputsPerRequest = maxInputs;
  const rpm = num('rpm');
  const tpm = num('tpm');
  if (rpm !== undefined || tpm !== undefined) {
    knobs.rateLimit = {
      ...(rpm === undefined ? {} : { requestsPerMinute: rpm }),
      ...(tpm === undefined ? {} : { tokensPerMinute: tpm }),
    };
  }
  const faults = {
    errorRate: num('error-rate'),
    hangRate: num('hang-rate'),
    malformedRate: num('malformed-rate'),
    wrongDimensionRate: num('wrong-dimension-rate'),
  };
  const givenFaults = Object.fromEntries(Object.entries(faults).filter(([, v]) => v !== undefined));
  if (Object.keys(givenFaults).length > 0) knobs.faults = givenFaults;
  const seed = num('seed');
  if (seed !== undefined) knobs.seed = seed;
  const dimension = num('dimension');
  if (dimension !== undefined) knobs.dimension = dimension;

  try {
    validateKnobs(knobs);
  } catch (error) {
    if (error instanceof ModelServerOptionsError) throw new CliUsageError(error.message);
    throw error;
  }

  return {
    help: false,
    options: { ...knobs, port: num('port') ?? 8080, host: str('host') ?? '127.0.0.1' },
    verbose: bool('verbose') ?? false,
  };
}

function parseValue(raw: string | boolean, kind: Kind, source: string): string | number | boolean {
  if (typeof raw === 'boolean') return raw;
  const fail = (expected: string): never => {
    // Never echo a key back; other values help the user spot the typo.
    throw new CliUsageError(`invalid ${source}: expected ${expected}, got ${JSON.stringify(raw)}`);
  };
  switch (kind) {
    case 'string':
      return raw;
    case 'boolean': {
      // Explicit, since "false" must not read as true.
      const lower = raw.toLowerCase();
      if (['1', 'true', 'yes', 'on'].includes(lower)) return true;
      if (['0', 'false', 'no', 'off'].includes(lower)) return false;
      return fail('true or false');
    }
    case 'port': {
      const n = Number(raw);
      return /^\d+$/.test(raw) && n <= 65_535 ? n : fail('a port number 0..65535');
    }
    case 'int': {
      const n = Number(raw);
      return /^\d+$/.test(raw) && n > 0 && Number.isSafeInteger(n) ? n : fail('a positive integer');
    }
    case 'uint': {
      const n = Number(raw);
      return /^\d+$/.test(raw) && Number.isSafeInteger(n) ? n : fail('a non-negative integer');
    }
    case 'number': {
      const n = Number(raw);
      return /^\d+(\.\d+)?$/.test(raw) ? n : fail('a non-negative number');
    }
    case 'rate': {
      const n = Number(raw);
      return /^\d+(\.\d+)?$/.test(raw) && n <= 1 ? n : fail('a share between 0 and 1');
    }
  }
}
