import { execFileSync } from 'node:child_process';
import type { LookupAddress } from 'node:dns';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer, type Server as HttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createSecureContext } from 'node:tls';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { QuireError } from '../errors.js';
import { resolveSource } from './resolve-source.js';
import type { HostLookup, ResolveSourceOptions } from './types.js';

type Handler = (request: IncomingMessage, response: ServerResponse) => void;

let server: Server;
let port: number;
let handler: Handler;
let seen: IncomingMessage[];

beforeAll(async () => {
  server = createServer((request, response) => {
    seen.push(request);
    handler(request, response);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  port = (server.address() as AddressInfo).port;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});

beforeEach(() => {
  seen = [];
  handler = (_request, response) => response.end('hello');
});

const local = (path = '/doc.txt') => `http://127.0.0.1:${port}${path}`;
const open: ResolveSourceOptions = { allowPrivateNetworks: true };

/** A resolver for made-up names; every other name fails as the system resolver would. */
function fakeLookup(table: Record<string, string[]>): HostLookup & { calls: string[] } {
  const calls: string[] = [];
  const lookup = async (hostname: string): Promise<LookupAddress[]> => {
    calls.push(hostname);
    const addresses = table[hostname];
    if (addresses === undefined) {
      throw Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' });
    }
    return addresses.map((address) => ({ address, family: address.includes(':') ? 6 : 4 }));
  };
  return Object.assign(lookup, { calls });
}

async function rejection(promise: Promise<unknown>): Promise<QuireError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof QuireError) return error;
    throw error;
  }
  throw new Error('expected the promise to reject');
}

const fetchUrl = (url: string, options: ResolveSourceOptions = {}) =>
  resolveSource({ kind: 'url', url }, options);

