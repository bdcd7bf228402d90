/**
 * Evals: the tenant's evals with their progress, and a report's figures side by side per retrieval
 * stage, with its exports. Runs an eval with the CLI (`quire eval`) or `POST /v1/evals`; this view
 * reads them.
 */
import { download, errorText, request } from './api.js';
import { h, show } from './dom.js';
import type { EvalList, EvalReport, EvalStatus, EvalSummary } from './types.js';

const POLL_MS = 2_000;

const STAGES = [
  { key: 'lexical', label: 'Lexical' },
  { key: 'dense', label: 'Dense' },
  { key: 'fused', label: 'Fused' },
  { key: 'reranked', label: 'Fused + rerank' },
] as const;

const METRICS = [
  { key: 'recallAt1', label: 'Recall@1', rate: true },
  { key: 'recallAt5', label: 'Recall@5', rate: true },
  { key: 'recallAt10', label: 'Recall@10', rate: true },
  { key: 'recallAt20', label: 'Recall@20', rate: true },
  { key: 'mrrAt10', label: 'MRR@10', rate: false },
  { key: 'ndcgAt10', label: 'nDCG@10', rate: false },
] as const;

const LATENCY_STAGES = ['embed', 'lexical', 'dense', 'fuse', 'rerank', 'generate'] as const;

const EXPORTS = [
  { format: 'markdown', label: 'Export Markdown', ext: 'md' },
  { format: 'csv', label: 'Export CSV', ext: 'csv' },
  { format: 'json', label: 'Export JSON', ext: 'json' },
] as const;

function done(state: string): boolean {
  return state === 'completed' || state === 'failed';
}

function percent(value: number | null | undefined): string {
  return value === null || value === undefined ? '—' : `${(value * 100).toFixed(1)} %`;
}

function progressOf(e: EvalSummary): { value: number; max: number; text: string } {
  if (e.step === 'ingest' && e.documents > 0) {
    return {
      value: e.documentsDone,
      max: e.documents,
      text: `ingesting ${e.documentsDone} of ${e.documents} documents`,
    };
  }
  return {
    value: e.questionsDone,
    max: e.questions,
    text: `${e.questionsDone} of ${e.questions} questions`,
  };
}

export function evalsView(): { element: HTMLElement; refresh: () => Promise<void> } {
  const status = h('p', { role: 'status', class: 'status' });
  const listArea = h('div');
  const reportArea = h('div', { class: 'eval-report' });
  const refreshButton = h('button', { type: 'button', onclick: () => void refresh() }, 'Refresh');
  let evals: EvalSummary[] = [];
  let timer: number | undefined;

  const save = async (e: EvalStatus, format: (typeof EXPORTS)[number]) => {
    try {
      const blob = await download(e.exportUrls[format.format]);
      const link = h('a', { href: URL.createObjectURL(blob), download: `eval-${e.evalId}.${format.ext}` });
      document.body.appendChild(link);
      link.click();
      link.remove();
      setTimeout(() => URL.revokeObjectURL(link.href), 10_000);
    } catch (error) {
      status.textContent = `Export failed: ${errorText(error)}`;
    }
  };

  const open = async (evalId: string) => {
    show(reportArea, h('p', {}, `Reading the report of ${evalId}…`));
    try {
      const path = `v1/evals/${encodeURIComponent(evalId)}`;
      const e = await request<EvalStatus>('GET', path);
      const report = await request<EvalReport>('GET', e.reportUrl);
      show(reportArea, renderReport(e, report, save));
      reportArea.querySelector('h3')?.focus();
    } catch (error) {
      show(reportArea, h('p', { class: 'reason' }, `Could not read the report: ${errorText(error)}`));
    }
  };

  const render = () => {
    if (evals.length === 0) {
      show(listArea, h('p', {}, 'No evals yet. Run one with `quire eval <set-dir>` or POST /v1/evals.'));
      return;
    }
    show(
      listArea,
      h(
        'table',
        { class: 'evals' },
        h('caption', {}, 'Evals of this tenant, newest first'),
        h(
          'thead',
          {},
          h('tr', {}, ...['Eval', 'State', 'Progress', 'Report'].map((t) => h('th', { scope: 'col' }, t))),
        ),
        h(
          'tbody',
          {},
          ...evals.map((e) => {
            const progress = progressOf(e);
            const label = e.name ? `${e.name} (${e.evalId})` : e.evalId;
            return h(
              'tr',
              { 'data-eval': e.evalId },
              h('th', { scope: 'row' }, label),
              h('td', {}, h('span', { class: `state state-${e.state}` }, e.state)),
              h(
                'td',
                {},
                h('progress', {
                  max: Math.max(1, progress.max),
                  value: progress.value,
                  'aria-label': `Progress of eval ${label}`,
                }),
                ` ${progress.text}`,
                e.failedReason ? h('span', { class: 'reason' }, ` · ${e.failedReason}`) : null,
              ),
              h(
                'td',
                { class: 'actions' },
                e.state === 'completed'
                  ? h(
                      'button',
                      {
                        type: 'button',
                        'aria-label': `Open report of ${label}`,
                        onclick: () => void open(e.evalId),
                      },
                      'Open report',
                    )
                  : null,
              ),
            );
          }),
        ),
      ),
    );
  };

  const refresh = async () => {
    if (timer !== undefined) window.clearTimeout(timer);
    timer = undefined;
    refreshButton.disabled = true;
    try {
      evals = (await request<EvalList>('GET', 'v1/evals')).evals;
      const running = evals.filter((e) => !done(e.state)).length;
      status.textContent = `${evals.length} eval${evals.length === 1 ? '' : 's'}${running > 0 ? `, ${running} running` : ''}`;
      render();
      // Running evals are followed until they end, as long as this view is shown.
      if (running > 0 && listArea.isConnected) timer = window.setTimeout(() => void refresh(), POLL_MS);
    } catch (error) {
      status.textContent = `Could not read the evals: ${errorText(error)}`;
    } finally {
      refreshButton.disabled = false;
    }
  };

  const element = h(
    'section',
    { 'aria-labelledby': 'evals-title' },
    h(
      'div',
      { class: 'toolbar' },
      h('h2', { id: 'evals-title' }, 'Evals'),
      h('div', { class: 'inline' }, refreshButton),
    ),
    status,
    listArea,
    reportArea,
  );
  render();
  return { element, refresh };
}

