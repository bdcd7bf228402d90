import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { deliverOnce, webhookUrlProblem } from './deliver.js';

const STRICT = { allowPrivateNetworks: false, allowAddresses: [] };
const LOOPBACK = { allowPrivateNetworks: false, allowAddresses: ['127.0.0.1/32'] };

describe('webhookUrlProblem', () => {
  it('accepts public http(s) URLs and host names (checked again at delivery)', () => {
    expect(webhookUrlProblem('https://hooks.example.com/quire?x=1', STRICT)).toBeNull();
    expect(webhookUrlProblem('http://93.184.216.34/hook', STRICT)).toBeNull();
  });

  it('refuses other schemes, credentials, and non-public literal addresses', () => {
    expect(webhookUrlProblem('ftp://example.com/', STRICT)).toMatch(/http or https/);
    expect(webhookUrlProblem('https://user:pw@example.com/', STRICT)).toMatch(/credentials/);
    expect(webhookUrlProblem('not a url', STRICT)).toMatch(/not a valid absolute URL/);
    expect(webhookUrlProblem('http://127.0.0.1:8080/hook', STRICT)).toMatch(
      /non-public address \(loopback\)/,
    );
    expect(webhookUrlProblem('http://[::1]/hook', STRICT)).toMatch(/non-public/);
    expect(webhookUrlProblem('http://10.1.2.3/hook', STRICT)).toMatch(/non-public address \(private\)/);
  });

  it('lets an allowed range through, but never a metadata address', () => {
    expect(webhookUrlProblem('http://127.0.0.1:8080/hook', LOOPBACK)).toBeNull();
    expect(
      webhookUrlProblem('http://169.254.169.254/latest', { allowPrivateNetworks: true, allowAddresses: [] }),
    ).toMatch(/metadata/);
  });
});

describe('deliverOnce', () => {
  let server: Server;
  let base: string;
  const received: { headers: IncomingMessage['headers']; body: string; path: string }[] = [];

  beforeAll(async () => {
    server = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => {
        body += chunk.toString('utf8');
      });
      req.on('end', () => {
        received.push({ headers: req.headers, body, path: req.url ?? '' });
        const status = Number(new URL(req.url ?? '/', 'http://x').searchParams.get('status') ?? '204');
        res.writeHead(status).end('ignored');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  afterAll(async () => {
    await new Promise((resolve) => server.close(resolve));
  });

  const send = (url: string, policy = LOOPBACK, lookup?: Parameters<typeof deliverOnce>[0]['lookup']) =>
    deliverOnce({
      url,
      body: '{"hello":"world"}',
      headers: { 'content-type': 'application/json', 'x-test': 'yes' },
      policy,
      timeoutMs: 2_000,
      ...(lookup ? { lookup } : {}),
    });

  it('POSTs the body and headers to an allowed receiver', async () => {
    const outcome = await send(`${base}/hook?status=204`);
    expect(outcome).toEqual({ ok: true, status: 204 });
    const last = received.at(-1);
    expect(last?.body).toBe('{"hello":"world"}');
    expect(last?.headers['x-test']).toBe('yes');
    expect(last?.headers['content-length']).toBe('17');
  });

  it('calls 5xx, 408 and 429 transient, other 4xx and redirects permanent', async () => {
    expect(await send(`${base}/?status=500`)).toMatchObject({ ok: false, permanent: false });
    expect(await send(`${base}/?status=429`)).toMatchObject({ ok: false, permanent: false });
    expect(await send(`${base}/?status=408`)).toMatchObject({ ok: false, permanent: false });
    expect(await send(`${base}/?status=404`)).toMatchObject({
      ok: false,
      permanent: true,
      reason: 'receiver answered HTTP 404',
    });
    expect(await send(`${base}/?status=302`)).toMatchObject({ ok: false, permanent: true });
  });

  it('refuses a loopback receiver when the policy does not allow it, without connecting', async () => {
    const before = received.length;
    expect(await send(`${base}/`, STRICT)).toMatchObject({ ok: false, permanent: true });
    expect(received.length).toBe(before);
  });

  it('refuses a host name that resolves to a non-public address (even one among public ones)', async () => {
    const lookup = async () => [
      { address: '93.184.216.34', family: 4 },
      { address: '10.0.0.7', family: 4 },
    ];
    const outcome = await send('http://hooks.example.test/x', STRICT, lookup);
    expect(outcome).toMatchObject({ ok: false, permanent: true });
    expect(outcome.ok ? '' : outcome.reason).toMatch(/10\.0\.0\.7 is a non-public address/);
  });

  it('connects to the checked address of a host name, not a second resolution', async () => {
    const port = Number(new URL(base).port);
    const lookup = async () => [{ address: '127.0.0.1', family: 4 }];
    const outcome = await send(`http://receiver.test:${port}/named?status=200`, LOOPBACK, lookup);
    expect(outcome).toEqual({ ok: true, status: 200 });
    expect(received.at(-1)?.headers.host).toBe(`receiver.test:${port}`);
  });

  it('calls a refused connection transient', async () => {
    const closed = createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    expect(await send(`http://127.0.0.1:${port}/`)).toMatchObject({
      ok: false,
      permanent: false,
      reason: 'delivery failed (ECONNREFUSED)',
    });
  });
});
