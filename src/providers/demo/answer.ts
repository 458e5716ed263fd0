import { requestedOutputTokens } from '../../../routing/request.ts';
import { estimatePromptTokens, estimateTextTokens } from '../../../routing/tokens.ts';
import type { ChatRequest, ChatResult, FinishReason, ToolCall } from '../../chat/index.ts';

/**
 * The demo provider's deterministic answers: the same request always gets the same reply, so the
 * gateway (and later ensembles and workflows) can be tried and tested without any provider key.
 */
function textOf(content: unknown): string {
  if (typeof content === 'string') return content;
  if (!Array.isArray(content)) return '';
  return content
    .map((p: { type?: string; text?: string }) => (p.type === 'text' ? (p.text ?? '') : ''))
    .join(' ');
}

const CANDIDATE = /[-(\d][\d\s+\-*/().]*[\d)]/g;
const DATE = /^\d{4}-\d{2}-\d{2}$/;

/**
 * Evaluates the first plain arithmetic expression in a text, such as `(1 + 2) * (3 + 4)`; null when
 * there is none. A full recursive-descent parse, so anything it does not understand yields null.
 */
export function arithmetic(text: string): number | null {
  for (const match of text.matchAll(CANDIDATE)) {
    const candidate = match[0].trim();
    if (DATE.test(candidate) || !/\d\s*[-+*/]\s*[-(\d]/.test(candidate)) continue;
    const value = evaluate(candidate);
    if (value !== null) return value;
  }
  return null;
}

function evaluate(expression: string): number | null {
  const tokens = expression.match(/\d+(?:\.\d+)?|[-+*/()]/g) ?? [];
  let pos = 0;
  const fail = () => {
    throw new SyntaxError('not arithmetic');
  };
  const factor = (): number => {
    const t = tokens[pos++];
    if (t === '(') {
      const v = expr();
      if (tokens[pos++] !== ')') fail();
      return v;
    }
    if (t === '-') return -factor();
    if (t === undefined || !/^\d/.test(t)) fail();
    return Number(t);
  };
  const term = (): number => {
    let v = factor();
    while (tokens[pos] === '*' || tokens[pos] === '/')
      v = tokens[pos++] === '*' ? v * factor() : v / factor();
    return v;
  };
  const expr = (): number => {
    let v = term();
    while (tokens[pos] === '+' || tokens[pos] === '-') v = tokens[pos++] === '+' ? v + term() : v - term();
    return v;
  };
  try {
    const value = expr();
    if (pos !== tokens.length || !Number.isFinite(value)) return null;
    return Math.round(value * 1e9) / 1e9;
  } catch {
    return null;
  }
}

function sampleFor(schema: unknown): unknown {
  const s = (schema ?? {}) as {
    type?: string | string[];
    properties?: Record<string, unknown>;
    enum?: unknown[];
    items?: unknown;
  };
  if (s.enum?.length) return s.enum[0];
  const type = Array.isArray(s.type) ? s.type[0] : s.type;
  switch (type) {
    case 'string':
      return 'demo';
    case 'number':
    case 'integer':
      return 42;
    case 'boolean':
      return true;
    case 'array':
      return [sampleFor(s.items)];
    case 'null':
      return null;
    default: {
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(s.properties ?? {})) out[k] = sampleFor(v);
      return out;
    }
  }
}

function replyText(model: string, request: ChatRequest): string {
  const messages = request.messages;
  const last = messages[messages.length - 1];
  if (last?.role === 'tool') return `The tool returned: ${textOf(last.content).slice(0, 200)}`;
  const user = [...messages].reverse().find((m) => m.role === 'user');
  const said = textOf(user?.content).trim();
  const value = arithmetic(said);
  if (value !== null) return `The answer is ${value}.`;
  return `This is ${model}, Quorum's built-in demo model. You said: "${said.slice(0, 120)}". Configure a provider key to get real answers.`;
}

function toolCallFor(request: ChatRequest): ToolCall | null {
  const tools = request.tools ?? [];
  const choice = request.tool_choice;
  const last = request.messages[request.messages.length - 1];
  if (!tools.length || choice === 'none' || last?.role === 'tool') return null;
  const named = typeof choice === 'object' ? choice.function.name : undefined;
  const tool = named ? tools.find((t) => t.function.name === named) : tools[0];
  if (!tool) return null;
  return {
    id: `call_demo_${tool.function.name}`,
    type: 'function',
    function: { name: tool.function.name, arguments: JSON.stringify(sampleFor(tool.function.parameters)) },
  };
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
  let text = replyText(model, request);
  const format = request.response_format;
  if (format?.type === 'json_object') text = JSON.stringify({ answer: text });
  else if (format?.type === 'json_schema') text = JSON.stringify(sampleFor(format.json_schema.schema));

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
