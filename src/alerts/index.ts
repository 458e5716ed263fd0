/**
 * Budget alerts: thresholds (percent of a budget) and soft limits, recorded once per scope, window,
 * period and threshold in the store, logged, counted, and delivered to signed webhooks with retries,
 * all off the request path. The settlement path reports through `AlertSink.observe(subject)`.
 */
export { Alerts, type AlertsOptions, type AlertsSettings, type TestDelivery } from './alerts.ts';
export { type RetrySchedule, retryAt } from './backoff.ts';
export { type AlertType, alertFields, alertMessage, alertRow, sampleBody } from './payload.ts';
export { DEFAULT_TOLERANCE_S, SIGNATURE_HEADER, signatureHeader, verifySignature } from './signature.ts';
export {
  type AlertKind,
  type AlertScope,
  type AlertSink,
  type AlertSubject,
  type AlertWindow,
  type Crossing,
  crossing,
  crossingsOf,
  reaches,
} from './subject.ts';
export { sendWebhook, type TryResult, type Webhook } from './webhook.ts';
