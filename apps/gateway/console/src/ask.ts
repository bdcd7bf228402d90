/** Ask: the answer with its citations, and the passages behind them with their scores. */
import { DEFAULT_TOP_N, MAX_TOP_N } from '@quire/contracts/retrieval-limits';
import { errorText, request } from './api.js';
import { h, pages, score, show } from './dom.js';
import type { AskResponse, JobStatus, Passage, QueryResult } from './types.js';

export function askView(): HTMLElement {
  const question = h('textarea', { id: 'ask-question', rows: 3, required: true, maxlength: 4000 });
  const topN = h('input', { id: 'ask-top-n', type: 'number', min: 1, max: MAX_TOP_N, value: DEFAULT_TOP_N });
  const submit = h('button', { type: 'submit' }, 'Ask');
  const status = h('p', { role: 'status', class: 'status' });
  const output = h('div', { class: 'answer-area' });
  const form = h(
    'form',
    {},
    h('label', { for: 'ask-question' }, 'Question'),
    question,
    h('div', { class: 'inline' }, h('label', { for: 'ask-top-n' }, 'Passages (top N)'), topN, submit),
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    void ask();
  });

  const ask = async () => {
    const text = question.value.trim();
    if (text === '') return;
    submit.disabled = true;
    status.textContent = 'Asking…';
    show(output);
    try {
      let response = await request<AskResponse>('POST', 'v1/queries', {
        question: text,
        options: { topN: Number(topN.value) || DEFAULT_TOP_N },
        wait: true,
        waitMs: 60_000,
      });
      // Not answered within the wait: follow the job.
      while (response.result === undefined) {
        await new Promise((resolve) => setTimeout(resolve, 1_000));
        const job = await request<JobStatus>('GET', `v1/jobs/query/${encodeURIComponent(response.jobId)}`);
        if (job.state === 'failed') throw new Error(job.failedReason ?? 'the question failed');
        if (job.state === 'completed') response = { jobId: job.jobId, result: job.result as QueryResult };
      }
      status.textContent = response.result.notFound ? 'No answer in the documents.' : 'Answered.';
      renderResult(output, response.result);
    } catch (error) {
      status.textContent = `The question failed: ${errorText(error)}`;
    } finally {
      submit.disabled = false;
    }
  };

  return h(
    'section',
    { 'aria-labelledby': 'ask-title' },
    h('h2', { id: 'ask-title' }, 'Ask'),
    form,
    status,
    output,
  );
}

function renderResult(output: HTMLElement, result: QueryResult): void {
  const byRank = new Map(result.passages.map((p) => [p.rank, p]));
  const open = (rank: number) => {
    const details = document.getElementById(`passage-${rank}`) as HTMLDetailsElement | null;
    if (!details) return;
    details.open = true;
    details.querySelector('summary')?.focus();
  };
  // The answer as text, its [n] markers as buttons to the passage they cite.
  const answer = h('p', { class: 'answer', 'data-testid': 'answer' });
  const parts = result.answer.split(/(\[\d+\])/);
  for (const part of parts) {
    const cited = /^\[(\d+)\]$/.exec(part);
    const rank = cited ? Number(cited[1]) : null;
    if (rank !== null && byRank.has(rank)) {
      answer.appendChild(
        h(
          'button',
          {
            type: 'button',
            class: 'cite',
            'aria-label': `Citation ${rank}: open passage ${rank}`,
            onclick: () => open(rank),
          },
          `[${rank}]`,
        ),
      );
    } else if (part !== '') answer.appendChild(document.createTextNode(part));
  }
  const rerank = result.reranked
    ? 'Reranked: yes'
    : `Reranked: no, fused retrieval order${result.rerankError ? ` (${result.rerankError})` : ''}`;
  show(
    output,
    h('h3', {}, 'Answer'),
    answer,
    h('p', { class: 'muted' }, rerank, ` · ${Math.round(result.timingsMs.total ?? 0)} ms`),
    result.contextTruncated
      ? h(
          'p',
          { class: 'muted', 'data-note': 'context-truncated' },
          `The context budget (${result.contextTruncated.budget} tokens) left ${result.contextTruncated.dropped} passage${result.contextTruncated.dropped === 1 ? '' : 's'} out` +
            (result.contextTruncated.shortened ? ' and shortened the one given.' : '.'),
        )
      : null,
    result.citations.length > 0 ? h('h3', {}, 'Citations') : null,
    result.citations.length > 0
      ? h(
          'ol',
          { class: 'citations' },
          ...result.citations.map((c) =>
            h(
              'li',
              { value: c.number },
              h(
                'button',
                { type: 'button', class: 'link', onclick: () => open(c.number) },
                `[${c.number}] ${c.sourceName}`,
              ),
              ` ${pages(c.pageStart, c.pageEnd)} — `,
              h('span', { class: 'muted' }, c.excerpt),
            ),
          ),
        )
      : null,
    h('h3', {}, 'Passages'),
    ...result.passages.map(renderPassage),
  );
}

function renderPassage(p: Passage): HTMLElement {
  return h(
    'details',
    { id: `passage-${p.rank}`, class: 'passage' },
    h(
      'summary',
      {},
      h('strong', {}, `[${p.rank}] ${p.sourceName}`),
      ` ${pages(p.pageStart, p.pageEnd)} · chunk ${p.chunkIndex} · retrieval ${score(p.retrievalScore)} · rerank ${score(p.rerankScore)}`,
      p.contextRank !== undefined && p.contextRank !== p.rank ? ` · ranked ${p.contextRank}` : '',
    ),
    h('p', { class: 'muted' }, `Document ${p.documentId}`),
    h('p', { class: 'passage-text' }, p.text),
  );
}