describe('URL sources: network policy', () => {
  it('refuses a loopback server by default without connecting to it', async () => {
    const error = await rejection(fetchUrl(local()));
    expect(error.code).toBe('source_forbidden');
    expect(error.message).toContain('127.0.0.1 is a non-public address (loopback)');
    expect(seen).toHaveLength(0);
  });

  it('refuses names that the system resolver maps to loopback', async () => {
    const error = await rejection(fetchUrl(`http://localhost:${port}/doc.txt`));
    expect(error.code).toBe('source_forbidden');
    expect(seen).toHaveLength(0);
  });

  it('fetches from a private network when allowed', async () => {
    handler = (_request, response) => {
      response.setHeader('content-type', 'text/plain; charset=utf-8');
      response.end('hello');
    };
    const source = await fetchUrl(local('/files/doc.txt?sig=abc'), open);
    expect(new TextDecoder().decode(source.bytes)).toBe('hello');
    expect(source).toMatchObject({
      name: 'doc.txt',
      claimedType: 'text/plain; charset=utf-8',
      origin: `http://127.0.0.1:${port}/files/doc.txt?…`,
    });
    expect(seen[0]?.headers['accept-encoding']).toBe('identity');
  });

  it.each([
    ['another loopback address', () => 'http://127.0.0.2/x', '127.0.0.2 is a non-public address (loopback)'],
    ['IPv6 loopback', () => `http://[::1]:${port}/x`, '::1 is a non-public address (loopback)'],
    ['IPv4-mapped IPv6', () => 'http://[::ffff:a00:1]/x', '10.0.0.1 is a non-public address (private)'],
    [
      'a name resolving to a private address',
      () => 'http://intranet.example.test/x',
      '10.1.2.3 is a non-public',
    ],
    ['the metadata address', () => 'http://169.254.169.254/latest/meta-data/', 'cloud metadata address'],
  ])('refuses a redirect to %s even from an allowed host', async (_what, target, reason) => {
    handler = (_request, response) => {
      response.writeHead(302, { location: target() });
      response.end();
    };
    const lookup = fakeLookup({ 'docs.example.test': ['127.0.0.1'], 'intranet.example.test': ['10.1.2.3'] });
    const error = await rejection(
      fetchUrl(`http://docs.example.test:${port}/start`, { allowAddresses: ['127.0.0.1'], lookup }),
    );
    expect(error.code).toBe('source_forbidden');
    expect(error.message).toContain(reason);
    expect(seen.map((request) => request.url)).toEqual(['/start']);
  });

  it('connects to the vetted address without resolving the name again, keeping the Host header', async () => {
    const lookup = fakeLookup({ 'docs.example.test': ['127.0.0.1'] });
    const source = await fetchUrl(`http://docs.example.test:${port}/report.txt`, {
      allowAddresses: ['127.0.0.0/8'],
      lookup,
    });
    expect(new TextDecoder().decode(source.bytes)).toBe('hello');
    expect(lookup.calls).toEqual(['docs.example.test']);
    expect(seen[0]?.headers.host).toBe(`docs.example.test:${port}`);
  });

  it('refuses a host when any of its addresses is private (rebinding)', async () => {
    const lookup = fakeLookup({ 'rebind.example.test': ['93.184.215.14', '127.0.0.1'] });
    const error = await rejection(fetchUrl(`http://rebind.example.test:${port}/`, { lookup }));
    expect(error.code).toBe('source_forbidden');
    expect(error.message).toContain('127.0.0.1');
    expect(seen).toHaveLength(0);
  });

  it('reports an unknown host as not found', async () => {
    const error = await rejection(fetchUrl('http://missing.example.test/', { lookup: fakeLookup({}) }));
    expect(error.code).toBe('source_not_found');
    expect(error.retryable).toBe(false);
  });

  it.each(['ftp://example.com/file.pdf', 'file:///etc/passwd', 'data:text/plain,hello'])(
    'refuses %s',
    async (url) => {
      const error = await rejection(fetchUrl(url, open));
      expect(error.code).toBe('source_forbidden');
      expect(error.message).toContain('must use http or https');
    },
  );

  it('refuses a redirect to another scheme', async () => {
    handler = (_request, response) => {
      response.writeHead(301, { location: 'file:///etc/passwd' });
      response.end();
    };
    const error = await rejection(fetchUrl(local(), open));
    expect(error.code).toBe('source_forbidden');
    expect(error.message).toContain('not file:');
  });

  it('follows redirects up to maxRedirects', async () => {
    handler = (request, response) => {
      const hop = Number(request.url?.slice(1));
      if (hop < 3) {
        response.writeHead(307, { location: `/${hop + 1}` });
        response.end();
      } else {
        response.end(`arrived after ${hop}`);
      }
    };
    const source = await fetchUrl(local('/0'), { ...open, maxRedirects: 3 });
    expect(new TextDecoder().decode(source.bytes)).toBe('arrived after 3');
    seen = [];
    const error = await rejection(fetchUrl(local('/0'), { ...open, maxRedirects: 2 }));
    expect(error.code).toBe('source_forbidden');
    expect(error.message).toContain('more than 2 redirects');
    expect(seen).toHaveLength(3);
  });
});

