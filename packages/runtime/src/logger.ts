import { type Logger, type LoggerOptions, pino } from 'pino';

export type LogFormat = 'json' | 'pretty' | 'auto';

export interface CreateLoggerOptions {
  service: string;
  version?: string;
  /** pino level. Default `info`. */
  level?: string;
  /** `auto`: pretty when stdout is a terminal, JSON otherwise. Default `auto`. */
  format?: LogFormat;
  /** Write to this destination instead of stdout (tests). */
  destination?: NodeJS.WritableStream;
}

/** Paths never written to logs: credentials, document passwords and document text. */
export const REDACT_PATHS = [
  'apiKey',
  '*.apiKey',
  'password',
  '*.password',
  'authorization',
  '*.authorization',
  'headers.authorization',
  'req.headers.authorization',
  'req.headers["x-api-key"]',
  'data.password',
  'data.source.text',
  'data.source.data',
  '*.text',
];

export function createLogger(options: CreateLoggerOptions): Logger {
  const pretty = options.format === 'pretty' || (options.format !== 'json' && process.stdout.isTTY === true);
  const config: LoggerOptions = {
    level: options.level ?? 'info',
    base: { service: options.service, ...(options.version ? { version: options.version } : {}) },
    redact: { paths: REDACT_PATHS, censor: '[redacted]' },
    timestamp: pino.stdTimeFunctions.isoTime,
  };
  if (options.destination) return pino(config, options.destination);
  if (pretty) {
    return pino({
      ...config,
      transport: { target: 'pino-pretty', options: { colorize: true, translateTime: 'SYS:HH:MM:ss.l' } },
    });
  }
  return pino(config);
}

export type { Logger };
