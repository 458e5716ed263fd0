/**
 * The one map from domain failures to the error table: whatever route meets a StoreError or an
 * EngineError, the client gets the same status, type and param for it.
 */
import { describe, expect, it } from 'vitest';
import { GatewayError } from '../../../src/errors/index.ts';
import { domainError } from '../../../src/server/errors.ts';
import { StoreError } from '../../../src/store/errors.ts';
import { EngineError } from '../../../src/workflows/engine/errors.ts';

describe('domainError', () => {
  it('maps the store codes: invalid → 400 with its param, not_found → 404, conflict → 409', () => {
    expect(domainError(new StoreError('invalid', 'bad limit', 'budget.limit_usd'))?.toBody()).toEqual({
      error: {
        message: 'bad limit',
        type: 'invalid_request_error',
        param: 'budget.limit_usd',
        code: 'invalid_body',
      },
    });
    expect(domainError(new StoreError('not_found', 'no team'))?.status).toBe(404);
    const conflict = domainError(new StoreError('conflict', 'team exists'));
    expect([conflict?.status, conflict?.code]).toEqual([409, 'conflict']);
  });

  it('maps the engine codes, an invalid run naming its first problem as param and listing every one', () => {
    const err = domainError(
      new EngineError('invalid', 'The inputs are invalid.', [
        { path: 'inputs.topic', message: 'required' },
        { path: 'inputs.n', message: 'expected a number' },
      ]),
    );
    expect(err?.status).toBe(400);
    expect(err?.param).toBe('inputs.topic');
    expect(err?.message).toBe('The inputs are invalid.\ninputs.topic: required\ninputs.n: expected a number');
    expect(domainError(new EngineError('conflict', 'step is not waiting'))?.status).toBe(409);
    expect(domainError(new EngineError('not_found', 'no run'))?.status).toBe(404);
  });

  it('leaves everything else alone: bugs stay bugs, gateway errors stay as they are', () => {
    expect(domainError(new TypeError('x is undefined'))).toBeNull();
    expect(domainError(new GatewayError('conflict', 'already'))).toBeNull();
    expect(domainError('a string')).toBeNull();
  });
});
