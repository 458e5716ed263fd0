import { describe, expect, it } from 'vitest';
import { ERROR_TABLE, type ErrorKind, GatewayError, toGatewayError } from '../../../src/errors/index.ts';

/** "Errors", transcribed by hand: status, type, and code (= the kind). */
const CONTRACT: [kind: ErrorKind, status: number, type: string][] = [
  ['invalid_body', 400, 'invalid_request_error'],
  ['invalid_workflow', 400, 'invalid_request_error'],
  ['invalid_api_key', 401, 'authentication_error'],
  ['model_not_allowed', 403, 'permission_error'],
  ['admin_only', 403, 'permission_error'],
  ['model_not_found', 404, 'invalid_request_error'],
  ['conflict', 409, 'invalid_request_error'],
  ['body_too_large', 413, 'invalid_request_error'],
  ['unsupported_media_type', 415, 'invalid_request_error'],
  ['budget_exceeded', 429, 'insufficient_quota'],
  ['rate_limit_exceeded', 429, 'rate_limit_error'],
  ['upstream_failed', 502, 'upstream_error'],
  ['store_unavailable', 503, 'service_unavailable'],
  ['limits_unavailable', 503, 'service_unavailable'],
  ['upstream_timeout', 504, 'upstream_error'],
];

describe('ERROR_TABLE', () => {
  it.each(CONTRACT)('%s → %i %s, as the contract says', (kind, status, type) => {
    expect(ERROR_TABLE[kind]).toEqual({ status, type });
    const err = new GatewayError(kind, 'message');
    expect(err.status).toBe(status);
    expect(err.type).toBe(type);
    expect(err.code).toBe(kind);
  });

  it('every kind the gateway can raise has an error status (4xx/5xx) and a type', () => {
    for (const [kind, { status, type }] of Object.entries(ERROR_TABLE)) {
      expect(status, kind).toBeGreaterThanOrEqual(400);
      expect(status, kind).toBeLessThan(600);
      expect(type, kind).toMatch(/^[a-z_]+$/);
    }
  });

  it('only internal_error is a 500, and bad-input kinds are all 4xx', () => {
    // "Bad input is never a 500": a 500 may only come from our own failures.
    const fiveHundreds = Object.entries(ERROR_TABLE)
      .filter(([, v]) => v.status === 500)
      .map(([k]) => k);
    expect(fiveHundreds).toEqual(['internal_error']);
    for (const [kind, { status }] of Object.entries(ERROR_TABLE)) {
      if (kind.startsWith('invalid') || kind.endsWith('not_found')) expect(status, kind).toBeLessThan(500);
    }
  });
});

describe('GatewayError', () => {
  it('renders the OpenAI error body with message, type, param and code', () => {
    const err = new GatewayError('invalid_body', 'messages[0].role: invalid value', {
      param: 'messages[0].role',
    });
    expect(err.toBody()).toEqual({
      error: {
        message: 'messages[0].role: invalid value',
        type: 'invalid_request_error',
        param: 'messages[0].role',
        code: 'invalid_body',
      },
    });
  });

  it('has a null param unless one is given (e.g. malformed JSON)', () => {
    expect(new GatewayError('invalid_body', 'malformed JSON').toBody().error.param).toBeNull();
  });

  it('lets a provider code override the code but keeps the status and type of its kind', () => {
    const err = new GatewayError('upstream_invalid_request', 'too long', { code: 'context_length_exceeded' });
    expect(err.toBody().error).toMatchObject({
      type: 'invalid_request_error',
      code: 'context_length_exceeded',
    });
    expect(err.status).toBe(400);
  });

  it('carries the headers a client needs (retry-after, x-should-retry)', () => {
    const err = new GatewayError('rate_limit_exceeded', 'slow down', { headers: { 'retry-after': '3' } });
    expect(err.headers).toEqual({ 'retry-after': '3' });
    expect(new GatewayError('invalid_body', 'x').headers).toBeUndefined();
  });

  it('is an Error with its message and cause', () => {
    const cause = new Error('root');
    const err = new GatewayError('upstream_failed', 'every candidate failed', { cause });
    expect(err).toBeInstanceOf(Error);
    expect(err.name).toBe('GatewayError');
    expect(err.message).toBe('every candidate failed');
    expect(err.cause).toBe(cause);
  });

  it('the body never includes a stack trace or the cause', () => {
    const err = new GatewayError('upstream_failed', 'failed', { cause: new Error('secret sk-live-123') });
    const text = JSON.stringify(err.toBody());
    expect(text).not.toContain('secret');
    expect(text).not.toMatch(/\bat .*:\d+:\d+/);
    expect(Object.keys(err.toBody().error).sort()).toEqual(['code', 'message', 'param', 'type']);
  });
});

describe('toGatewayError', () => {
  it('returns a GatewayError unchanged', () => {
    const err = new GatewayError('model_not_found', 'no such model: x');
    expect(toGatewayError(err)).toBe(err);
  });

  it.each([
    [
      'an Error',
      new TypeError("Cannot read properties of undefined (reading 'apiKey') at /srv/quorum/src/x.ts:10:5"),
    ],
    ['a string', 'postgres://admin:hunter2@db/quorum connection refused'],
    ['an object', { password: 'hunter2', stack: 'at secret.ts:1:1' }],
    ['undefined', undefined],
  ])('turns %s into a 500 internal_error that reveals nothing internal', (_label, thrown) => {
    const err = toGatewayError(thrown);
    expect(err).toBeInstanceOf(GatewayError);
    expect(err.status).toBe(500);
    expect(err.kind).toBe('internal_error');
    const body = err.toBody();
    expect(body.error.type).toBe('server_error');
    expect(body.error.code).toBe('internal_error');
    expect(body.error.param).toBeNull();
    const text = JSON.stringify(body);
    for (const secret of ['apiKey', 'hunter2', '/srv/quorum', 'secret.ts', 'TypeError', 'postgres']) {
      expect(text).not.toContain(secret);
    }
    // The original stays available for logging.
    expect(err.cause).toBe(thrown);
  });
});
