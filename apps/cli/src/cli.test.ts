import { describe, expect, it } from 'vitest';
import { StringSink } from './__tests__/sink.js';
import { runCli } from './cli.js';
import { loadEnv } from './env.js';

async function cli(argv: string[], vars: Record<string, string> = {}) {
  const stdout = new StringSink();
  const stderr = new StringSink();
  const code = await runCli(argv, {
    loadEnv: () => loadEnv(vars),
    stdout,
    stderr,
    cwd: '/',
    signal: new AbortController().signal,
  });
  return { code, stdout: stdout.text, stderr: stderr.text };
}

describe('quire command line', () => {
  it('prints help for the program and for each command, exiting 0', async () => {
    const top = await cli(['--help']);
    expect(top.code).toBe(0);
    for (const command of ['ingest', 'ask', 'batch', 'docs', 'status', 'dev', 'demo']) {
      expect(top.stdout).toContain(command);
    }
    const ask = await cli(['ask', '--help']);
    expect(ask.code).toBe(0);
    expect(ask.stdout).toContain('--top-n <n>');
    expect(ask.stdout).toContain('Global Options:');
    expect((await cli(['docs', 'delete', '--help'])).stdout).toContain('<documentIds...>');
  });

  it('names an unknown flag, with exit code 2', async () => {
    const result = await cli(['ingest', '--wiat', 'docs']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("unknown option '--wiat'");
  });

  it('names a flag whose value is wrong', async () => {
    const topN = await cli(['ask', '--top-n', '51', 'why?']);
    expect(topN.code).toBe(2);
    expect(topN.stderr).toMatch(
      /option '--top-n <n>' argument '51' is invalid\. expected a whole number from 1 to 50/,
    );
    const budget = await cli(['batch', '--context-tokens', '32001', 'questions.txt']);
    expect(budget.code).toBe(2);
    expect(budget.stderr).toMatch(
      /option '--context-tokens <n>' argument '32001' is invalid\. expected a whole number from 1 to 32000/,
    );
    const meta = await cli(['ingest', '-m', 'novalue', 'docs']);
    expect(meta.code).toBe(2);
    expect(meta.stderr).toMatch(/--metadata <key=value>' argument 'novalue' is invalid\. expected key=value/);
    const key = await cli(['ingest', '-m', 'bad key=1', 'docs']);
    expect(key.stderr).toMatch(/metadata keys are 1-64 letters, digits/);
    const long = await cli(['ingest', '-m', `note=${'x'.repeat(1025)}`, 'docs']);
    expect(long.code).toBe(2);
    expect(long.stderr).toMatch(/^error: --metadata: note: /);
    const where = await cli(['ask', '--where', `note=${'x'.repeat(1025)}`, 'why?']);
    expect(where.stderr).toMatch(/^error: --where: note: /);
    const format = await cli(['batch', 'q.txt', '--format', 'xml']);
    expect(format.code).toBe(2);
    expect(format.stderr).toMatch(/Allowed choices are jsonl, csv/);
    const formulas = await cli(['batch', 'q.txt', '--csv-formulas', 'run']);
    expect(formulas.code).toBe(2);
    expect(formulas.stderr).toMatch(/Allowed choices are escape, keep/);
    const queue = await cli(['status', '--queue', 'emails']);
    expect(queue.stderr).toMatch(/Allowed choices are ingest, query, batch/);
  });

  it('refuses a bad tenant before doing anything', async () => {
    const result = await cli(['--tenant', 'no spaces', 'ask', 'why?']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/--tenant: tenant must be 1-64 characters/);
    const fromEnv = await cli(['ask', 'why?'], { QUIRE_TENANT: 'no spaces' });
    expect(fromEnv.code).toBe(2);
    expect(fromEnv.stderr).toMatch(/QUIRE_TENANT: tenant must be 1-64 characters/);
  });

  it('says what is missing for the gateway, without contacting it', async () => {
    const result = await cli(['--url', 'http://127.0.0.1:9', 'docs', 'list']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('the gateway needs an API key: set QUIRE_API_KEY');
  });

  it('reports an input that does not exist before connecting anywhere', async () => {
    const result = await cli(['ingest', '/nonexistent/quire-docs']);
    expect(result.code).toBe(2);
    expect(result.stderr).toBe('error: no such file or directory: /nonexistent/quire-docs\n');
  });

  it('says how to reach Redis when it does not answer', async () => {
    const result = await cli(['--redis-url', 'redis://127.0.0.1:9', 'status']);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/cannot reach Redis at redis:\/\/127\.0\.0\.1:9 .*--redis-url/);
  });

  it('reads the environment only when a command runs', async () => {
    const wrong = { QUIRE_INLINE_MAX_BYTES: 'lots' };
    expect((await cli(['--help'], wrong)).code).toBe(0);
    expect((await cli(['status', '--help'], wrong)).code).toBe(0);
    expect((await cli(['--version'], wrong)).code).toBe(0);
    expect((await cli(['ask', '--top-n', '0', 'why?'], wrong)).stderr).toMatch(/--top-n/);
    const run = await cli(['ask', 'why?'], wrong);
    expect(run.code).toBe(2);
    expect(run.stderr).toMatch(/^error: invalid configuration:\nQUIRE_INLINE_MAX_BYTES: /);
  });

  it('prints the version', async () => {
    const result = await cli(['--version']);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^\d+\.\d+\.\d+\n$/);
  });
});
