/**
 * Request bodies the double understands, as zod schemas. They follow Qdrant's REST schema for the
 * parts Quire uses and are strict where Qdrant is strict (a float in `match.value` is refused, as
 * Qdrant only matches strings, integers and booleans). Anything outside that subset is refused
 * with a 400 naming the field, so a caller never gets a silently wrong answer from the double.
 */
import { z } from 'zod';

const integer = z.number().int();

export const pointIdSchema = z.union([integer.nonnegative(), z.string()]);
export type RawPointId = z.infer<typeof pointIdSchema>;

const matchSchema = z.union([
  z.object({ value: z.union([z.string(), integer, z.boolean()]) }).strict(),
  z.object({ any: z.union([z.array(z.string()), z.array(integer)]) }).strict(),
  z.object({ except: z.union([z.array(z.string()), z.array(integer)]) }).strict(),
]);

const rangeSchema = z
  .object({
    gt: z.number().nullable().optional(),
    gte: z.number().nullable().optional(),
    lt: z.number().nullable().optional(),
    lte: z.number().nullable().optional(),
  })
  .strict();

const fieldConditionSchema = z
  .object({
    key: z.string(),
    match: matchSchema.optional(),
    range: rangeSchema.optional(),
  })
  .strict()
  .refine((c) => (c.match === undefined) !== (c.range === undefined), {
    message: 'a field condition needs exactly one of `match` or `range` (the only ones the double supports)',
  });

const hasIdConditionSchema = z.object({ has_id: z.array(pointIdSchema) }).strict();

export type FieldCondition = z.infer<typeof fieldConditionSchema>;
export type HasIdCondition = z.infer<typeof hasIdConditionSchema>;

export interface Filter {
  must?: Condition | Condition[] | null | undefined;
  should?: Condition | Condition[] | null | undefined;
  must_not?: Condition | Condition[] | null | undefined;
}
export type Condition = FieldCondition | HasIdCondition | Filter;

const conditionSchema: z.ZodType<Condition> = z.lazy(() =>
  z.union([fieldConditionSchema, hasIdConditionSchema, filterSchema]),
);
const clauseSchema = z
  .union([conditionSchema, z.array(conditionSchema)])
  .nullable()
  .optional();

export const filterSchema: z.ZodType<Filter> = z.lazy(() =>
  z.object({ must: clauseSchema, should: clauseSchema, must_not: clauseSchema }).strict(),
);

export const sparseVectorSchema = z
  .object({
    indices: z.array(integer.nonnegative().max(0xffff_ffff)),
    values: z.array(z.number()),
  })
  .strict();
export type SparseVectorInput = z.infer<typeof sparseVectorSchema>;

const denseVectorSchema = z.array(z.number());

const distanceSchema = z.enum(['Cosine', 'Dot', 'Euclid', 'Manhattan']);
export type Distance = z.infer<typeof distanceSchema>;

export const vectorParamsSchema = z.object({ size: integer.positive(), distance: distanceSchema });
export const namedVectorsSchema = z.record(z.string(), vectorParamsSchema);

export const createCollectionSchema = z.object({
  vectors: z.union([vectorParamsSchema, namedVectorsSchema]).optional(),
  sparse_vectors: z
    .record(z.string(), z.object({ modifier: z.enum(['none', 'idf']).nullable().optional() }).passthrough())
    .nullable()
    .optional(),
});

const payloadSchemaTypeSchema = z.enum([
  'keyword',
  'integer',
  'float',
  'geo',
  'text',
  'bool',
  'datetime',
  'uuid',
]);

export const createIndexSchema = z
  .object({
    field_name: z.string().min(1),
    field_schema: z.union([
      payloadSchemaTypeSchema,
      z.object({ type: payloadSchemaTypeSchema }).passthrough(),
    ]),
  })
  .strict();

export const upsertSchema = z
  .object({
    points: z.array(
      z
        .object({
          id: pointIdSchema,
          vector: z.union([
            denseVectorSchema,
            z.record(z.string(), z.union([denseVectorSchema, sparseVectorSchema])),
          ]),
          payload: z.record(z.string(), z.unknown()).nullable().optional(),
        })
        .strict(),
    ),
  })
  .strict();

const withPayloadSchema = z.union([
  z.boolean(),
  z.array(z.string()),
  z.object({ include: z.array(z.string()) }).strict(),
  z.object({ exclude: z.array(z.string()) }).strict(),
]);
export type WithPayload = z.infer<typeof withPayloadSchema>;

const queryVectorSchema = z.union([denseVectorSchema, sparseVectorSchema]);

export const querySchema = z
  .object({
    query: z.union([queryVectorSchema, z.object({ nearest: queryVectorSchema }).strict()]),
    using: z.string().nullable().optional(),
    filter: filterSchema.nullable().optional(),
    limit: integer.nonnegative().nullable().optional(),
    offset: integer.nonnegative().nullable().optional(),
    score_threshold: z.number().nullable().optional(),
    with_payload: withPayloadSchema.nullable().optional(),
    with_vector: z.boolean().nullable().optional(),
  })
  .strict();

export const countSchema = z
  .object({ filter: filterSchema.nullable().optional(), exact: z.boolean().optional() })
  .strict();

export const scrollSchema = z
  .object({
    offset: pointIdSchema.nullable().optional(),
    limit: integer.nonnegative().nullable().optional(),
    filter: filterSchema.nullable().optional(),
    with_payload: withPayloadSchema.nullable().optional(),
    with_vector: z.boolean().nullable().optional(),
  })
  .strict();

export const deleteSchema = z.union([
  z.object({ points: z.array(pointIdSchema) }).strict(),
  z.object({ filter: filterSchema }).strict(),
]);

/** One line naming each wrong field, in the spirit of Qdrant's "Format error in JSON body". */
export function describeIssues(error: z.ZodError): string {
  return error.issues
    .map((issue) => `${issue.path.length > 0 ? issue.path.join('.') : '(body)'}: ${issue.message}`)
    .join('; ');
}
