/**
 * Responses input items: checked one by one, normalised to the shape `GET …/input_items` lists (each
 * with an id and a status, a message's content always a list of parts), and turned into chat
 * messages. Quorum takes the items chat can carry — messages (text, images, files), `function_call`
 * and `function_call_output` — and refuses any other kind by name.
 */
import { z } from 'zod';
import type { ChatMessage, ToolCall, UserContentPart } from '../chat/index.ts';
import { invalid, parseAt, typeOf } from './check.ts';
import { itemId } from './ids.ts';

export type ItemStatus = 'in_progress' | 'completed' | 'incomplete';

export type ContentPart =
  | { type: 'input_text'; text: string }
  | { type: 'input_image'; image_url: string; detail: 'auto' | 'low' | 'high' | 'original' }
  | { type: 'input_file'; file_data: string; filename?: string }
  | { type: 'output_text'; text: string; annotations: unknown[]; logprobs?: unknown[] }
  | { type: 'refusal'; refusal: string };

export interface MessageItem {
  id: string;
  type: 'message';
  role: 'user' | 'system' | 'developer' | 'assistant';
  content: ContentPart[];
  status: ItemStatus;
  phase?: 'commentary' | 'final_answer';
}

export interface FunctionCallItem {
  id: string;
  type: 'function_call';
  call_id: string;
  name: string;
  arguments: string;
  status: ItemStatus;
}

export interface FunctionCallOutputItem {
  id: string;
  type: 'function_call_output';
  call_id: string;
  output: string | ContentPart[];
  status: ItemStatus;
}

/** An item as stored and listed; earlier responses' output items are items of the same kinds. */
export type Item = MessageItem | FunctionCallItem | FunctionCallOutputItem;

const ITEM_TYPES = ['message', 'function_call', 'function_call_output'] as const;
const Status = z.enum(['in_progress', 'completed', 'incomplete']).nullish();
const Id = z.string().min(1).nullish();

const Parts = {
  input_text: z.object({ type: z.literal('input_text'), text: z.string() }),
  input_image: z.object({
    type: z.literal('input_image'),
    image_url: z.string().min(1).nullish(),
    file_id: z.string().nullish(),
    detail: z.enum(['auto', 'low', 'high', 'original']).nullish(),
  }),
  input_file: z.object({
    type: z.literal('input_file'),
    file_data: z.string().min(1).optional(),
    file_id: z.string().nullish(),
    file_url: z.string().optional(),
    filename: z.string().optional(),
  }),
  output_text: z.object({
    type: z.literal('output_text'),
    text: z.string(),
    annotations: z.array(z.unknown()).optional(),
    logprobs: z.array(z.unknown()).optional(),
  }),
  refusal: z.object({ type: z.literal('refusal'), refusal: z.string() }),
} as const;
type PartType = keyof typeof Parts;

/** Which parts each role's message may hold. */
const PARTS_OF: Record<MessageItem['role'], readonly PartType[]> = {
  user: ['input_text', 'input_image', 'input_file'],
  system: ['input_text'],
  developer: ['input_text'],
  assistant: ['output_text', 'input_text', 'refusal'],
};

const Message = z.object({
  type: z.literal('message').optional(),
  id: Id,
  role: z.enum(['user', 'system', 'developer', 'assistant']),
  content: z.union([z.string(), z.array(z.unknown())]),
  status: Status,
  phase: z.enum(['commentary', 'final_answer']).nullish(),
});

const FunctionCall = z.object({
  type: z.literal('function_call'),
  id: Id,
  call_id: z.string().min(1),
  name: z.string().min(1),
  arguments: z.string(),
  status: Status,
});

const FunctionCallOutput = z.object({
  type: z.literal('function_call_output'),
  id: Id,
  call_id: z.string().min(1, 'call_id names the function_call this output answers'),
  output: z.union([z.string(), z.array(z.unknown())]),
  status: Status,
});

function part(value: unknown, path: string, allowed: readonly PartType[], what: string): ContentPart {
  const type = typeOf(value, path, allowed, what) as PartType;
  const p = parseAt(Parts[type], value, path);
  switch (p.type) {
    case 'input_image':
      if (!p.image_url) {
        throw invalid(
          `${path}.image_url`,
          p.file_id
            ? 'file ids name files uploaded to OpenAI, which Quorum cannot read; send the image as image_url (a URL or a data: URL)'
            : 'expected an image URL or a data: URL',
        );
      }
      return { type: 'input_image', image_url: p.image_url, detail: p.detail ?? 'auto' };
    case 'input_file':
      if (!p.file_data) {
        throw invalid(
          `${path}.file_data`,
          'Quorum takes files inline as file_data (base64); file ids and file URLs name files it cannot read',
        );
      }
      return {
        type: 'input_file',
        file_data: p.file_data,
        ...(p.filename !== undefined ? { filename: p.filename } : {}),
      };
    case 'output_text':
      return { type: 'output_text', text: p.text, annotations: p.annotations ?? [] };
    default:
      return p;
  }
}

