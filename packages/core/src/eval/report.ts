import {
  containsAnswer,
  firstRelevantRank,
  meanMetrics,
  ndcgAt,
  percentile,
  type RankingMetrics,
  type Relevance,
  rankingMetrics,
} from './metrics.js';
import {
  EVAL_MODES,
  EVAL_STAGES,
  type EvalMode,
  type EvalQuestionResult,
  type EvalReport,
  type EvalRow,
} from './schema.js';

/** One question of an eval, with its judgements. */
export interface EvalQuestion {
  id: string | null;
  question: string;
  /** Relevant documents and their grades (> 0); none for an unanswerable question. */
  relevant: readonly { documentId: string; grade: number }[];
  /** Gold answer strings; null when none were given. */
  answers: readonly string[] | null;
}

export type EvalOutcome = { ok: true; result: EvalQuestionResult } | { ok: false; error: string };

export interface BuildEvalReportInput {
  evalId: string;
  tenant: string;
  name: string | null;
  settings: EvalReport['settings'];
  documents: EvalReport['documents'];
  questions: readonly EvalQuestion[];
  /** By question index; a missing one is reported as a failed question. */
  outcomes: readonly (EvalOutcome | undefined)[];
  /** What the per-question rows carry besides the figures. */
  include?: { passages?: boolean; candidates?: boolean };
}

/** Document ids of a stage's chunk list, best first (a document's later chunks dropped by the metrics). */
function documents(result: EvalQuestionResult, mode: EvalMode): string[] {
  return result.rankings[mode].map((hit) => hit.documentId);
}

/**
 * Turns the per-question results of an eval into its report: retrieval figures per stage over the
 * answerable questions, answer containment and not-found rates (overall, where the gold passage
 * was reranked first, and on the unanswerable questions), latency per stage and one row per question.
 */
export function buildEvalReport(input: BuildEvalReportInput): EvalReport {
  const include = input.include ?? {};
  const perMode: Record<EvalMode, RankingMetrics[]> = { lexical: [], dense: [], fused: [], reranked: [] };
  const timings: Record<(typeof EVAL_STAGES)[number], number[]> = {
    embed: [],
    lexical: [],
    dense: [],
    fuse: [],
    rerank: [],
    generate: [],
  };
  const usage = { embeddingTokens: 0, documentsReranked: 0, promptTokens: 0, completionTokens: 0 };
  const groups = {
    answerable: { questions: 0, contained: 0, notFound: 0, gold: 0 },
    goldFirst: { questions: 0, contained: 0, notFound: 0, gold: 0 },
    unanswerable: { questions: 0, contained: 0, notFound: 0, gold: 0 },
  };
  let answerable = 0;
  let unanswerable = 0;

  const rows = input.questions.map((q, index): EvalRow => {
    const relevance: Relevance = new Map(q.relevant.map((r) => [r.documentId, r.grade]));
    const relevant = q.relevant.filter((r) => r.grade > 0).map((r) => r.documentId);
    const outcome = input.outcomes[index] ?? { ok: false, error: 'no result was recorded for this question' };
    if (!outcome.ok)
      return { ok: false, index, id: q.id, question: q.question, relevant, error: outcome.error };
    const result = outcome.result;
    const isAnswerable = relevant.length > 0;
    if (isAnswerable) answerable++;
    else unanswerable++;

    const ranks = {} as Record<EvalMode, number | null>;
    const ndcg = {} as Record<EvalMode, number>;
    for (const mode of EVAL_MODES) {
      const ranking = documents(result, mode);
      ranks[mode] = firstRelevantRank(ranking, relevance);
      ndcg[mode] = ndcgAt(ranking, relevance, 10);
      if (isAnswerable) perMode[mode].push(rankingMetrics(ranking, relevance));
    }
    for (const stage of EVAL_STAGES) timings[stage].push(result.timingsMs[stage]);
    usage.embeddingTokens += result.usage.embeddingTokens;
    usage.documentsReranked += result.usage.documentsReranked;
    usage.promptTokens += result.usage.promptTokens;
    usage.completionTokens += result.usage.completionTokens;

    const answer = result.answer;
    const gold = q.answers !== null && q.answers.length > 0 ? q.answers : null;
    const contained =
      answer !== null && gold !== null && !answer.notFound ? containsAnswer(answer.text, gold) : null;
    if (answer !== null) {
      const tally = (group: (typeof groups)['answerable']) => {
        group.questions++;
        if (answer.notFound) group.notFound++;
        if (gold !== null) group.gold++;
        if (contained === true) group.contained++;
      };
      if (isAnswerable) {
        tally(groups.answerable);
        if (ranks.reranked === 1) tally(groups.goldFirst);
      } else {
        tally(groups.unanswerable);
      }
    }

    return {
      ok: true,
      index,
      id: q.id,
      question: q.question,
      relevant,
      firstRelevantRank: ranks,
      ndcgAt10: ndcg,
      reranked: result.reranked,
      ...(result.rerankError === undefined ? {} : { rerankError: result.rerankError }),
      answer: answer?.text ?? null,
      notFound: answer?.notFound ?? null,
      contained: answer !== null && gold !== null ? (contained ?? false) : null,
      contextTokens: answer?.contextTokens ?? null,
      droppedByBudget: answer?.droppedByBudget ?? null,
      timingsMs: result.timingsMs,
      ...(include.passages ? { passages: answer?.passages ?? [] } : {}),
      ...(include.candidates
        ? { candidates: result.candidates, rerankedList: result.rankings.reranked }
        : {}),
    };
  });

  const evaluated = rows.filter((row) => row.ok).length;
  const group = (g: (typeof groups)['answerable']) => ({
    questions: g.questions,
    containment: g.gold === 0 ? null : g.contained / g.gold,
    notFoundRate: g.questions === 0 ? null : g.notFound / g.questions,
  });
  const latency = (values: number[]) => ({
    mean: values.length === 0 ? 0 : values.reduce((a, b) => a + b, 0) / values.length,
    p50: percentile(values, 50),
    p95: percentile(values, 95),
  });
  return {
    v: 1,
    evalId: input.evalId,
    tenant: input.tenant,
    name: input.name,
    settings: input.settings,
    documents: input.documents,
    total: rows.length,
    evaluated,
    failed: rows.length - evaluated,
    answerable,
    unanswerable,
    retrieval: {
      lexical: meanMetrics(perMode.lexical),
      dense: meanMetrics(perMode.dense),
      fused: meanMetrics(perMode.fused),
      reranked: meanMetrics(perMode.reranked),
    },
    answers: input.settings.answers
      ? {
          answerable: group(groups.answerable),
          goldFirst: group(groups.goldFirst),
          unanswerable: group(groups.unanswerable),
        }
      : null,
    latencyMs: {
      embed: latency(timings.embed),
      lexical: latency(timings.lexical),
      dense: latency(timings.dense),
      fuse: latency(timings.fuse),
      rerank: latency(timings.rerank),
      generate: latency(timings.generate),
    },
    usage,
    queries: rows,
  };
}
