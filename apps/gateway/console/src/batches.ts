/** Batches: many questions as one job, with their progress and the report's export. */
import { download, errorText, request } from './api.js';
import { h, show } from './dom.js';
import type { BatchStatus, JobAccepted } from './types.js';

const POLL_MS = 2_000;

export function batchesView(): HTMLElement {
  const questions = h('textarea', { id: 'batch-questions', rows: 5, required: true });
  const name = h('input', { id: 'batch-name', type: 'text', maxlength: 256 });
  const lookup = h('input', { id: 'batch-lookup', type: 'text' });
  const status = h('p', { role: 'status', class: 'status' });
  const list = h('div', { class: 'batches' });
  const batches = new Map<
    string,
    { status: BatchStatus | null; element: HTMLElement; error: string | null }
  >();
  let timer: number | undefined;

  const render = (batchId: string) => {
    const entry = batches.get(batchId);
    if (!entry) return;
    const s = entry.status;
    const done = s ? s.answered + s.failed : 0;
    show(
      entry.element,
      h('h3', {}, s?.name ? `${s.name} (${batchId})` : `Batch ${batchId}`),
      entry.error ? h('p', { class: 'reason' }, entry.error) : null,
      s
        ? h(
            'p',
            {},
            h('progress', {
              max: Math.max(1, s.total),
              value: done,
              'aria-label': `Progress of batch ${batchId}`,
            }),
            ` ${s.state} · ${s.answered} answered, ${s.failed} failed, ${s.pending} pending of ${s.total}`,
            s.failedReason ? h('span', { class: 'reason' }, ` · ${s.failedReason}`) : null,
          )
        : h('p', {}, 'reading…'),
      s?.state === 'completed'
        ? h(
            'p',
            { class: 'inline' },
            h('button', { type: 'button', onclick: () => void save(s, 'jsonl') }, 'Export JSON Lines'),
            h('button', { type: 'button', onclick: () => void save(s, 'csv') }, 'Export CSV'),
          )
        : null,
    );
  };

  const save = async (s: BatchStatus, format: 'jsonl' | 'csv') => {
    try {
      const blob = await download(s.exportUrls[format]);
      const link = h('a', { href: URL.createObjectURL(blob), download: `batch-${s.batchId}.${format}` });
      document.body.appendChild(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(link.href), 10_000);
    } catch (error) {
      status.textContent = `Export failed: ${errorText(error)}`;
    }
  };

  const poll = async () => {
    timer = undefined;
    await Promise.all(
      [...batches.entries()].map(async ([batchId, entry]) => {
        if (entry.status?.state === 'completed' || entry.status?.state === 'failed') return;
        try {
          entry.status = await request<BatchStatus>('GET', `v1/batches/${encodeURIComponent(batchId)}`);
          entry.error = null;
        } catch (error) {
          entry.error = errorText(error);
        }
        render(batchId);
      }),
    );
    const open = [...batches.values()].some(
      (e) => e.status === null || (e.status.state !== 'completed' && e.status.state !== 'failed'),
    );
    if (open && timer === undefined) timer = window.setTimeout(() => void poll(), POLL_MS);
  };

  const follow = (batchId: string) => {
    if (!batches.has(batchId)) {
      const element = h('article', { class: 'batch', 'data-batch': batchId });
      batches.set(batchId, { status: null, element, error: null });
      list.prepend(element);
      render(batchId);
    }
    void poll();
  };

  const form = h(
    'form',
    {},
    h('label', { for: 'batch-questions' }, 'Questions, one per line'),
    questions,
    h('label', { for: 'batch-name' }, 'Name (optional)'),
    name,
    h('button', { type: 'submit' }, 'Run batch'),
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const lines = questions.value
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => line !== '');
    if (lines.length === 0) return;
    void (async () => {
      try {
        const accepted = await request<JobAccepted>('POST', 'v1/batches', {
          ...(name.value.trim() ? { name: name.value.trim() } : {}),
          questions: lines.map((question, i) => ({ id: `q${i + 1}`, question })),
        });
        status.textContent = `Batch ${accepted.batchId ?? accepted.jobId} queued with ${lines.length} questions`;
        questions.value = '';
        follow(accepted.batchId ?? accepted.jobId);
      } catch (error) {
        status.textContent = `The batch was not queued: ${errorText(error)}`;
      }
    })();
  });
  const lookupForm = h(
    'form',
    { class: 'inline' },
    h('label', { for: 'batch-lookup' }, 'Open a batch by id'),
    lookup,
    h('button', { type: 'submit' }, 'Open'),
  );
  lookupForm.addEventListener('submit', (event) => {
    event.preventDefault();
    const id = lookup.value.trim();
    if (id !== '') follow(id);
    lookup.value = '';
  });
  return h(
    'section',
    { 'aria-labelledby': 'batches-title' },
    h('h2', { id: 'batches-title' }, 'Batches'),
    form,
    lookupForm,
    status,
    list,
  );
}
