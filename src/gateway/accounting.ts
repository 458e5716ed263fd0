import { estimatePromptTokens } from '../../routing/tokens.ts';
import type { ChatRequest, Usage } from '../chat/index.ts';
import { costOf } from './cost.ts';
import type { Deployment } from './deployment.ts';

/** One upstream call's outcome, as the ledger records it. */
export interface CallRecord {
  model: string;
  provider: string;
  usage: Usage;
  costUsd: number;
  latencyMs: number;
  /** 200 = answered; the failure's status otherwise. */
  status: number;
  /** True when usage was estimated (a stream cut off before the provider reported it). */
  estimated: boolean;
}

export type Account = (record: CallRecord) => void;

/**
 * The usage to charge for a stream that ended without the provider's usage (the client left, or the
 * connection dropped): the prompt estimate and the text generated so far. A client that disconnects is
 * charged for what was generated.
 */
export function estimatedUsage(request: ChatRequest, generatedChars: number): Usage {
  return {
    prompt_tokens: estimatePromptTokens(request.messages, request.tools),
    completion_tokens: Math.ceil(generatedChars / 4),
  };
}

export function recordOf(
  dep: Deployment,
  usage: Usage,
  latencyMs: number,
  status: number,
  estimated = false,
): CallRecord {
  return {
    model: dep.spec.id,
    provider: dep.provider.id,
    usage,
    costUsd: costOf(usage, dep.spec.price),
    latencyMs: Math.round(latencyMs),
    status,
    estimated,
  };
}

/** Sums what one request spent across all its upstream calls, and passes each call on (to the ledger). */
export class RequestAccount {
  totalUsd = 0;
  readonly records: CallRecord[] = [];
  private readonly onRecord: Account | undefined;

  constructor(onRecord?: Account) {
    this.onRecord = onRecord;
  }

  readonly add: Account = (record) => {
    this.totalUsd += record.costUsd;
    this.records.push(record);
    this.onRecord?.(record);
  };
}
