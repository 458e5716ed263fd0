/**
 * Responses tools (the flat `{type: "function", name, parameters}` shape) and `tool_choice`, as chat
 * tools. Only function tools translate: a built-in tool (web search, file search, code interpreter,
 * MCP, computer use, …) runs on OpenAI's side, so a request naming one is refused, naming it.
 */
import { z } from 'zod';
import type { ChatRequest, ChatTool } from '../chat/index.ts';
import { invalid, parseAt } from './check.ts';

const FunctionTool = z.object({
  type: z.literal('function'),
  name: z.string().regex(/^[a-zA-Z0-9_-]{1,64}$/, 'tool names are 1-64 letters, digits, _ or -'),
  description: z.string().nullish(),
  parameters: z.record(z.string(), z.unknown()).nullish(),
  strict: z.boolean().nullish(),
  defer_loading: z.boolean().optional(),
});

/** A function tool as the Response object echoes it. */
export interface ResponseFunctionTool {
  type: 'function';
  name: string;
  description: string | null;
  parameters: Record<string, unknown> | null;
  strict: boolean | null;
}

export type ResponseToolChoice =
  | 'none'
  | 'auto'
  | 'required'
  | { type: 'function'; name: string }
  | { type: 'allowed_tools'; mode: 'auto' | 'required'; tools: { type: 'function'; name: string }[] };

function tool(value: unknown, path: string): ResponseFunctionTool {
  const type = (value as { type?: unknown } | null)?.type;
  if (type !== 'function') {
    throw invalid(
      `${path}.type`,
      typeof type === 'string'
        ? `\`${type}\` is a tool OpenAI runs on its own servers, which Quorum cannot offer a model; it takes function tools (type \`function\`)`
        : 'expected `function`',
    );
  }
  const t = parseAt(FunctionTool, value, path);
  if (t.defer_loading) {
    throw invalid(
      `${path}.defer_loading`,
      'deferred tools need OpenAI’s tool search, which Quorum cannot run',
    );
  }
  return {
    type: 'function',
    name: t.name,
    description: t.description ?? null,
    parameters: t.parameters ?? null,
    strict: t.strict ?? null,
  };
}

export function responseTools(tools: readonly unknown[] | undefined): ResponseFunctionTool[] {
  const out = (tools ?? []).map((t, i) => tool(t, `tools[${i}]`));
  const seen = new Set<string>();
  for (const [i, t] of out.entries()) {
    if (seen.has(t.name)) throw invalid(`tools[${i}].name`, `a second tool is named \`${t.name}\``);
    seen.add(t.name);
  }
  return out;
}

const NamedFunction = z.object({ type: z.literal('function'), name: z.string().min(1) });
const AllowedTools = z.object({
  type: z.literal('allowed_tools'),
  mode: z.enum(['auto', 'required']),
  tools: z.array(NamedFunction).min(1),
});

export function responseToolChoice(
  choice: string | Record<string, unknown> | null | undefined,
  tools: readonly ResponseFunctionTool[],
): ResponseToolChoice | undefined {
  if (choice == null) return undefined;
  if (typeof choice === 'string') {
    if (choice === 'required' && tools.length === 0) {
      throw invalid('tool_choice', '`required` needs at least one function tool in `tools`');
    }
    if (choice === 'none' || choice === 'auto' || choice === 'required') return choice;
    throw invalid('tool_choice', 'expected `none`, `auto`, `required` or an object naming a function');
  }
  const known = (name: string, path: string) => {
    if (!tools.some((t) => t.name === name)) throw invalid(path, `no function tool is named \`${name}\``);
  };
  if (choice.type === 'function') {
    const named = parseAt(NamedFunction, choice, 'tool_choice');
    known(named.name, 'tool_choice.name');
    return named;
  }
  if (choice.type === 'allowed_tools') {
    const allowed = parseAt(AllowedTools, choice, 'tool_choice');
    for (const [i, t] of allowed.tools.entries()) known(t.name, `tool_choice.tools[${i}].name`);
    return allowed;
  }
  throw invalid(
    'tool_choice.type',
    typeof choice.type === 'string'
      ? `a choice of \`${choice.type}\` names a tool Quorum cannot offer; it takes \`function\` and \`allowed_tools\``
      : 'expected `function` or `allowed_tools`',
  );
}

/** The chat request's `tools` and `tool_choice`; `allowed_tools` narrows the tools the model sees. */
export function chatTools(
  tools: readonly ResponseFunctionTool[],
  choice: ResponseToolChoice | undefined,
): Pick<ChatRequest, 'tools' | 'tool_choice'> {
  let offered = tools;
  let chatChoice: ChatRequest['tool_choice'];
  if (typeof choice === 'string') chatChoice = choice;
  else if (choice?.type === 'function') chatChoice = { type: 'function', function: { name: choice.name } };
  else if (choice?.type === 'allowed_tools') {
    const names = new Set(choice.tools.map((t) => t.name));
    offered = tools.filter((t) => names.has(t.name));
    chatChoice = choice.mode;
  }
  // Without tools, `auto` and `none` mean the same: no tool call (`required` was refused earlier).
  if (offered.length === 0) return {};
  const chat: ChatTool[] = offered.map((t) => ({
    type: 'function',
    function: {
      name: t.name,
      ...(t.description !== null ? { description: t.description } : {}),
      ...(t.parameters !== null ? { parameters: t.parameters } : {}),
      ...(t.strict !== null ? { strict: t.strict } : {}),
    },
  }));
  return { tools: chat, ...(chatChoice !== undefined ? { tool_choice: chatChoice } : {}) };
}
