import { StrategyFailure } from '../../../consensus/index.ts';
import { GatewayError, strategyError, toGatewayError } from '../../errors/index.ts';

/**
 * A failed fan-out (or review) in the client's terms. The models' failure (a StrategyFailure: no
 * candidate answered, the quorum out of reach, no readable review, the draft failed) is a 502 listing
 * every attempt, or a 504 when the deadline passed — never a 500. When no candidate answered and some
 * refused the request as invalid for their model, the request is at fault: the first refusal (a 400)
 * says why.
 */
export function fanOutFailure(
  err: unknown,
  scope: { readonly timedOut: boolean },
  refusals: GatewayError[] = [],
  what = 'The fan-out',
): GatewayError {
  if (err instanceof StrategyFailure) {
    if (refusals[0] && err.answered === 0) return refusals[0];
    return strategyError(err, { timedOut: scope.timedOut, what });
  }
  if (err instanceof GatewayError) return err;
  if (scope.timedOut) return new GatewayError('upstream_timeout', `${what} ran out of time.`);
  return toGatewayError(err);
}
