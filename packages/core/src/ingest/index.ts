export {
  documentVersion,
  type IngestDocumentDeps,
  type IngestDocumentProgress,
  type IngestDocumentRequest,
  type IngestDocumentResult,
  ingestDocument,
  PIPELINE_VERSION,
} from './ingest-document.js';