function message(value: unknown, path: string): MessageItem {
  const m = parseAt(Message, value, path);
  const allowed = PARTS_OF[m.role];
  const content: ContentPart[] =
    typeof m.content === 'string'
      ? [
          m.role === 'assistant'
            ? { type: 'output_text', text: m.content, annotations: [] }
            : { type: 'input_text', text: m.content },
        ]
      : m.content.map((p, i) =>
          part(p, `${path}.content[${i}]`, allowed, `A ${m.role} message's content part`),
        );
  return {
    id: m.id ?? itemId('msg'),
    type: 'message',
    role: m.role,
    content,
    status: m.status ?? 'completed',
    ...(m.phase ? { phase: m.phase } : {}),
  };
}

/** One input item, checked and normalised; `path` is where it sits in the request (`input[2]`). */
export function inputItem(value: unknown, path: string): Item {
  // An item without `type` is a message (the SDK's EasyInputMessage), as OpenAI reads it.
  const type = typeOf(value, path, ITEM_TYPES, 'An input item', 'message');
  if (type === 'message') return message(value, path);
  if (type === 'function_call') {
    const f = parseAt(FunctionCall, value, path);
    return {
      id: f.id ?? itemId('fc'),
      type: 'function_call',
      call_id: f.call_id,
      name: f.name,
      arguments: f.arguments,
      status: f.status ?? 'completed',
    };
  }
  const o = parseAt(FunctionCallOutput, value, path);
  return {
    id: o.id ?? itemId('fco'),
    type: 'function_call_output',
    call_id: o.call_id,
    output:
      typeof o.output === 'string'
        ? o.output
        : o.output.map((p, i) => part(p, `${path}.output[${i}]`, ['input_text'], 'A function output part')),
    status: o.status ?? 'completed',
  };
}

/** The request's `input`: a string is one user message. */
export function inputItems(input: string | readonly unknown[] | undefined): Item[] {
  if (input === undefined) return [];
  if (typeof input === 'string') {
    return [
      {
        id: itemId('msg'),
        type: 'message',
        role: 'user',
        content: [{ type: 'input_text', text: input }],
        status: 'completed',
      },
    ];
  }
  return input.map((item, i) => inputItem(item, `input[${i}]`));
}

const textOf = (parts: readonly ContentPart[]): string =>
  parts.map((p) => ('text' in p ? p.text : '')).join('');

function userPart(p: ContentPart): UserContentPart {
  switch (p.type) {
    case 'input_image':
      // Chat's detail levels are auto, low and high: `original` is the highest there is.
      return {
        type: 'image_url',
        image_url: { url: p.image_url, detail: p.detail === 'original' ? 'high' : p.detail },
      };
    case 'input_file':
      return {
        type: 'file',
        file: { file_data: p.file_data, ...(p.filename ? { filename: p.filename } : {}) },
      };
    default:
      return { type: 'text', text: 'text' in p ? p.text : '' };
  }
}

/**
 * Items, oldest first, as chat messages: an assistant's text and the function calls after it are one
 * assistant message (providers that pair tool calls with their results, as Anthropic does, need them
 * together); each function output is a tool message.
 */
export function itemsToMessages(items: readonly Item[]): ChatMessage[] {
  const messages: ChatMessage[] = [];
  /** The assistant message function calls join, while nothing else came after it. */
  let open: Extract<ChatMessage, { role: 'assistant' }> | null = null;
  for (const item of items) {
    if (item.type === 'function_call') {
      const call: ToolCall = {
        id: item.call_id,
        type: 'function',
        function: { name: item.name, arguments: item.arguments },
      };
      if (open) {
        open.tool_calls ??= [];
        open.tool_calls.push(call);
      } else {
        open = { role: 'assistant', content: null, tool_calls: [call] };
        messages.push(open);
      }
      continue;
    }
    open = null;
    if (item.type === 'function_call_output') {
      const content = typeof item.output === 'string' ? item.output : textOf(item.output);
      messages.push({ role: 'tool', tool_call_id: item.call_id, content });
      continue;
    }
    switch (item.role) {
      case 'assistant': {
        const refusal = item.content.flatMap((p) => (p.type === 'refusal' ? [p.refusal] : [])).join('');
        open = { role: 'assistant', content: textOf(item.content), ...(refusal ? { refusal } : {}) };
        messages.push(open);
        break;
      }
      case 'user': {
        const onlyText = item.content.every((p) => p.type === 'input_text');
        messages.push({
          role: 'user',
          content: onlyText ? textOf(item.content) : item.content.map(userPart),
        });
        break;
      }
      default:
        messages.push({ role: item.role, content: textOf(item.content) });
    }
  }
  return messages;
}