describe('URL sources: limits', () => {
  it('refuses a declared Content-Length over the limit before reading', async () => {
    handler = (_request, response) => {
      response.setHeader('content-length', '5000');
      response.end('x'.repeat(5000));
    };
    const error = await rejection(fetchUrl(local(), { ...open, maxBytes: 100 }));
    expect(error.code).toBe('too_large');
    expect(error.details).toEqual({ maxBytes: 100, bytes: 5000 });
  });

  it('stops a streamed response without Content-Length at the limit', async () => {
    handler = (_request, response) => {
      for (let i = 0; i < 8; i++) response.write('y'.repeat(1024));
      response.end();
    };
    const error = await rejection(fetchUrl(local(), { ...open, maxBytes: 2048 }));
    expect(error.code).toBe('too_large');
    expect(error.message).toContain('more than the limit of 2048 bytes');
    const source = await fetchUrl(local(), { ...open, maxBytes: 8192 });
    expect(source.bytes.byteLength).toBe(8192);
  });

  it('decodes a gzip body sent despite "identity", capping the decoded size', async () => {
    const text = 'z'.repeat(100_000);
    handler = (_request, response) => {
      response.writeHead(200, { 'content-encoding': 'gzip' });
      response.end(gzipSync(text));
    };
    const source = await fetchUrl(local(), open);
    expect(new TextDecoder().decode(source.bytes)).toBe(text);
    const error = await rejection(fetchUrl(local(), { ...open, maxBytes: 1000 }));
    expect(error.code).toBe('too_large');
  });

  it('reports a body that does not decompress as corrupt', async () => {
    handler = (_request, response) => {
      response.writeHead(200, { 'content-encoding': 'gzip' });
      response.end(Buffer.from('not gzip at all, just text'));
    };
    const error = await rejection(fetchUrl(local(), open));
    expect(error).toMatchObject({ code: 'corrupt', retryable: false });
  });

  it('refuses an unknown content encoding', async () => {
    handler = (_request, response) => {
      response.writeHead(200, { 'content-encoding': 'zstd-experimental' });
      response.end('x');
    };
    const error = await rejection(fetchUrl(local(), open));
    expect(error.code).toBe('unsupported_type');
  });

  it('gives up on a server that never answers', async () => {
    handler = () => {};
    const error = await rejection(fetchUrl(local(), { ...open, urlTimeoutMs: 100 }));
    expect(error.code).toBe('source_unavailable');
    expect(error.retryable).toBe(true);
    expect(error.message).toContain('no complete response within 100 ms');
  });

  it('gives up on a body that stalls half-way', async () => {
    handler = (_request, response) => {
      response.writeHead(200, { 'content-length': '100' });
      response.write('partial');
    };
    const error = await rejection(fetchUrl(local(), { ...open, urlTimeoutMs: 100 }));
    expect(error.code).toBe('source_unavailable');
    expect(error.retryable).toBe(true);
  });

  it("throws the caller's abort reason as is", async () => {
    handler = () => {};
    const controller = new AbortController();
    const reason = new Error('shutting down');
    const pending = fetchUrl(local(), { ...open, signal: controller.signal });
    setImmediate(() => controller.abort(reason));
    await expect(pending).rejects.toBe(reason);
  });

  it('reports a refused connection as retryable', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const closedPort = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const error = await rejection(fetchUrl(`http://127.0.0.1:${closedPort}/`, open));
    expect(error.code).toBe('source_unavailable');
    expect(error.retryable).toBe(true);
    expect(error.message).toContain('ECONNREFUSED');
  });
});

describe('URL sources: responses', () => {
  it.each([
    [404, 'source_not_found', false],
    [410, 'source_not_found', false],
    [503, 'source_unavailable', true],
    [500, 'source_unavailable', true],
    [429, 'source_unavailable', true],
    [403, 'source_forbidden', false],
    [401, 'source_forbidden', false],
  ] as const)('maps HTTP %i to %s', async (status, code, retryable) => {
    handler = (_request, response) => {
      response.writeHead(status);
      response.end('no');
    };
    const error = await rejection(fetchUrl(local(), open));
    expect(error).toMatchObject({ code, retryable, details: { status } });
    expect(error.message).toContain(`HTTP ${status}`);
  });

  it.each([
    ['attachment; filename="Quarterly report.pdf"', '/download', 'Quarterly report.pdf'],
    ['attachment; filename*=UTF-8\'\'r%C3%A9sum%C3%A9.pdf; filename="resume.pdf"', '/download', 'résumé.pdf'],
    ['attachment; filename="../../etc/passwd"', '/download', 'passwd'],
    ['inline', '/files/My%20Report.docx', 'My Report.docx'],
    [undefined, '/files/bad%E0%A4%A.txt', 'bad%E0%A4%A.txt'],
    [undefined, '/', '127.0.0.1'],
  ])('names the document from %s and %s', async (disposition, path, name) => {
    handler = (_request, response) => {
      if (disposition !== undefined) response.setHeader('content-disposition', disposition);
      response.end('body');
    };
    const source = await fetchUrl(local(path), open);
    expect(source.name).toBe(name);
  });

  it('names the document after the final URL of a redirect', async () => {
    handler = (request, response) => {
      if (request.url === '/get?id=7') {
        response.writeHead(302, { location: '/store/handbook.pdf' });
        response.end();
      } else {
        response.end('%PDF');
      }
    };
    expect((await fetchUrl(local('/get?id=7'), open)).name).toBe('handbook.pdf');
  });
});

