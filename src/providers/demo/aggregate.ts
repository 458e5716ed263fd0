import { findExpression } from './arithmetic.ts';
import { excerpt, fencedBlocks, inSentence, topicOf } from './text.ts';

/**
 * The demo as the mixture-of-agents aggregator (consensus/ensemble.ts): it reads the numbered
 * responses and writes one answer of its own. A calculation is decided on the merits — the right
 * result, whatever the vote; free text keeps what most responses say and adds what only one says.
 */
export function synthesis(model: string, system: string, question: string): string {
  const responses = fencedBlocks(system)
    .filter((b) => /^\d+$/.test(b.label))
    .map((b) => b.text);
  const expression = findExpression(question);
  if (expression) return `The answer is ${expression.value}.`;
  const topic = inSentence(topicOf(question));
  const counts = new Map<string, { text: string; in: number }>();
  responses.forEach((r) => {
    for (const sentence of new Set(sentences(r))) {
      const key = sentence.replace(/\bdemo-\w+/g, 'demo').toLowerCase();
      const seen = counts.get(key) ?? { text: sentence, in: 0 };
      seen.in++;
      counts.set(key, seen);
    }
  });
  const all = [...counts.values()];
  const shared = all.filter((s) => s.in * 2 >= responses.length).map((s) => excerpt(s.text, 120));
  const extra = all.filter((s) => s.in === 1 && responses.length > 1).map((s) => excerpt(s.text, 120));
  return [
    `This is ${model}, Quorum's built-in demo model, bringing ${responses.length} answers on ${topic} together.`,
    ...(shared.length ? [`Most of them say: ${shared.slice(0, 2).join(' ')}`] : []),
    ...(extra.length ? [`One adds: ${extra[0]}`] : []),
    'With a provider key configured, each proposer answers for real and this synthesis keeps what is correct in each.',
  ].join(' ');
}

const BOILERPLATE =
  /^(?:This is demo-\w+, Quorum's built-in demo model\.|Configure a provider key to get real answers\.)$/;

export function sentences(text: string): string[] {
  return text
    .replace(/\s+/g, ' ')
    .trim()
    .split(/(?<=[.!?]["”]?)\s+(?=[A-Z])/)
    .map((s) => s.trim())
    .filter((s) => s && !BOILERPLATE.test(s));
}
