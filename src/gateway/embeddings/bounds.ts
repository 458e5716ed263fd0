/**
 * What admission prices an embeddings request on: every input's upper-bound token count (each capped
 * at the model's input limit, which no provider bills past) at the input price of the dearest
 * deployment it can fall back to. Embeddings write no tokens, so that is the whole worst case.
 */
import type { TokenRange } from '../../../routing/tokens.ts';
import { type EmbedInputs, inputTokenRanges } from '../../embeddings/index.ts';
import { amountNanos, usdOfNanos } from '../../limits/nanos.ts';
import type { Deployment } from '../deployments/index.ts';
import type { RequestBounds } from '../request/index.ts';

export class EmbeddingBounds implements RequestBounds {
  private readonly chain: readonly Deployment[];
  private readonly inputs: EmbedInputs;
  private ranges: TokenRange[] | undefined;

  constructor(chain: readonly Deployment[], inputs: EmbedInputs) {
    this.chain = chain;
    this.inputs = inputs;
  }

  private tokenRanges(): TokenRange[] {
    this.ranges ??= inputTokenRanges(this.inputs);
    return this.ranges;
  }

  /** Input tokens billed at most on one deployment: each input capped at its context window. */
  private billable(dep: Deployment): number {
    let n = 0;
    for (const r of this.tokenRanges()) n += Math.min(r.most, dep.spec.context_window);
    return n;
  }

  reserveUsd(): number {
    let most = 0;
    for (const dep of this.chain) most = Math.max(most, (this.billable(dep) * dep.spec.price.input) / 1e6);
    // Rounded up to the nano-dollar, as the hold itself is.
    return usdOfNanos(amountNanos(most));
  }

  estimateTokens(): number {
    return this.tokenRanges().reduce((n, r) => n + r.most, 0);
  }

  fitHint(remainingUsd: number): string {
    const price = Math.max(...this.chain.map((d) => d.spec.price.input));
    const fits = price > 0 ? Math.floor((remainingUsd * 1e6) / price) : Number.POSITIVE_INFINITY;
    return `Send fewer or shorter inputs: the remaining budget covers about ${fits} input tokens, and these inputs may count up to ${this.estimateTokens()}.`;
  }
}