describe('URL sources: credentials', () => {
  it('sends URL credentials to their own origin and never repeats them', async () => {
    handler = (_request, response) => {
      response.writeHead(404);
      response.end();
    };
    const url = `http://reader:s3cr3t-pw@127.0.0.1:${port}/private/doc.pdf?token=t0ps3cret`;
    const error = await rejection(fetchUrl(url, open));
    expect(seen[0]?.headers.authorization).toBe(
      `Basic ${Buffer.from('reader:s3cr3t-pw').toString('base64')}`,
    );
    expect(error.code).toBe('source_not_found');
    const exposed = JSON.stringify([
      error.message,
      error.details,
      (error as { document?: unknown }).document,
    ]);
    expect(exposed).not.toContain('s3cr3t');
    expect(exposed).not.toContain('reader');
    expect(exposed).not.toContain('t0ps3cret');
    expect(exposed).toContain(`http://127.0.0.1:${port}/private/doc.pdf?…`);
  });

  it('does not carry credentials across a redirect to another origin', async () => {
    handler = (request, response) => {
      if (request.headers.host?.startsWith('a.example.test')) {
        response.writeHead(302, { location: `http://b.example.test:${port}/doc` });
        response.end();
      } else {
        response.end('from b');
      }
    };
    const lookup = fakeLookup({ 'a.example.test': ['127.0.0.1'], 'b.example.test': ['127.0.0.1'] });
    const source = await fetchUrl(`http://user:pw@a.example.test:${port}/start`, {
      allowPrivateNetworks: true,
      lookup,
    });
    expect(source.origin).toBe(`http://a.example.test:${port}/start`);
    expect(seen.map((request) => request.headers.authorization)).toEqual([
      `Basic ${Buffer.from('user:pw').toString('base64')}`,
      undefined,
    ]);
  });

  it('does not repeat an invalid or refused URL that holds credentials', async () => {
    const invalid = await rejection(fetchUrl('http://user:hunter2@exa mple.com/'));
    expect(invalid.code).toBe('invalid_input');
    expect(invalid.message).not.toContain('hunter2');
    const refused = await rejection(fetchUrl('ftp://user:hunter2@example.com/file'));
    expect(refused.code).toBe('source_forbidden');
    expect(refused.message).not.toContain('hunter2');
    expect(refused.message).toContain('ftp://example.com/file');
    const forbidden = await rejection(fetchUrl('http://user:hunter2@10.0.0.1/?key=hunter2'));
    expect(forbidden.message).not.toContain('hunter2');
  });
});

describe('URL sources: https', () => {
  let tlsServer: HttpsServer;
  let tlsPort: number;
  let dir: string;
  const serverNames: string[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'quire-url-tls-'));
    // A certificate nobody trusts, valid for the made-up name only.
    execFileSync(
      'openssl',
      ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1']
        .concat(['-subj', '/CN=docs.example.test', '-addext', 'subjectAltName=DNS:docs.example.test'])
        .concat(['-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')]),
      { stdio: 'ignore' },
    );
    const key = await readFile(join(dir, 'key.pem'));
    const cert = await readFile(join(dir, 'cert.pem'));
    tlsServer = createHttpsServer(
      {
        key,
        cert,
        SNICallback: (name, callback) => {
          serverNames.push(name);
          callback(null, createSecureContext({ key, cert }));
        },
      },
      (_request, response) => response.end('secret'),
    );
    await new Promise<void>((resolve) => tlsServer.listen(0, '127.0.0.1', resolve));
    tlsPort = (tlsServer.address() as AddressInfo).port;
  });

  afterAll(async () => {
    tlsServer.closeAllConnections();
    await new Promise((resolve) => tlsServer.close(resolve));
    await rm(dir, { recursive: true, force: true });
  });

  it('keeps the host name for SNI and certificate checks while connecting to the vetted address', async () => {
    const lookup = fakeLookup({ 'docs.example.test': ['127.0.0.1'] });
    const error = await rejection(
      fetchUrl(`https://docs.example.test:${tlsPort}/a.pdf`, { allowAddresses: ['127.0.0.1'], lookup }),
    );
    expect(serverNames).toEqual(['docs.example.test']);
    expect(error.code).toBe('source_forbidden');
    expect(error.retryable).toBe(false);
    expect(error.message).toContain('TLS certificate rejected (DEPTH_ZERO_SELF_SIGNED_CERT)');
  });
});
