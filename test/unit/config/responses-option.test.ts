/** The `responses` provider option: which providers' models POST /v1/responses passes through raw. */
import { afterAll, describe, expect, it } from 'vitest';
import type { ProviderConfig } from '../../../src/config/index.ts';
import { servesResponses } from '../../../src/providers/openai/responses.ts';
import { at, load, problemsOf, scratchDir } from './helpers.ts';

const scratch = scratchDir();
afterAll(() => scratch.cleanup());

const provider = (fields: Partial<ProviderConfig>): ProviderConfig =>
  ({ id: 'p', type: 'openai', timeout_ms: 60_000, max_retries: 1, ...fields }) as ProviderConfig;

describe('servesResponses', () => {
  it('defaults to true for OpenAI’s own API and false for any other OpenAI-compatible server', () => {
    expect(servesResponses(provider({}))).toBe(true);
    expect(servesResponses(provider({ base_url: 'https://api.openai.com/v1' }))).toBe(true);
    expect(servesResponses(provider({ base_url: 'http://127.0.0.1:11434/v1' }))).toBe(false);
    expect(
      servesResponses(provider({ base_url: 'https://my.openai.azure.com/openai/v1?api-version=x' })),
    ).toBe(false);
  });

  it('takes the provider’s own setting either way, and is false for every other type', () => {
    expect(servesResponses(provider({ responses: false }))).toBe(false);
    expect(servesResponses(provider({ base_url: 'http://127.0.0.1:8000/v1', responses: true }))).toBe(true);
    expect(servesResponses(provider({ type: 'anthropic', responses: true }))).toBe(false);
  });
});

describe('the responses option in a configuration file', () => {
  it('is accepted on an openai provider and refused, by path, on any other', () => {
    const ok = scratch.write(
      [
        'providers:',
        '  - { id: local, type: openai, base_url: "http://127.0.0.1:8000/v1", responses: true }',
      ].join('\n'),
    );
    expect(load(ok).providers[0]).toMatchObject({ id: 'local', responses: true });
    const notBoolean = scratch.write(
      ['providers:', '  - { id: oa, type: openai, api_key: sk-test, responses: "yes please" }'].join('\n'),
    );
    expect(
      at(
        problemsOf(() => load(notBoolean)),
        'providers[0].responses',
      )[0],
    ).toMatch(/boolean/);
    const anthropic = scratch.write(
      ['providers:', '  - { id: an, type: anthropic, api_key: sk-ant, responses: true }'].join('\n'),
    );
    expect(
      at(
        problemsOf(() => load(anthropic)),
        'providers[0].responses',
      )[0],
    ).toMatch(/only an openai provider serves the Responses API/);
  });
});
