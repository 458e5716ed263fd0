import type { Caller } from '../gateway/index.ts';

export interface StreamEnd {
  error?: string;
  cancelled?: boolean;
}

/** Per-request values the middleware sets for handlers. */
export interface AppEnv {
  Variables: {
    requestId: string;
    startedAt: number;
    caller: Caller;
    /**
     * For streaming handlers: defers the request's span and log line, and returns the function that
     * ends them when the stream does.
     */
    deferEnd: () => (info: StreamEnd) => void;
  };
}
