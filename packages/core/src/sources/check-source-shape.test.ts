import { describe, expect, it } from 'vitest';
import { QuireError } from '../errors.js';
import { checkSourceShape, resolveSource, sourceSettings } from './resolve-source.js';
import { IngestSourceSchema, type SourceOptions } from './types.js';

function thrown(run: () => unknown): QuireError {
  try {
    run();
  } catch (error) {
    if (error instanceof QuireError) return error;
    throw error;
  }
  throw new Error('expected a QuireError');
}

const check = (source: unknown, options: Partial<SourceOptions> = {}) =>
  // Producers in other languages can send anything: the check must stand untyped input.
  checkSourceShape(source as Parameters<typeof checkSourceShape>[0], options);

describe('checkSourceShape', () => {
  it('refuses what is not a source, naming the field', () => {
    const error = thrown(() => check({ kind: 'path', path: '' }));
    expect(error.code).toBe('invalid_input');
    expect(error.message).toContain('path: path must not be empty');
    expect(thrown(() => check({ kind: 'ftp', url: 'x' })).code).toBe('invalid_input');
    expect(thrown(() => check({ kind: 'text', text: 'x', extra: 1 })).code).toBe('invalid_input');
  });

  it('checks paths lexically: absolute, and inside a root when roots are given', () => {
    expect(thrown(() => check({ kind: 'path', path: 'docs/a.pdf' })).code).toBe('invalid_input');
    expect(() => check({ kind: 'path', path: '/anywhere/a.pdf' })).not.toThrow();
    expect(() => check({ kind: 'path', path: '/srv/docs/a.pdf' }, { roots: ['/srv/docs'] })).not.toThrow();
    const escaped = thrown(() =>
      check({ kind: 'path', path: '/srv/docs/../secrets/a.pdf' }, { roots: ['/srv/docs'] }),
    );
    expect(escaped.code).toBe('source_forbidden');
    expect(
      thrown(() => check({ kind: 'path', path: '/srv/docs-old/a.pdf' }, { roots: ['/srv/docs'] })).code,
    ).toBe('source_forbidden');
    expect(thrown(() => check({ kind: 'path', path: '/srv/docs/a.pdf' }, { roots: [] })).message).toContain(
      'no source roots are configured',
    );
  });

  it('checks URL schemes, and literal addresses only when the policy is given', () => {
    expect(() => check({ kind: 'url', url: 'https://example.com/a.pdf' })).not.toThrow();
    expect(thrown(() => check({ kind: 'url', url: 'gopher://example.com/' })).code).toBe('source_forbidden');
    expect(() => check({ kind: 'url', url: 'http://10.0.0.1/a.pdf' })).not.toThrow();
    const refused = thrown(() =>
      check({ kind: 'url', url: 'http://10.0.0.1/a.pdf' }, { allowPrivateNetworks: false }),
    );
    expect(refused.code).toBe('source_forbidden');
    expect(() =>
      check(
        { kind: 'url', url: 'http://10.0.0.1/a.pdf' },
        { allowPrivateNetworks: false, allowAddresses: ['10.0.0.0/8'] },
      ),
    ).not.toThrow();
  });

  it('never repeats credentials of a URL', () => {
    for (const url of [
      'ftp://admin:pa55word@example.com/x',
      'http://admin:pa55word@exa mple.com/',
      'http://admin:pa55word@[::1]/',
    ]) {
      const error = thrown(() => check({ kind: 'url', url }, { allowPrivateNetworks: false }));
      expect(JSON.stringify([error.message, error.details])).not.toContain('pa55word');
      expect(error.message).not.toContain('admin');
    }
  });

  it('validates base64 always and sizes only with a limit', () => {
    expect(thrown(() => check({ kind: 'base64', data: 'ab$d', name: 'a.bin' })).code).toBe('invalid_input');
    expect(() => check({ kind: 'base64', data: 'A'.repeat(400), name: 'a.bin' })).not.toThrow();
    expect(
      thrown(() => check({ kind: 'base64', data: 'A'.repeat(400), name: 'a.bin' }, { maxBytes: 299 })).code,
    ).toBe('too_large');
    expect(thrown(() => check({ kind: 'text', text: 'abcdef' }, { maxBytes: 5 })).code).toBe('too_large');
  });
});

describe('source settings', () => {
  it('fills defaults and refuses wrong values by name', async () => {
    expect(sourceSettings({})).toEqual({
      roots: [],
      maxBytes: 52_428_800,
      urlTimeoutMs: 30_000,
      allowPrivateNetworks: false,
      allowAddresses: [],
      maxRedirects: 5,
    });
    expect(thrown(() => sourceSettings({ maxBytes: -1 })).message).toContain('maxBytes');
    expect(thrown(() => sourceSettings({ urlTimeoutMs: 0 })).message).toContain('urlTimeoutMs');
    expect(thrown(() => sourceSettings({ maxRedirects: 1.5 })).message).toContain('maxRedirects');
    expect(thrown(() => sourceSettings({ allowAddresses: ['intranet'] })).message).toContain('"intranet"');
    await expect(resolveSource({ kind: 'text', text: 'x' }, { maxBytes: Number.NaN })).rejects.toMatchObject({
      code: 'invalid_input',
    });
  });
});

describe('IngestSourceSchema', () => {
  it('accepts each kind and refuses unknown fields', () => {
    for (const source of [
      { kind: 'path', path: '/srv/a.pdf' },
      { kind: 'url', url: 'https://example.com/a.pdf' },
      { kind: 'text', text: 'hello', name: 'a.md', mediaType: 'text/markdown' },
      { kind: 'base64', data: 'aGk=', name: 'a.txt' },
    ]) {
      expect(IngestSourceSchema.parse(source)).toEqual(source);
    }
    expect(IngestSourceSchema.safeParse({ kind: 'base64', data: 'aGk=' }).success).toBe(false);
    expect(IngestSourceSchema.safeParse({ kind: 'text', text: 'x', name: 'a\nb' }).success).toBe(false);
    expect(IngestSourceSchema.safeParse({ kind: 'path', path: '/a\0b' }).success).toBe(false);
  });
});
