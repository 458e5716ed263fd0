import { requestedOutputTokens } from '../../../routing/request.ts';
import { estimatePromptTokens, estimateTextTokens } from '../../../routing/tokens.ts';
import type { ChatRequest, ChatResult, FinishReason, ToolCall } from '../../chat/index.ts';
import { answerFor, findExpression } from './arithmetic.ts';
import { jsonObjectFor, sampleContext, sampleFor } from './json-sample.ts';
import { subjectOf } from './review.ts';
import { requestedLevel, revisionLines, withoutCritiques } from './revisions.ts';
import { roleReply } from './roles.ts';
import { excerpt, lastUserText, systemText, textOf } from './text.ts';

export { arithmetic } from './arithmetic.ts';

/**
 * The demo provider's deterministic answers: the same request to the same model always gets the same
 * reply, so every endpoint, strategy and workflow can be tried and tested without any provider key.
 * Quorum's own judge, reviewer, author and aggregator prompts get answers their parsers read
 * (roles.ts); everything else gets a plain answer — arithmetic computed (demo-mini slips on some, and
 * every model above temperature 1), other text echoed — reshaped for `response_format`.
 */

/** The plain answer of each demo model: demo-smart says a little more, demo-mini a little less. */
function plainText(model: string, said: string): string {
  const intro = `This is ${model}, Quorum's built-in demo model.`;
  const close = 'Configure a provider key to get real answers.';
  if (model === 'demo-mini') return `${intro} You said: "${excerpt(said, 60)}". ${close}`;
  if (model === 'demo-smart') {
    return `${intro} You said: "${excerpt(said, 120)}". A real model would answer that in full here; this one shows how Quorum routes, votes, judges and reviews. ${close}`;
  }
  return `${intro} You said: "${excerpt(said, 120)}". ${close}`;
}

function replyText(model: string, request: ChatRequest): string {
  const messages = request.messages;
  const last = messages[messages.length - 1];
  if (last?.role === 'tool') return `The tool returned: ${textOf(last.content).slice(0, 200)}`;
  const said = lastUserText(messages).trim();
  const expression = findExpression(withoutCritiques(said));
  const hot = request.temperature != null && request.temperature > 0 ? request.temperature : undefined;
  // A sample at a temperature says so, and above 1 it slips on arithmetic, so a self-ensemble's samples
  // differ the way a real model's do.
  const text = expression
    ? `The answer is ${answerFor(model, expression) + (hot !== undefined && hot > 1 ? 1 : 0)}.`
    : `${plainText(model, said)}${hot !== undefined ? ` Sampled at temperature ${hot}.` : ''}`;
  // Feedback from a demo judge or reviewer (a workflow's {{ feedback }}, say): write the revision it asks for.
  const asked = requestedLevel(messages.map((m) => textOf(m.content)).join('\n'));
  if (!asked) return text;
  return `${text}\n\n${revisionLines(0, asked, subjectOf(withoutCritiques(said))).join('\n')}`;
}

function toolCallFor(request: ChatRequest): ToolCall | null {
  const tools = request.tools ?? [];
  const choice = request.tool_choice;
  const last = request.messages[request.messages.length - 1];
  if (!tools.length || choice === 'none' || last?.role === 'tool') return null;
  const named = typeof choice === 'object' ? choice.function.name : undefined;
  const tool = named ? tools.find((t) => t.function.name === named) : tools[0];
  if (!tool) return null;
  const context = sampleContext(lastUserText(request.messages));
  return {
    id: `call_demo_${tool.function.name}`,
    type: 'function',
    function: {
      name: tool.function.name,
      arguments: JSON.stringify(sampleFor(tool.function.parameters, context)),
    },
  };
}

/** The prompt text a JSON answer is derived from: system and user messages, not earlier replies. */
function promptText(request: ChatRequest): string {
  const users = request.messages.filter((m) => m.role === 'user').map((m) => textOf(m.content));
  return [systemText(request.messages), ...users].filter(Boolean).join('\n\n');
}

export function demoAnswer(model: string, request: ChatRequest): ChatResult {
  const promptTokens = estimatePromptTokens(request.messages, request.tools);
  const call = toolCallFor(request);
  if (call) {
    return {
      content: null,
      tool_calls: [call],
      finish_reason: 'tool_calls',
      usage: {
        prompt_tokens: promptTokens,
        completion_tokens: estimateTextTokens(call.function.arguments) + 5,
      },
      upstream_model: model,
    };
  }
  const role = roleReply(model, request);
  let text = role?.text ?? replyText(model, request);
  const format = request.response_format;
  if (!role?.json && format?.type === 'json_object') {
    text = JSON.stringify(jsonObjectFor(promptText(request), text, lastUserText(request.messages)));
  } else if (!role?.json && format?.type === 'json_schema') {
    // The topic comes from what the user asked; key hints from the whole prompt.
    const context = sampleContext(promptText(request), lastUserText(request.messages));
    text = JSON.stringify(sampleFor(format.json_schema.schema, context));
  }

  let finish: FinishReason = 'stop';
  const stops = typeof request.stop === 'string' ? [request.stop] : (request.stop ?? []);
  for (const stop of stops) {
    const at = stop ? text.indexOf(stop) : -1;
    if (at >= 0) text = text.slice(0, at);
  }
  const limit = requestedOutputTokens(request);
  if (limit && estimateTextTokens(text) > limit) {
    text = text.slice(0, limit * 4);
    finish = 'length';
  }
  return {
    content: text,
    finish_reason: finish,
    usage: { prompt_tokens: promptTokens, completion_tokens: estimateTextTokens(text) },
    upstream_model: model,
  };
}
