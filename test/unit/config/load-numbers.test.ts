import { afterAll, describe, expect, it } from 'vitest';
import { load, scratchDir } from './helpers.ts';

const scratch = scratchDir();
afterAll(() => scratch.cleanup());

describe('loadConfig: interpolated numbers and secrets', () => {
  it('turns an interpolated number into a number where the schema wants one', () => {
    const path = scratch.write(
      [
        'server: { max_body_bytes: "${MAX_BODY:-2048}", request_timeout_ms: "${TIMEOUT}" }',
        'providers:',
        '  - { id: p, type: openai, api_key: x, max_retries: "${RETRIES:-0}" }',
        'models:',
        '  - { id: m, provider: p, context_window: 1000, max_output_tokens: 100, price: { input: "${PRICE_IN:-0.25}", output: 1 } }',
      ].join('\n'),
    );
    const config = load(path, { TIMEOUT: '5000' });
    expect(config.server).toMatchObject({ max_body_bytes: 2048, request_timeout_ms: 5000 });
    expect(config.providers[0]!.max_retries).toBe(0);
    expect(config.models[0]!.price.input).toBe(0.25);
  });

  it('keeps an all-digit key a string, exactly as written', () => {
    const path = scratch.write(
      ['teams: [{ id: t }]', 'keys:', '  - { key: "${TEAM_KEY}", team: t }'].join('\n'),
    );
    expect(load(path, { TEAM_KEY: '000123456789' }).keys[0]!.key).toBe('000123456789');
  });

  it('still rejects text where a number belongs, naming the path', () => {
    const path = scratch.write('server: { max_body_bytes: "${MAX_BODY:-lots}" }');
    expect(() => load(path)).toThrow(/server\.max_body_bytes: /);
  });
});
