/** Body and upload limits, media types and request ids, on a gateway with small limits and no workers. */
import { request } from 'node:http';
import { join } from 'node:path';
import {
  cleanupPrefix,
  getTestRedis,
  makeTempDir,
  type TempDir,
  type TestRedis,
  uniquePrefix,
} from '@quire/testkit';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hashApiKey } from '../src/auth.js';
import { type RunningGateway, startGateway } from './harness.js';

let redis: TestRedis;
let tmp: TempDir;
let prefix: string;
let gateway: RunningGateway;
const authorization = 'Bearer limits-key';

beforeAll(async () => {
  redis = await getTestRedis();
  tmp = await makeTempDir('gateway-limits');
  prefix = uniquePrefix('gateway-limits');
  gateway = await startGateway({
    REDIS_URL: redis.url,
    QUIRE_QUEUE_PREFIX: prefix,
    QUIRE_DATA_DIR: join(tmp.path, 'data'),
    QUIRE_API_KEYS: `acme:${hashApiKey('limits-key')}`,
    GATEWAY_BODY_LIMIT_BYTES: '2048',
    GATEWAY_INLINE_UPLOAD_MAX_BYTES: '1024',
    GATEWAY_UPLOAD_MAX_BYTES: '4096',
  });
}, 60_000);

afterAll(async () => {
  await gateway?.close();
  if (redis) await cleanupPrefix(redis.url, prefix);
  await redis?.stop();
  await tmp?.cleanup();
});

function uploadOf(bytes: number): FormData {
  const form = new FormData();
  form.append('file', new Blob([Buffer.alloc(bytes, 'a')], { type: 'text/plain' }), 'a.txt');
  return form;
}

async function post(path: string, body: FormData | string, type?: string) {
  const headers: Record<string, string> = { authorization };
  if (type) headers['content-type'] = type;
  const response = await fetch(`${gateway.url}${path}`, { method: 'POST', headers, body });
  return {
    status: response.status,
    body: (await response.json()) as { error?: { code: string; message: string } },
  };
}

/**
 * Writes the whole body before reading the answer, as curl and most HTTP clients do: a server
 * that answers early and closes the connection makes this fail with EPIPE or ECONNRESET.
 */
function rawPost(path: string, body: string): Promise<{ status: number; body: ErrorJson }> {
  const url = new URL(path, gateway.url);
  return new Promise((resolve, reject) => {
    const req = request(url, {
      method: 'POST',
      headers: {
        authorization,
        'content-type': 'application/json',
        'content-length': Buffer.byteLength(body),
      },
    });
    req.on('error', reject);
    req.on('response', (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('error', reject);
      res.on('end', () => {
        // The answer alone is not enough: the request must have been written in full too.
        req.on('close', () =>
          resolve({ status: res.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString()) }),
        );
      });
    });
    req.end(body);
  });
}

type ErrorJson = { error?: { code: string; message: string } };

describe('limits', () => {
  it('takes a small upload inline', async () => {
    const { status } = await post('/v1/documents/upload', uploadOf(1000));
    expect(status).toBe(202);
  });

  it('refuses an upload above the inline limit without an upload directory, naming the setting', async () => {
    const { status, body } = await post('/v1/documents/upload', uploadOf(2000));
    expect(status).toBe(413);
    expect(body.error).toMatchObject({ code: 'payload_too_large' });
    expect(body.error?.message).toMatch(/GATEWAY_UPLOAD_DIR/);
  });

  it('refuses a JSON document above the inline limit without an upload directory: it would live in Redis', async () => {
    for (const source of [
      { kind: 'text', text: 'y'.repeat(1500) },
      { kind: 'base64', data: Buffer.alloc(1200, 'z').toString('base64'), name: 'z.txt' },
    ]) {
      const { status, body } = await post(
        '/v1/documents',
        JSON.stringify({ documentId: 'inline', source }),
        'application/json',
      );
      expect(status, source.kind).toBe(413);
      expect(body.error?.message).toMatch(/GATEWAY_UPLOAD_DIR/);
    }
  });

  it('refuses an upload above the upload limit', async () => {
    const { status, body } = await post('/v1/documents/upload', uploadOf(5000));
    expect(status).toBe(413);
    expect(body.error?.message).toMatch(/1024 bytes|4096 bytes/);
  });

  it('refuses a JSON body above the body limit', async () => {
    const text = 'x'.repeat(3000);
    const { status, body } = await post(
      '/v1/documents',
      JSON.stringify({ documentId: 'big', source: { kind: 'text', text } }),
      'application/json',
    );
    expect(status).toBe(413);
    expect(body.error?.code).toBe('payload_too_large');
  });

  it('answers 413 to a large JSON body, after reading it, instead of breaking the connection', async () => {
    // Over a network 2.3 MB against the default 2 MiB limit broke the pipe; on loopback the
    // socket buffers hold a few MB, so this sends more than they can take before the answer.
    const text = 'x'.repeat(24_000_000);
    const { status, body } = await rawPost(
      '/v1/documents',
      JSON.stringify({ documentId: 'huge', source: { kind: 'text', text } }),
    );
    expect(status).toBe(413);
    expect(body.error?.code).toBe('payload_too_large');
    expect(body.error?.message).toMatch(/2048 bytes/);
  });

  it('answers 400 to malformed multipart bodies: no boundary, or cut short', async () => {
    const noBoundary = await post('/v1/documents/upload', 'hello', 'multipart/form-data');
    expect(noBoundary.status).toBe(400);
    expect(noBoundary.body.error?.code).toBe('invalid_request');
    expect(noBoundary.body.error?.message).toMatch(/boundary/);
    const truncated = await post(
      '/v1/documents/upload',
      '--b0\r\nContent-Disposition: form-data; name="file"; filename="a.txt"\r\nContent-Type: text/plain\r\n\r\nhel',
      'multipart/form-data; boundary=b0',
    );
    expect(truncated.status).toBe(400);
    expect(truncated.body.error?.code).toBe('invalid_request');
    expect(truncated.body.error?.message).toMatch(/multipart/i);
  });

  it('refuses other media types and malformed JSON', async () => {
    const plain = await post('/v1/documents', 'hello', 'text/plain');
    expect(plain.status).toBe(415);
    expect(plain.body.error?.code).toBe('unsupported_media_type');
    const notMultipart = await post('/v1/documents/upload', '{}', 'application/json');
    expect(notMultipart.status).toBe(415);
    const broken = await post('/v1/queries', '{"question":', 'application/json');
    expect(broken.status).toBe(400);
    expect(broken.body.error?.code).toBe('invalid_request');
  });

  it("keeps a caller's request id, and makes one otherwise", async () => {
    const given = await fetch(`${gateway.url}/v1/jobs/query/nope`, {
      headers: { authorization, 'x-request-id': 'trace-42' },
    });
    expect(given.headers.get('x-request-id')).toBe('trace-42');
    expect(await given.json()).toMatchObject({ error: { code: 'not_found', requestId: 'trace-42' } });
    const made = await fetch(`${gateway.url}/v1/jobs/query/nope`, {
      headers: { authorization, 'x-request-id': 'not a token\n' },
    });
    expect(made.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });
});