function renderReport(
  e: EvalStatus,
  report: EvalReport,
  save: (e: EvalStatus, format: (typeof EXPORTS)[number]) => Promise<void>,
): HTMLElement {
  const title = report.name ? `${report.name} (${report.evalId})` : report.evalId;
  const header = (first: string) =>
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        h('th', { scope: 'col' }, first),
        ...STAGES.map((stage) => h('th', { scope: 'col' }, stage.label)),
      ),
    );
  const retrieval = h(
    'table',
    { class: 'metrics', 'data-table': 'retrieval' },
    h(
      'caption',
      {},
      `Retrieval over ${report.answerable} answerable question${report.answerable === 1 ? '' : 's'}, per stage`,
    ),
    header('Metric'),
    h(
      'tbody',
      {},
      ...METRICS.map((metric) =>
        h(
          'tr',
          {},
          h('th', { scope: 'row' }, metric.label),
          ...STAGES.map((stage) => {
            const value = report.retrieval[stage.key][metric.key];
            return h('td', {}, metric.rate ? percent(value) : value.toFixed(3));
          }),
        ),
      ),
    ),
  );
  const latency = h(
    'table',
    { class: 'metrics', 'data-table': 'latency' },
    h('caption', {}, 'Latency per stage, in milliseconds'),
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        h('th', { scope: 'col' }, 'Stage'),
        ...['Mean', 'p50', 'p95'].map((t) => h('th', { scope: 'col' }, t)),
      ),
    ),
    h(
      'tbody',
      {},
      ...LATENCY_STAGES.map((stage) => {
        const l = report.latencyMs[stage];
        return h(
          'tr',
          {},
          h('th', { scope: 'row' }, stage),
          ...[l.mean, l.p50, l.p95].map((ms) => h('td', {}, ms.toFixed(1))),
        );
      }),
    ),
  );
  const answers = report.answers
    ? h(
        'table',
        { class: 'metrics', 'data-table': 'answers' },
        h('caption', {}, 'Answers'),
        h(
          'thead',
          {},
          h(
            'tr',
            {},
            ...['Questions', 'Count', 'Answer contains a gold string', 'Not found'].map((t) =>
              h('th', { scope: 'col' }, t),
            ),
          ),
        ),
        h(
          'tbody',
          {},
          ...(
            [
              ['Answerable', report.answers.answerable],
              ['Gold passage ranked first', report.answers.goldFirst],
              ['Unanswerable', report.answers.unanswerable],
            ] as const
          ).map(([label, group]) =>
            h(
              'tr',
              {},
              h('th', { scope: 'row' }, label),
              h('td', {}, String(group.questions)),
              h('td', {}, percent(group.containment)),
              h('td', {}, percent(group.notFoundRate)),
            ),
          ),
        ),
      )
    : h('p', { class: 'muted' }, 'This eval measured retrieval only (no answers).');
  const s = report.settings;
  return h(
    'article',
    { 'aria-labelledby': 'eval-report-title', 'data-report': report.evalId },
    h('h3', { id: 'eval-report-title', tabindex: -1 }, `Report: ${title}`),
    h(
      'p',
      { class: 'muted' },
      `${report.evaluated} of ${report.total} questions evaluated, ${report.failed} failed · ` +
        `${report.answerable} answerable, ${report.unanswerable} unanswerable · ` +
        `${s.candidates} candidates, top ${s.topN}, context ${s.contextTokens} tokens · ` +
        `${report.documents.ingested} documents ingested${report.documents.cleanedUp ? ' (cleaned up)' : ''}`,
    ),
    h(
      'p',
      { class: 'inline' },
      ...EXPORTS.map((format) =>
        h('button', { type: 'button', onclick: () => void save(e, format) }, format.label),
      ),
    ),
    retrieval,
    answers,
    latency,
  );
}
