/** The request the main bench (bench/run.ts) and the limits bench (bench/limits.ts) send. */

/** The named model both configure on the fake upstream (price 0.15 / 0.6 USD per million tokens). */
export const MODEL = 'bench-model';

/** A typical small chat request; the fake answers with a short text (6 stream chunks + [DONE]). */
export const CHAT = {
  model: MODEL,
  messages: [
    { role: 'system', content: 'You are a concise assistant.' },
    { role: 'user', content: 'Summarise the benefits of connection pooling in one sentence.' },
  ],
  temperature: 0.2,
  max_tokens: 64,
};

/** A request with this `user` is streamed by bench/fake-upstream.ts a chunk every 2 ms. */
export const PACED_USER = 'bench-paced';

/**
 * The lines of a gateway config with one openai-type provider at a fake upstream and MODEL on it, then
 * `extra` (more models' entries, other top-level keys) as given; ends with a newline.
 */
export function fakeConfigYaml(
  upstreamUrl: string,
  extra: { models?: string[]; lines?: string[] } = {},
): string {
  return [
    'providers:',
    `  - { id: fake, type: openai, base_url: ${upstreamUrl}/v1, api_key: test-key, max_retries: 0 }`,
    'models:',
    `  - { id: ${MODEL}, provider: fake, context_window: 128000, max_output_tokens: 4096, price: { input: 0.15, output: 0.6 }, capabilities: [tools, json, streaming] }`,
    ...(extra.models ?? []).map((m) => `  - ${m}`),
    ...(extra.lines ?? []),
    '',
  ].join('\n');
}
