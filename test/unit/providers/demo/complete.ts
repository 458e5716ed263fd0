import type { Complete, CompletionRequest } from '../../../../consensus/index.ts';
import type { ChatRequest } from '../../../../src/chat/index.ts';
import { demoAnswer } from '../../../../src/providers/demo/answer.ts';

/** The demo provider as a consensus `Complete`: the strategies' real prompts, answered by the demo. */
export const demoComplete: Complete = async (model, request) => {
  const result = demoAnswer(model, { model, ...request } as ChatRequest);
  return { model, content: result.content ?? '', usage: result.usage, cost_usd: 0.001, latency_ms: 1 };
};

/** One demo answer's text. */
export function ask(model: string, request: CompletionRequest): string {
  return demoAnswer(model, { model, ...request } as ChatRequest).content ?? '';
}

export const signal = new AbortController().signal;
export const user = (content: string): CompletionRequest => ({ messages: [{ role: 'user', content }] });
