export {
  type DeliveryOutcome,
  type DeliveryRequest,
  deliverOnce,
  type HostLookup,
  webhookUrlProblem,
} from './deliver.js';
export { WEBHOOKS_QUEUE, WebhookService, type WebhookServiceOptions } from './service.js';
export {
  SIGNATURE_HEADER,
  SIGNATURE_SCHEME,
  signWebhook,
  tenantWebhookSecret,
  type VerifyOptions,
  verifyWebhookSignature,
  WEBHOOK_EVENT_HEADER,
  WEBHOOK_ID_HEADER,
} from './signature.js';
