/**
 * Scenarios through the HTTP gateway, run as a real process beside real ingest workers:
 *
 * - `webhook`: the gateway idles longer than its request-path Redis timeout and BullMQ's blocking
 *   wait, then a document is submitted with a webhook; the completion webhook must arrive promptly
 *   after the job completes, round after round, and the gateway must log no timed-out wait.
 * - `quota`: one tenant floods the gateway with documents far past its per-minute job limit while
 *   another tenant submits a few; the flood is answered with 429 and `Retry-After`, and every one of
 *   the other tenant's documents is accepted and ingested.
 */
import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fileURLToPath } from 'node:url';
import { QUEUES } from '@quire/jobs';
import { type SpawnedProcess, spawnProcess } from '@quire/testkit';
import { Sandbox } from '../sandbox.js';

/** Where the built gateway lives (`pnpm turbo run build` makes it). */
export const GATEWAY_MAIN = fileURLToPath(new URL('../../../apps/gateway/dist/main.js', import.meta.url));

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

interface GatewayProcess {
  url: string;
  process: SpawnedProcess;
}

async function startGatewayProcess(env: Record<string, string>): Promise<GatewayProcess> {
  const child = await spawnProcess(process.execPath, [GATEWAY_MAIN], {
    env: { LOG_FORMAT: 'json', LOG_LEVEL: 'info', PORT: '0', HOST: '127.0.0.1', METRICS_PORT: '0', ...env },
    readyLine: /gateway ready at/,
    readyTimeoutMs: 30_000,
  });
  const [, url] = await child.waitForLine(/gateway ready at (http:\/\/[^\s"]+)/);
  return { url: url!, process: child };
}

async function submitText(
  gatewayUrl: string,
  key: string,
  documentId: string,
  text: string,
  extra: Record<string, unknown> = {},
): Promise<{ status: number; jobId?: string; retryAfter: string | null }> {
  const response = await fetch(`${gatewayUrl}/v1/documents`, {
    method: 'POST',
    headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' },
    body: JSON.stringify({ documentId, source: { kind: 'text', text }, ...extra }),
  });
  const body = (await response.json().catch(() => ({}))) as { jobId?: string };
  return {
    status: response.status,
    ...(body.jobId === undefined ? {} : { jobId: body.jobId }),
    retryAfter: response.headers.get('retry-after'),
  };
}

async function waitUntil(check: () => boolean | Promise<boolean>, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) return false;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return true;
}

// --- webhook after idling

export interface WebhookIdleOptions {
  redisUrl: string;
  /** Idle periods followed by one submission each. Default 3. */
  rounds?: number;
  /** Idle time before each submission, in ms. Default 7,000 (past the 1 s timeout and BullMQ's 5 s wait). */
  idleMs?: number;
  log?: (line: string) => void;
}

export interface WebhookRound {
  idleMs: number;
  /** Job completion to webhook arrival, in ms; null when none arrived within 30 s. */
  delayMs: number | null;
}

export interface WebhookIdleReport {
  rounds: WebhookRound[];
  commandTimeoutMs: number;
  /** Gateway log lines reporting timed-out Redis commands or delivery-worker errors. */
  timeoutLines: string[];
  durationMs: number;
}

export async function runWebhookIdle(options: WebhookIdleOptions): Promise<WebhookIdleReport> {
  const started = performance.now();
  const log = options.log ?? (() => undefined);
  const commandTimeoutMs = 1_000;
  const key = 'chaos-webhook-key';
  const sandbox = await Sandbox.open({ label: 'webhook', redisUrl: options.redisUrl });
  const arrivals = new Map<string, number>();
  const receiver: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => {
      body += chunk.toString('utf8');
    });
    req.on('end', () => {
      const event = JSON.parse(body) as { type?: string; data?: { jobId?: string } };
      if (event.type === 'job.completed' && event.data?.jobId) arrivals.set(event.data.jobId, Date.now());
      res.writeHead(200).end();
    });
  });
  let gateway: GatewayProcess | undefined;
  try {
    await new Promise<void>((resolve) => receiver.listen(0, '127.0.0.1', resolve));
    const hookUrl = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/hook`;
    await sandbox.pool().start(1);
    gateway = await startGatewayProcess({
      ...sandbox.workerEnv(),
      QUIRE_API_KEYS: `chaos:${sha256(key)}`,
      GATEWAY_REDIS_COMMAND_TIMEOUT_MS: String(commandTimeoutMs),
      GATEWAY_WEBHOOK_SECRET: 'chaos-webhook-master-secret-0123456789',
      GATEWAY_WEBHOOK_ALLOW_ADDRESSES: '127.0.0.1',
    });
    const rounds: WebhookRound[] = [];
    const idleMs = options.idleMs ?? 7_000;
    for (let round = 1; round <= (options.rounds ?? 3); round++) {
      log(`webhook: round ${round}, idling ${idleMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, idleMs));
      const submitted = await submitText(
        gateway.url,
        key,
        `idle-${round}`,
        `Round ${round}\n\nThe harbour bell rang ${round} times after a quiet spell.`,
        { webhookUrl: hookUrl },
      );
      if (submitted.status !== 202 || submitted.jobId === undefined) {
        throw new Error(`webhook round ${round}: the gateway answered ${submitted.status}`);
      }
      const jobId = submitted.jobId;
      const arrived = await waitUntil(() => arrivals.has(jobId), 30_000);
      const job = await sandbox.producer.queue(QUEUES.ingest).getJob(jobId);
      const finishedOn = job?.finishedOn ?? null;
      rounds.push({
        idleMs,
        delayMs: arrived && finishedOn !== null ? Math.max(0, arrivals.get(jobId)! - finishedOn) : null,
      });
    }
    const timeoutLines = gateway.process.lines
      .map((line) => line.text)
      .filter((text) => /timed out|webhook worker error/i.test(text));
    return { rounds, commandTimeoutMs, timeoutLines, durationMs: performance.now() - started };
  } finally {
    await gateway?.process.kill('SIGTERM');
    await new Promise((resolve) => receiver.close(resolve));
    await sandbox.close();
  }
}

