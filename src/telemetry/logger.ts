import pino, { type Logger } from 'pino';

/**
 * Pino with every place a secret could appear redacted. Request bodies are never logged, so prompts
 * stay out of logs unless someone adds them on purpose.
 */
export const REDACT_PATHS = [
  'key',
  'api_key',
  'apiKey',
  'authorization',
  'headers.authorization',
  'headers["x-api-key"]',
  'req.headers.authorization',
  'req.headers["x-api-key"]',
  '*.api_key',
  '*.apiKey',
  '*.key',
  '*.authorization',
];

export function createLogger(options: { level?: string; destination?: pino.DestinationStream } = {}): Logger {
  const level = options.level ?? process.env.QUORUM_LOG_LEVEL ?? process.env.LOG_LEVEL ?? 'info';
  return pino(
    { level, base: { service: 'quorum' }, redact: { paths: REDACT_PATHS, censor: '[redacted]' } },
    options.destination ?? pino.destination({ sync: false }),
  );
}

export type { Logger };
