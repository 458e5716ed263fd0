/**
 * What the repositories throw for a caller's mistake, as opposed to a database failure. The store knows
 * nothing of HTTP: the admin API maps `invalid` → 400, `not_found` → 404, `conflict` → 409 (or 400).
 */
export type StoreErrorCode = 'invalid' | 'not_found' | 'conflict';

export class StoreError extends Error {
  readonly code: StoreErrorCode;
  /** The offending input field (e.g. `budget.limit_usd`), when there is one. */
  readonly param: string | null;

  constructor(code: StoreErrorCode, message: string, param: string | null = null) {
    super(message);
    this.name = 'StoreError';
    this.code = code;
    this.param = param;
  }
}
