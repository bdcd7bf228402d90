import { describe, expect, it } from 'vitest';
import { waitFor } from './wait-for.js';

describe('waitFor', () => {
  it('resolves with the first truthy value', async () => {
    let calls = 0;
    const value = await waitFor(
      () => {
        calls += 1;
        return calls >= 3 ? { calls } : undefined;
      },
      { intervalMs: 1 },
    );
    expect(value).toEqual({ calls: 3 });
  });

  it('treats a throwing predicate as "not yet" and reports its last error on timeout', async () => {
    const attempt = waitFor(
      () => {
        throw new Error('queue still empty');
      },
      { timeoutMs: 30, intervalMs: 5, message: 'job never arrived' },
    );
    await expect(attempt).rejects.toThrow('job never arrived');
    await expect(attempt).rejects.toMatchObject({ cause: { message: 'queue still empty' } });
  });

  it('awaits async predicates', async () => {
    await expect(waitFor(async () => 0, { timeoutMs: 20, intervalMs: 5 })).rejects.toThrow(
      'waitFor timed out after 20 ms',
    );
    expect(await waitFor(async () => 'ready')).toBe('ready');
  });
});
