/**
 * Input tokens of an embeddings request without a tokenizer: token-id arrays count exactly; texts use the
 * same estimates as chat prompts — `likely` where a provider reports no count, `most` for the budget
 * hold and tpm limits, which no text may out-bill.
 */
import { type TokenRange, textTokenRange } from '../../routing/text-tokens.ts';
import type { EmbedInputs } from './types.ts';

/** Both estimates for each input, in input order (a text is at least one token). */
export function inputTokenRanges(inputs: EmbedInputs): TokenRange[] {
  return inputs.map((input) => {
    if (typeof input !== 'string') return { likely: input.length, most: input.length };
    const range = textTokenRange(input);
    return { likely: Math.max(1, range.likely), most: Math.max(1, range.most, range.likely) };
  });
}

/** The typical count of all inputs: what a call is charged when its provider reports no usage. */
export function likelyInputTokens(inputs: EmbedInputs): number {
  return inputTokenRanges(inputs).reduce((n, r) => n + r.likely, 0);
}
