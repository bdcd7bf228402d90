/** Bodies of the eval routes (kept apart from `schemas.ts`; the eval payloads are in `@quire/jobs`). */
import { EvalInputObjectSchema, EvalReportSchema } from '@quire/jobs';
import { z } from 'zod';
import { JobIdSchema, JobStateSchema } from './schemas.js';

export const SubmitEvalBodySchema = EvalInputObjectSchema.omit({ tenant: true })
  .extend({
    /** Refuse the eval (400) when its token estimate is above this; set it when the workers use a paid model API. */
    maxTokens: z.number().int().positive().optional(),
  })
  .strict()
  .meta({ id: 'SubmitEval' });
export type SubmitEvalBody = z.infer<typeof SubmitEvalBodySchema>;

export const EvalParamsSchema = z.object({ evalId: JobIdSchema });

export const EvalStatusSchema = z
  .object({
    evalId: z.string(),
    name: z.string().nullable(),
    state: JobStateSchema,
    step: z.enum(['ingest', 'report']),
    documents: z.number().int().nonnegative(),
    documentsDone: z.number().int().nonnegative(),
    questions: z.number().int().nonnegative(),
    questionsDone: z.number().int().nonnegative(),
    failedReason: z.string().nullable(),
    reportUrl: z.string(),
    exportUrls: z.object({ markdown: z.string(), csv: z.string(), json: z.string() }),
  })
  .meta({ id: 'EvalStatus' });

export const EvalReportBodySchema = EvalReportSchema.meta({ id: 'EvalReport' });

export const EvalExportQuerySchema = z.object({
  format: z.enum(['markdown', 'csv', 'json']).default('markdown'),
  formulas: z.enum(['escape', 'keep']).default('escape'),
});
