import { describe, expect, it } from 'vitest';
import type { QueueCounts } from '../backend/types.js';
import { formatStatus } from './status.js';

const counts = (queue: QueueCounts['queue'], failed: number, workers: number | null): QueueCounts => ({
  queue,
  workers,
  counts: { waiting: 2, active: 1, delayed: 0, prioritized: 0, 'waiting-children': 0, completed: 10, failed },
});
const same = (text: string) => text;

describe('formatStatus', () => {
  it('shows counts per queue and state, then each failed job with its reason', () => {
    const text = formatStatus(
      {
        queues: [counts('ingest', 1, 2), counts('query', 0, null)],
        failed: [
          {
            queue: 'ingest',
            id: '42',
            name: 'ingest',
            tenant: 'acme',
            subject: 'broken.pdf',
            reason: 'broken.pdf: the file is not a readable PDF',
            attempts: 1,
            failedAt: Date.UTC(2024, 0, 2, 3, 4, 5),
          },
        ],
        failedListed: true,
      },
      'redis://127.0.0.1:6379 (queue prefix {quire})',
      same,
    );
    expect(text.split('\n')).toEqual([
      'Queues on redis://127.0.0.1:6379 (queue prefix {quire})',
      'QUEUE   WORKERS  waiting  active  delayed  prioritized  waiting-children  completed  failed',
      'ingest        2        2       1        0            0                 0         10       1',
      'query         ?        2       1        0            0                 0         10       0',
      '',
      'Failed jobs (1, most recent first)',
      '  ingest job 42 (ingest) · tenant acme · broken.pdf · 1 attempt · 2024-01-02T03:04:05Z',
      '    broken.pdf: the file is not a readable PDF',
    ]);
  });

  it('says when there are no failed jobs, and when the backend cannot list them', () => {
    const listed = formatStatus({ queues: [], failed: [], failedListed: true }, 'x', same);
    expect(listed).toContain('No failed jobs.');
    const unlisted = formatStatus(
      { queues: [counts('ingest', 3, null)], failed: [], failedListed: false },
      'x',
      same,
    );
    expect(unlisted).toContain('listed only with direct Redis access');
    expect(unlisted).not.toContain('No failed jobs');
  });
});
