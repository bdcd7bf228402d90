/**
 * The model client's own cost per request, in a process of its own so that nothing else (the model
 * server, the benchmark) counts: `requests` embeddings calls of `inputs` short texts (base64 answers,
 * as the workers ask), `concurrency` in flight, after a warm-up, through one transport — undici's
 * keep-alive pool (the client's default) or the global `fetch`.
 *
 * Input: one JSON argument. Output: one line `RESULT <json>` on stdout.
 */
import { ModelClient } from '@quire/api-client';
import { z } from 'zod';

const Input = z.object({
  baseURL: z.string().url(),
  apiKey: z.string(),
  model: z.string(),
  transport: z.enum(['undici', 'fetch']),
  requests: z.number().int().positive(),
  concurrency: z.number().int().positive(),
  inputs: z.number().int().positive(),
});

export type ClientCpuInput = z.infer<typeof Input>;
export interface ClientCpuResult {
  transport: ClientCpuInput['transport'];
  requests: number;
  /** CPU (user + system) of this process per request, µs. */
  cpuUsPerRequest: number;
  /** Wall time per request, ms (the server's time included). */
  wallMsPerRequest: number;
}

const input = Input.parse(JSON.parse(process.argv[2] ?? 'null'));
const client = new ModelClient({
  baseURL: input.baseURL,
  apiKey: input.apiKey,
  maxRetries: 0,
  embeddingEncoding: 'base64',
  ...(input.transport === 'fetch' ? { fetch: globalThis.fetch } : {}),
});
const texts = Array.from({ length: input.inputs }, (_, i) => `question ${i} about the text it was asked of`);

async function run(requests: number): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: input.concurrency }, async () => {
      while (next < requests) {
        next += 1;
        await client.embeddings({ model: input.model, input: texts });
      }
    }),
  );
}

await run(Math.min(200, input.requests));
const cpu = process.cpuUsage();
const started = performance.now();
await run(input.requests);
const wallMs = performance.now() - started;
const used = process.cpuUsage(cpu);
const result: ClientCpuResult = {
  transport: input.transport,
  requests: input.requests,
  cpuUsPerRequest: (used.user + used.system) / input.requests,
  wallMsPerRequest: wallMs / input.requests,
};
process.stdout.write(`RESULT ${JSON.stringify(result)}\n`);
