/** Documents: what is stored, what failed and why, what is on its way; retry and delete. */
import { errorText, request } from './api.js';
import { formatTime, h, show } from './dom.js';
import { describeJob, finished, onJobsChange, type TrackedJob, track, trackedJobs } from './jobs.js';
import type { DocumentList, DocumentSummary, FailedDocument, JobAccepted } from './types.js';

const MAX_PAGES = 10;
const PAGE_SIZE = 100;

interface Row {
  documentId: string;
  state: 'ingested' | 'failed' | 'working' | 'deleted';
  summary: DocumentSummary | null;
  failure: FailedDocument | null;
  job: TrackedJob | null;
}

export function documentsView(): { element: HTMLElement; refresh: () => Promise<void> } {
  const status = h('p', { role: 'status', class: 'status' });
  const tableArea = h('div');
  const refreshButton = h('button', { type: 'button', onclick: () => void refresh() }, 'Refresh');
  const retryAllButton = h(
    'button',
    { type: 'button', class: 'secondary', hidden: true, onclick: () => void retryAll() },
    'Retry all failed',
  );
  const element = h(
    'section',
    { 'aria-labelledby': 'documents-title' },
    h(
      'div',
      { class: 'toolbar' },
      h('h2', { id: 'documents-title' }, 'Documents'),
      h('div', { class: 'inline' }, retryAllButton, refreshButton),
    ),
    status,
    tableArea,
  );
  let stored: DocumentSummary[] = [];
  let failed: FailedDocument[] = [];
  let more = false;
  let lastJobsSignature = '';

  const act = async (
    label: string,
    documentId: string,
    run: () => Promise<JobAccepted>,
    kind: TrackedJob['kind'],
  ) => {
    status.textContent = `${label} ${documentId}…`;
    try {
      const accepted = await run();
      track(accepted.jobId, documentId, kind);
      status.textContent = `${label} ${documentId}: queued`;
    } catch (error) {
      status.textContent = `${label} ${documentId} failed: ${errorText(error)}`;
    }
  };

  // One after another, each the same as its own Retry button.
  const retryAll = async () => {
    const retryable = failed.filter((f) => f.retryable);
    for (const failure of retryable) {
      await act(
        'Retrying',
        failure.documentId,
        () => request('POST', `v1/failed-documents/${encodeURIComponent(failure.documentId)}/retry`),
        'retry',
      );
    }
    status.textContent = `Retried ${retryable.length} failed document${retryable.length === 1 ? '' : 's'}`;
  };

  const render = () => {
    retryAllButton.hidden = !failed.some((f) => f.retryable);
    const rows = new Map<string, Row>();
    for (const summary of stored)
      rows.set(summary.documentId, {
        documentId: summary.documentId,
        state: 'ingested',
        summary,
        failure: null,
        job: null,
      });
    for (const failure of failed) {
      const row = rows.get(failure.documentId);
      if (row) {
        row.failure = failure;
        row.state = 'failed';
      } else
        rows.set(failure.documentId, {
          documentId: failure.documentId,
          state: 'failed',
          summary: null,
          failure,
          job: null,
        });
    }
    // The latest job started here for each document says what is happening to it now.
    for (const job of trackedJobs()) {
      const row = rows.get(job.documentId) ?? {
        documentId: job.documentId,
        state: 'working' as const,
        summary: null,
        failure: null,
        job: null,
      };
      row.job = job;
      if (!finished(job)) row.state = 'working';
      else if (job.state === 'failed') row.state = 'failed';
      else if (job.kind === 'delete') row.state = 'deleted';
      else row.state = 'ingested';
      rows.set(job.documentId, row);
    }
    const sorted = [...rows.values()].sort((a, b) => (a.documentId < b.documentId ? -1 : 1));
    if (sorted.length === 0) {
      show(tableArea, h('p', {}, 'No documents yet. Upload some on the Upload tab.'));
      return;
    }
    show(
      tableArea,
      h(
        'table',
        {},
        h(
          'caption',
          {},
          more
            ? `The first ${stored.length} stored documents, and the failed ones`
            : 'Stored and failed documents of this tenant',
        ),
        h(
          'thead',
          {},
          h(
            'tr',
            {},
            ...['Document', 'State', 'Chunks', 'Pages', 'Version', 'Ingested', 'Details', 'Actions'].map(
              (t) => h('th', { scope: 'col' }, t),
            ),
          ),
        ),
        h('tbody', {}, ...sorted.map(renderRow)),
      ),
    );
  };

  const renderRow = (row: Row): HTMLTableRowElement => {
    const latest = row.summary?.versions.at(-1);
    const result = row.job?.result ?? null;
    const details: (string | HTMLElement)[] = [];
    if (row.job && (!finished(row.job) || row.job.state === 'failed' || row.job.result?.duplicateOf))
      details.push(describeJob(row.job));
    else if (row.failure && row.state === 'failed') details.push(row.failure.failedReason);
    if (row.failure && row.state === 'failed' && !row.failure.retryable)
      details.push(' (the uploaded file is gone: upload it again)');
    const id = row.documentId;
    const canRetry = row.state === 'failed' && row.failure !== null && row.failure.retryable;
    return h(
      'tr',
      { 'data-document': id },
      h(
        'th',
        { scope: 'row' },
        id,
        row.summary && row.summary.sourceName !== id
          ? h('span', { class: 'muted' }, ` (${row.summary.sourceName})`)
          : null,
      ),
      h('td', {}, h('span', { class: `state state-${row.state}` }, row.state)),
      h('td', {}, row.summary ? String(row.summary.chunks) : result ? String(result.chunks) : '—'),
      h('td', {}, pagesOf(row)),
      h('td', {}, h('code', {}, (latest?.version ?? result?.version ?? '—').slice(0, 12))),
      h('td', {}, formatTime(latest?.ingestedAt)),
      h('td', { class: row.state === 'failed' ? 'reason' : '' }, ...details),
      h(
        'td',
        { class: 'actions' },
        canRetry
          ? h(
              'button',
              {
                type: 'button',
                'aria-label': `Retry ${id}`,
                onclick: () =>
                  void act(
                    'Retrying',
                    id,
                    () => request('POST', `v1/failed-documents/${encodeURIComponent(id)}/retry`),
                    'retry',
                  ),
              },
              'Retry',
            )
          : null,
        row.state !== 'deleted' && row.state !== 'working'
          ? h(
              'button',
              {
                type: 'button',
                class: 'danger',
                'aria-label': `Delete ${id}`,
                onclick: () => {
                  if (window.confirm(`Delete document ${id} and all its chunks?`)) {
                    void act(
                      'Deleting',
                      id,
                      () => request('DELETE', `v1/documents/${encodeURIComponent(id)}`),
                      'delete',
                    );
                  }
                },
              },
              'Delete',
            )
          : null,
      ),
    );
  };

  const refresh = async () => {
    refreshButton.disabled = true;
    try {
      const documents: DocumentSummary[] = [];
      let after: string | null = null;
      let page = 0;
      do {
        const query: string =
          after === null ? `limit=${PAGE_SIZE}` : `limit=${PAGE_SIZE}&after=${encodeURIComponent(after)}`;
        const list: DocumentList = await request<DocumentList>('GET', `v1/documents?${query}`);
        documents.push(...list.documents);
        after = list.next;
        page += 1;
      } while (after !== null && page < MAX_PAGES);
      more = after !== null;
      stored = documents;
      failed = (await request<{ documents: FailedDocument[] }>('GET', 'v1/failed-documents')).documents;
      status.textContent = `${stored.length} stored, ${failed.length} failed`;
      render();
    } catch (error) {
      status.textContent = `Could not read the documents: ${errorText(error)}`;
    } finally {
      refreshButton.disabled = false;
    }
  };

  onJobsChange(() => {
    const jobs = trackedJobs();
    const signature = JSON.stringify(jobs.map((j) => [j.jobId, j.state, j.progress]));
    if (signature === lastJobsSignature) return;
    const newlyFinished = jobs.some(
      (j) => finished(j) && !lastJobsSignature.includes(`"${j.jobId}","${j.state}"`),
    );
    lastJobsSignature = signature;
    // A job that just ended changed what is stored or failed: read it again.
    if (newlyFinished) void refresh();
    else render();
  });
  render();
  return { element, refresh };
}

/** Pages as the document list gives them (any document), else as a job followed here reported them. */
function pagesOf(row: Row): string {
  const pages = row.summary?.pages ?? row.job?.result?.pages ?? null;
  return pages === null ? '—' : String(pages);
}
