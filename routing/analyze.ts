import { categorize, taskCues } from './categorize.ts';
import { difficulty } from './difficulty.ts';
import { type RouteRequest, requestedOutputTokens } from './request.ts';
import type { CostBounds, TaskProfile } from './route-types.ts';
import { taskText } from './task-text.ts';
import { estimatePromptRange } from './tokens.ts';
import type { Capability, Category } from './types.ts';

/**
 * What a request needs, from its body alone. Deterministic heuristics (see docs/routing.md): category
 * weights from cue counts, difficulty from length, constraints, turns, category and hardness cues.
 */
export function analyzeTask(request: RouteRequest): TaskProfile {
  const text = taskText(request.messages);
  const cues = taskCues(text);
  const categories = categorize(text, cues);
  const prompt = estimatePromptRange(request.messages, request);
  return {
    categories,
    difficulty: difficulty(text, categories, cues),
    required: requiredCapabilities(request, text.hasImage, text.hasToolTraffic),
    promptTokens: prompt.likely,
    promptTokensMax: prompt.most,
    maxOutputTokens: requestedOutputTokens(request),
  };
}

/**
 * Capabilities in CAPABILITIES order. `tools` also when the history already holds tool calls or
 * results: providers reject those on a model without tool support, even with tool_choice "none".
 */
export function requiredCapabilities(
  request: RouteRequest,
  hasImage: boolean,
  hasToolTraffic: boolean,
): Capability[] {
  const out: Capability[] = [];
  const offersTools = (request.tools?.length ?? 0) > 0 && request.tool_choice !== 'none';
  if (offersTools || hasToolTraffic) out.push('tools');
  if (hasImage) out.push('vision');
  const format = request.response_format?.type;
  if (format === 'json_object' || format === 'json_schema') out.push('json');
  if (request.stream === true) out.push('streaming');
  return out;
}

/**
 * Only analyzeTask's category weights: what learning files an answer under, without the difficulty,
 * capabilities and token estimates a routing decision also needs.
 */
export function taskCategories(request: Pick<RouteRequest, 'messages'>): Record<Category, number> {
  const text = taskText(request.messages);
  return categorize(text, taskCues(text));
}

/**
 * The part of analyzeTask a price needs: the prompt's token range and the output limit, without
 * categorising the text. A named model's budget hold and tpm estimate use it; routing needs the rest.
 */
export function costBounds(request: RouteRequest): CostBounds {
  const prompt = estimatePromptRange(request.messages, request);
  return {
    promptTokens: prompt.likely,
    promptTokensMax: prompt.most,
    maxOutputTokens: requestedOutputTokens(request),
  };
}
