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
