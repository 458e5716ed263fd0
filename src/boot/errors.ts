/** Which start-up step failed, what went wrong, and what the operator can do about it. */
export type BootStep = 'config' | 'store' | 'gateway' | 'workflows' | 'http' | 'workers';

export class BootError extends Error {
  readonly step: BootStep;
  /** What to do about it, one sentence. */
  readonly hint: string;

  constructor(step: BootStep, message: string, hint: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'BootError';
    this.step = step;
    this.hint = hint;
  }
}
