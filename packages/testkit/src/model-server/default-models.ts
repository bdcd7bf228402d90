import { BuiltinModels, type ModelApi } from '@quire/api-client';

export function createDefaultModels(dimension: number | undefined): BuiltinModels {
  return new BuiltinModels(dimension === undefined ? {} : { dimension });
}

/** What `GET /v1/models` lists when no `modelIds` option is given. */
export function listedModelIds(models: ModelApi): string[] {
  return models instanceof BuiltinModels
    ? [models.models.embedding, models.models.rerank, models.models.chat]
    : [];
}
