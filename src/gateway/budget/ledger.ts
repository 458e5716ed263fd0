/** Where each upstream call is recorded: metrics, and one ledger row per call tagged with its request. */

import { amountNanos } from '../../limits/nanos.ts';
import type { LedgerEntry } from '../../store/index.ts';
import { metrics } from '../../telemetry/index.ts';
import { type Caller, ledgerKeyOf } from '../access/index.ts';
import type { CallRecord } from './account.ts';

/**
 * What a request's calls are attributed to besides its caller (team and key) and tags: written on each
 * of its ledger rows, so spend can be grouped and filtered by each.
 */
export interface Attribution {
  /** The endpoint (`chat.completions`, `consensus`, `messages`, …), or `workflow` for a step's calls. */
  surface?: string;
  /** The end user the client named (see endUserOf). */
  endUser?: string | null;
  /** A workflow step's calls: the run's id and the step's name. */
  workflowRun?: string;
  workflowStep?: string;
}

/** Where each upstream call is recorded (the store's ledger writer); appends must not block. */
export interface LedgerSink {
  append(row: LedgerEntry): void;
}

/** Counts one upstream call in the metrics and appends its ledger row. */
export function recordCall(
  ledger: LedgerSink | undefined,
  requestId: string,
  caller: Caller,
  tags: Record<string, string> | null,
  call: CallRecord,
  attribution?: Attribution,
): void {
  const team = caller.team;
  metrics.upstreamCalls.inc([call.model, call.provider, String(call.status)]);
  if (call.costUsd > 0) metrics.costUsd.inc([team, call.model], call.costUsd);
  if (call.usage.prompt_tokens) metrics.tokens.inc([team, call.model, 'input'], call.usage.prompt_tokens);
  if (call.usage.completion_tokens) {
    metrics.tokens.inc([team, call.model, 'output'], call.usage.completion_tokens);
  }
  if (!ledger) return;
  const keyId = ledgerKeyOf(caller);
  ledger.append({
    request_id: requestId,
    team_id: team,
    key_id: keyId,
    key_name: keyId === null ? null : caller.keyName,
    end_user: attribution?.endUser ?? null,
    surface: attribution?.surface ?? null,
    workflow_run: attribution?.workflowRun ?? null,
    workflow_step: attribution?.workflowStep ?? null,
    model: call.model,
    provider: call.provider,
    input_tokens: call.usage.prompt_tokens,
    cached_tokens: call.usage.cached_tokens ?? 0,
    output_tokens: call.usage.completion_tokens,
    cost_nanos: amountNanos(call.costUsd),
    latency_ms: call.latencyMs,
    status: call.status,
    tags,
    created_at: Date.now(),
  });
}
