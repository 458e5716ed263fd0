/**
 * The last resort of `quorum serve`: an error that escaped every request handler (a throw from a
 * timer or an event listener, a rejected promise nobody awaited) is logged and counted, and the process
 * keeps serving. Node's default — exit — would end every tenant's in-flight requests for one bad event,
 * and a persistently broken upstream would turn that into a crash loop. Every escape is still a bug:
 * the counter `quorum_escaped_errors_total` is there to alert on.
 */
import type { Logger } from 'pino';
import { internalDetail } from '../providers/error-text.ts';
import { escapedErrors } from './metrics.ts';

export type EscapeKind = 'uncaught_exception' | 'unhandled_rejection';

/** Stack frames only: the first line repeats the message, which the detail already carries redacted. */
function framesOf(err: unknown): string[] | undefined {
  if (!(err instanceof Error) || typeof err.stack !== 'string') return undefined;
  return err.stack
    .split('\n')
    .filter((line) => /^\s+at /.test(line))
    .slice(0, 12)
    .map((line) => line.trim());
}

/** Logs and counts one escaped error. */
export function reportEscaped(logger: Logger, kind: EscapeKind, err: unknown): void {
  escapedErrors.inc({ kind });
  // A throw from here would end the process after all (an error inside the handler is fatal).
  try {
    logger.error(
      {
        kind,
        // Redacted and capped: an error's text can quote request data or a credential.
        error: internalDetail(err),
        ...(err instanceof Error && 'code' in err ? { code: String(err.code) } : {}),
        frames: framesOf(err),
      },
      'an error escaped every handler; logged and counted, the process keeps serving',
    );
  } catch {
    // Nothing left to tell it to; the counter has it.
  }
}

/**
 * Installs the handlers; returns a function that removes them. Installing them at all tells Node not
 * to exit on an uncaught exception or an unhandled rejection.
 */
export function installLastResort(logger: Logger): () => void {
  const onException = (err: unknown) => reportEscaped(logger, 'uncaught_exception', err);
  const onRejection = (reason: unknown) => reportEscaped(logger, 'unhandled_rejection', reason);
  process.on('uncaughtException', onException);
  process.on('unhandledRejection', onRejection);
  return () => {
    process.off('uncaughtException', onException);
    process.off('unhandledRejection', onRejection);
  };
}
