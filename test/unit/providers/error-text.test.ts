/**
 * Upstream error text reaching a client: provider messages pass with their meaning intact, minus any
 * credential; internal failures are described, not quoted.
 */
import { describe, expect, it } from 'vitest';
import { redactSecrets, safeProviderMessage } from '../../../src/providers/error-text.ts';
import {
  InternalUpstreamError,
  networkFailureCode,
  UpstreamError,
} from '../../../src/providers/upstream-error.ts';

describe('redactSecrets', () => {
  it.each([
    [
      'Incorrect API key provided: sk-abc***xyz. You can find your API key at https://platform.openai.com/account/api-keys.',
      'Incorrect API key provided: [redacted]. You can find your API key at https://platform.openai.com/account/api-keys.',
    ],
    ['Incorrect API key provided: sk-proj-AbCdEf0123456789.', 'Incorrect API key provided: [redacted].'],
    ['invalid x-api-key sk-ant-api03-abcdefghij', 'invalid x-api-key [redacted]'],
    ['key AIzaSyA1234567890abcdefghijk is invalid', 'key [redacted] is invalid'],
    [
      'POST https://g.example/v1beta/models/x?key=AIzaSy123&alt=sse',
      'POST https://g.example/v1beta/models/x?key=[redacted]&alt=sse',
    ],
    ['header was Authorization: Bearer abc.def-123', 'header was Authorization: Bearer [redacted]'],
    ['the key 1234****5678 was revoked', 'the key [redacted] was revoked'],
    ['api_key: "s3cr3tvalue"', 'api_key: [redacted]'],
  ])('%s', (input, output) => {
    expect(redactSecrets(input)).toBe(output);
  });

  it.each([
    "Invalid value for 'logit_bias'.",
    'API key not valid. Please pass a valid API key.',
    'prompt is too long: 201000 tokens > 200000 maximum',
    'max_tokens: 100000 > 8192, which is the maximum allowed number of output tokens for claude-up',
    '* GenerateContentRequest.contents[0].parts[0].data: required oneof field must have one initialized field',
    'Rate limit reached for gpt-4o in organization org-abc on tokens per min (TPM): Limit 30000, Used 29000.',
  ])('keeps a message without credentials as it is: %s', (message) => {
    expect(redactSecrets(message)).toBe(message);
  });
});

describe('safeProviderMessage', () => {
  it('caps the length and folds whitespace', () => {
    const out = safeProviderMessage(`a\n\n  b ${'x '.repeat(2000)}`);
    expect(out.startsWith('a b x x')).toBe(true);
    expect(out.length).toBeLessThanOrEqual(1001);
  });
});

describe('UpstreamError messages', () => {
  it('never carry a credential, whoever built them', () => {
    const err = new UpstreamError('oa', 401, 'Incorrect API key provided: sk-upstr*********cret.');
    expect(err.message).toBe('Incorrect API key provided: [redacted].');
  });

  it('describe an internal failure without quoting it, and keep the (redacted) text for the log', () => {
    const cause = new TypeError(
      "Cannot read properties of undefined (reading 'choices') near sk-live-abcdef123",
    );
    const err = new InternalUpstreamError('oa', cause);
    expect(err.message).not.toMatch(/Cannot read|choices|sk-live/);
    expect(err.failure).toBe('internal');
    expect(err.countsAgainstHealth).toBe(false);
    expect(err.detail).toContain('Cannot read properties of undefined');
    expect(err.detail).not.toContain('sk-live');
  });
});

describe('which failures count against a deployment', () => {
  it.each([
    [500, true],
    [503, true],
    [429, true],
    [408, true],
    [400, false],
    [401, false],
    [403, false],
    [404, false],
    [422, false],
  ])('HTTP %i → %s', (status, counts) => {
    expect(new UpstreamError('p', status, 'x').countsAgainstHealth).toBe(counts);
  });

  it('timeouts, dropped connections and unreadable answers count; aborts do not', () => {
    const of = (failure: 'timeout' | 'connection' | 'bad_response' | 'aborted') =>
      new UpstreamError('p', 0, 'x', { failure }).countsAgainstHealth;
    expect([of('timeout'), of('connection'), of('bad_response'), of('aborted')]).toEqual([
      true,
      true,
      true,
      false,
    ]);
  });
});

describe('networkFailureCode', () => {
  it('finds a socket error code in the cause chain, and tells other errors apart', () => {
    const reset = Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET' });
    expect(networkFailureCode(new TypeError('fetch failed', { cause: reset }))).toBe('ECONNRESET');
    expect(networkFailureCode(new TypeError('terminated'))).toBe('');
    expect(networkFailureCode(new RangeError('Maximum call stack size exceeded'))).toBeUndefined();
    expect(networkFailureCode(new Error('contents are required'))).toBeUndefined();
  });
});
