/** Fan-outs run through the gateway: candidates, the strategy's judge/aggregator/reviewers, and failures. */
export { candidateRequest, completer } from './completer.ts';
export { fanOutFailure } from './failure.ts';
export { FanOutRun } from './run.ts';
