import { describe, expect, it } from 'vitest';
import { CliUsageError, parseModelServerCli, USAGE } from './cli-options.js';

describe('parseModelServerCli', () => {
  it('defaults to 127.0.0.1:8080 with no knobs', () => {
    expect(parseModelServerCli([], {})).toEqual({
      help: false,
      options: { port: 8080, host: '127.0.0.1' },
      verbose: false,
    });
  });

  it('reads every knob from flags, flags winning over variables', () => {
    const command = parseModelServerCli(
      [
        '--',
        '--port',
        '0',
        '--host',
        '0.0.0.0',
        '--key',
        'sk-flag',
        '--latency-ms',
        '12.5',
        '--latency-per-input-ms',
        '2',
        '--max-inputs',
        '64',
        '--rpm',
        '30',
        '--tpm',
        '1000',
        '--error-rate',
        '0.1',
        '--hang-rate',
        '0.05',
        '--malformed-rate',
        '0.05',
        '--wrong-dimension-rate',
        '0.1',
        '--seed',
        '0',
        '--dimension',
        '64',
        '--verbose',
      ],
      { MODEL_SERVER_PORT: '9999', MODEL_SERVER_API_KEY: 'sk-env' },
    );
    expect(command).toEqual({
      help: false,
      options: {
        port: 0,
        host: '0.0.0.0',
        apiKey: 'sk-flag',
        latencyMs: 12.5,
        latencyPerInputMs: 2,
        maxInputsPerRequest: 64,
        rateLimit: { requestsPerMinute: 30, tokensPerMinute: 1000 },
        faults: { errorRate: 0.1, hangRate: 0.05, malformedRate: 0.05, wrongDimensionRate: 0.1 },
        seed: 0,
        dimension: 64,
      },
      verbose: true,
    });
  });

  it('reads the environment when no flag is given, with explicit booleans', () => {
    const command = parseModelServerCli([], {
      MODEL_SERVER_PORT: '7001',
      MODEL_SERVER_API_KEY: 'sk-env',
      MODEL_SERVER_TPM: '500',
      MODEL_SERVER_HANG_RATE: '1',
      MODEL_SERVER_VERBOSE: 'false',
      MODEL_SERVER_LATENCY_MS: '',
    });
    expect(command).toEqual({
      help: false,
      options: {
        port: 7001,
        host: '127.0.0.1',
        apiKey: 'sk-env',
        rateLimit: { tokensPerMinute: 500 },
        faults: { hangRate: 1 },
      },
      verbose: false,
    });
  });

  it('names the flag or variable of a bad value', () => {
    expect(() => parseModelServerCli(['--error-rate', '1.5'], {})).toThrow(
      /invalid --error-rate: expected a share/,
    );
    expect(() => parseModelServerCli([], { MODEL_SERVER_RPM: 'ten' })).toThrow(/invalid MODEL_SERVER_RPM/);
    expect(() => parseModelServerCli([], { MODEL_SERVER_VERBOSE: 'maybe' })).toThrow(/MODEL_SERVER_VERBOSE/);
    expect(() => parseModelServerCli(['--port', '70000'], {})).toThrow(/invalid --port/);
    expect(() => parseModelServerCli(['--max-inputs', '0'], {})).toThrow(/invalid --max-inputs/);
    expect(() => parseModelServerCli(['--bogus'], {})).toThrow(CliUsageError);
    expect(() => parseModelServerCli(['--error-rate', '0.7', '--hang-rate', '0.7'], {})).toThrow(
      /fault rates must add up to at most 1/,
    );
  });

  it('answers --help, and the usage lists every flag with its variable', () => {
    expect(parseModelServerCli(['--help'], {})).toEqual({ help: true });
    for (const flag of ['--port', '--api-key', '--rpm', '--tpm', '--error-rate', '--wrong-dimension-rate']) {
      expect(USAGE).toContain(flag);
    }
    expect(USAGE).toContain('MODEL_SERVER_HANG_RATE');
  });
});
