import { z } from 'zod';

// Request bodies as OpenAI (embeddings, chat), Jina and Cohere (rerank) accept them. Unknown fields are
// ignored, as the providers do for fields they do not use; known fields are checked strictly.

export const embeddingsRequestSchema = z.object({
  model: z.string().min(1),
  input: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)], {
    error: 'expected a string or an array of strings',
  }),
  encoding_format: z.enum(['float', 'base64']).optional(),
  dimensions: z.number().int().positive().optional(),
  user: z.string().optional(),
});
export type EmbeddingsRequest = z.infer<typeof embeddingsRequestSchema>;

export const rerankRequestSchema = z.object({
  model: z.string().min(1),
  query: z.string().min(1),
  documents: z
    .array(z.union([z.string(), z.object({ text: z.string() })], { error: 'expected a string or { text }' }))
    .min(1),
  top_n: z.number().int().positive().optional(),
  return_documents: z.boolean().optional(),
});
export type RerankRequest = z.infer<typeof rerankRequestSchema>;

const textPartSchema = z.object({ type: z.literal('text'), text: z.string() });

export const chatRequestSchema = z.object({
  model: z.string().min(1),
  messages: z
    .array(
      z.object({
        // `developer` is OpenAI's newer name for `system`.
        role: z.enum(['system', 'developer', 'user', 'assistant']),
        content: z.union([z.string(), z.array(textPartSchema), z.null()], {
          error: 'expected a string or an array of text parts',
        }),
        name: z.string().optional(),
      }),
    )
    .min(1),
  temperature: z.number().min(0).max(2).nullish(),
  max_tokens: z.number().int().positive().nullish(),
  max_completion_tokens: z.number().int().positive().nullish(),
  stop: z
    .union([z.string(), z.array(z.string()).max(4)], { error: 'expected a string or up to 4 strings' })
    .nullish(),
  n: z.literal(1).nullish(),
  stream: z.boolean().nullish(),
  stream_options: z.object({ include_usage: z.boolean().optional() }).nullish(),
});
export type ChatRequest = z.infer<typeof chatRequestSchema>;

/** The first problem of a failed parse, as `'<field path>': <what is wrong>`, plus the path on its own. */
export function describeIssue(error: z.ZodError): { message: string; param: string | null } {
  const issue = deepestIssue(error.issues[0]!);
  const param = issue.path.length > 0 ? issue.path.map(String).join('.') : null;
  return {
    message:
      param === null ? `Invalid request body: ${issue.message}` : `Invalid '${param}': ${issue.message}`,
    param,
  };
}

// A union failure only says "invalid input"; the branch that got furthest says what was actually wrong.
function deepestIssue(issue: z.core.$ZodIssue): z.core.$ZodIssue {
  if (issue.code !== 'invalid_union' || issue.errors.length === 0) return issue;
  let best: z.core.$ZodIssue | undefined;
  for (const branch of issue.errors) {
    const first = branch[0];
    if (first === undefined) continue;
    if (first.code === 'invalid_type' && first.path.length === 0) continue;
    if (best === undefined || first.path.length > best.path.length) best = first;
  }
  if (best === undefined) return issue;
  const inner = deepestIssue(best);
  return { ...inner, path: [...issue.path, ...inner.path] } as z.core.$ZodIssue;
}