// --- one tenant floods, another's jobs still complete

export interface QuotaOptions {
  redisUrl: string;
  /** The gateway's per-tenant job limit per minute (and burst). Default 20. */
  jobsPerMinute?: number;
  /** Documents the flooding tenant sends. Default 200. */
  flood?: number;
  /** Documents the other tenant sends during the flood. Default 10. */
  calm?: number;
  log?: (line: string) => void;
}

export interface QuotaReport {
  jobsPerMinute: number;
  flood: { sent: number; accepted: number; refused: number; refusedWithRetryAfter: number; other: number };
  calm: { sent: number; accepted: number; completed: number; slowestMs: number | null };
  durationMs: number;
}

export async function runQuota(options: QuotaOptions): Promise<QuotaReport> {
  const started = performance.now();
  const log = options.log ?? (() => undefined);
  const jobsPerMinute = options.jobsPerMinute ?? 20;
  const floodCount = options.flood ?? 200;
  const calmCount = options.calm ?? 10;
  const keys = { flood: 'chaos-flood-key', calm: 'chaos-calm-key' };
  const sandbox = await Sandbox.open({ label: 'quota', redisUrl: options.redisUrl });
  let gateway: GatewayProcess | undefined;
  try {
    await sandbox.pool().start(2);
    gateway = await startGatewayProcess({
      ...sandbox.workerEnv(),
      QUIRE_API_KEYS: `flood:${sha256(keys.flood)},calm:${sha256(keys.calm)}`,
      GATEWAY_TENANT_JOBS_PER_MINUTE: String(jobsPerMinute),
    });
    const url = gateway.url;
    const flood = { sent: floodCount, accepted: 0, refused: 0, refusedWithRetryAfter: 0, other: 0 };
    const floodRun = (async () => {
      for (let at = 0; at < floodCount; at += 20) {
        const answers = await Promise.all(
          Array.from({ length: Math.min(20, floodCount - at) }, (_, i) =>
            submitText(
              url,
              keys.flood,
              `flood-${at + i}`,
              `Flood ${at + i}\n\nFiller text number ${at + i}.`,
            ),
          ),
        );
        for (const answer of answers) {
          if (answer.status === 202) flood.accepted++;
          else if (answer.status === 429) {
            flood.refused++;
            if (answer.retryAfter !== null && Number(answer.retryAfter) > 0) flood.refusedWithRetryAfter++;
          } else flood.other++;
        }
      }
    })();
    // The other tenant submits while the flood runs.
    await new Promise((resolve) => setTimeout(resolve, 100));
    const calmSubmitted = await Promise.all(
      Array.from({ length: calmCount }, async (_, i) => {
        const sentAt = Date.now();
        const answer = await submitText(
          url,
          keys.calm,
          `calm-${i}`,
          `Calm ${i}\n\nThe lighthouse on rock ${i} keeps its lamp lit.`,
        );
        return { ...answer, sentAt };
      }),
    );
    await floodRun;
    log(`quota: flood ${flood.accepted} accepted, ${flood.refused} refused`);
    const accepted = calmSubmitted.filter((c) => c.status === 202 && c.jobId !== undefined);
    const queue = sandbox.producer.queue(QUEUES.ingest);
    const finishedAt = new Map<string, number>();
    await waitUntil(async () => {
      for (const c of accepted) {
        if (finishedAt.has(c.jobId!)) continue;
        const job = await queue.getJob(c.jobId!);
        if (job?.finishedOn && (await job.getState()) === 'completed')
          finishedAt.set(c.jobId!, job.finishedOn);
      }
      return finishedAt.size === accepted.length;
    }, 120_000);
    const times = accepted
      .filter((c) => finishedAt.has(c.jobId!))
      .map((c) => finishedAt.get(c.jobId!)! - c.sentAt);
    return {
      jobsPerMinute,
      flood,
      calm: {
        sent: calmCount,
        accepted: accepted.length,
        completed: finishedAt.size,
        slowestMs: times.length === 0 ? null : Math.max(...times),
      },
      durationMs: performance.now() - started,
    };
  } finally {
    await gateway?.process.kill('SIGTERM');
    await sandbox.close();
  }
}
