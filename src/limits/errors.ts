/**
 * Thrown by reserve/admit/status when the shared store (Redis) cannot be reached and the fail mode is
 * `closed`: the request must be refused (the gateway answers 503), not let through unmetered.
 */
export class LimitsUnavailableError extends Error {
  constructor(operation: string, cause: unknown) {
    super(`Budgets and rate limits are unavailable (${operation}: Redis unreachable)`, { cause });
    this.name = 'LimitsUnavailableError';
  }
}
