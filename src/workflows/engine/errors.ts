import type { Problem } from '../definition/index.ts';

export type EngineErrorCode = 'not_found' | 'invalid' | 'conflict';

/** A refused engine call: `not_found` → 404, `invalid` → 400 (with problems), `conflict` → 409. */
export class EngineError extends Error {
  readonly code: EngineErrorCode;
  readonly problems: Problem[];
  constructor(code: EngineErrorCode, message: string, problems: Problem[] = []) {
    super(message);
    this.name = 'EngineError';
    this.code = code;
    this.problems = problems;
  }
}
