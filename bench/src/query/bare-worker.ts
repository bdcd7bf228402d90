/**
 * The bare client of `bench:query`'s floor: a BullMQ worker process with no Quire code that, for job
 * `{ i }`, sends the model server the exact requests Quire sent for question `i` (read from
 * `BARE_REQUESTS`, recorded beforehand) with undici's `request` over a keep-alive pool (the least
 * overhead Node offers, as Quire's client uses), one after the other as Quire does, and completes
 * the job. What it spends beyond the server's own time is the least any queue-based
 * client of these three calls spends: the floor Quire's overhead is compared with.
 */
import { readFileSync } from 'node:fs';
import { Worker } from 'bullmq';
import { Agent, request } from 'undici';

interface RecordedRequest {
  path: string;
  body: unknown;
}

function required(name: string): string {
  const value = process.env[name];
  if (value === undefined || value === '') throw new Error(`${name} is required`);
  return value;
}

const requests = JSON.parse(readFileSync(required('BARE_REQUESTS'), 'utf8')) as RecordedRequest[][];
const baseURL = required('BARE_BASE_URL').replace(/\/$/, '');
const headers = { 'content-type': 'application/json', authorization: `Bearer ${required('BARE_API_KEY')}` };

const dispatcher = new Agent({ keepAliveTimeout: 30_000 });

const worker = new Worker(
  required('BARE_QUEUE'),
  async (job) => {
    const calls = requests[(job.data as { i: number }).i];
    if (calls === undefined) throw new Error(`no recorded requests for question ${job.data.i}`);
    const started = performance.now();
    for (const call of calls) {
      const response = await request(baseURL + call.path, {
        method: 'POST',
        headers,
        body: JSON.stringify(call.body),
        dispatcher,
      });
      if (response.statusCode !== 200) throw new Error(`${call.path} answered ${response.statusCode}`);
      await response.body.json();
    }
    return { calls: calls.length, processorMs: performance.now() - started };
  },
  { connection: { url: required('REDIS_URL') }, prefix: required('BARE_PREFIX'), concurrency: 1 },
);

await worker.waitUntilReady();
process.stdout.write('bare worker ready\n');
for (const signal of ['SIGTERM', 'SIGINT'] as const) {
  process.once(signal, () => {
    void worker.close().then(() => process.exit(0));
  });
}
