/**
 * OpenAI chat request → Gemini `generateContent` contents + config. Requests Gemini is known to reject
 * (an empty text part, nothing to send at all) are refused here, before any call, naming the field.
 */
import type {
  Content,
  FunctionCallingConfigMode,
  FunctionDeclaration,
  GenerateContentConfig,
  Part,
} from '@google/genai';
import { requestedOutputTokens } from '../../../routing/request.ts';
import type { ChatMessage, ChatRequest, UserContentPart } from '../../chat/index.ts';
import { RefusedRequestError } from '../upstream-error.ts';
import { cleanSchema } from './schema-clean.ts';

export interface GeminiRequest {
  contents: Content[];
  config: GenerateContentConfig;
}

/**
 * Gemini 3 rejects a replayed functionCall part without the thought signature it was issued with.
 * The OpenAI shape has nowhere to keep it, so replayed calls carry the value Google documents for
 * history the client did not get from Gemini ("skip_thought_signature_validator").
 */
const REPLAY_SIGNATURE = 'skip_thought_signature_validator';

const MIME_BY_EXTENSION: Record<string, string> = {
  png: 'image/png',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  gif: 'image/gif',
  webp: 'image/webp',
  heic: 'image/heic',
  heif: 'image/heif',
  pdf: 'application/pdf',
};

function textOf(
  content: string | Array<{ type: string; text?: string; refusal?: string }> | null | undefined,
) {
  if (content == null) return '';
  if (typeof content === 'string') return content;
  return content.map((p) => p.text ?? p.refusal ?? '').join('');
}

/** `data:<mime>;base64,<data>` → inlineData; anything else → null. */
function parseDataUrl(url: string): Part | null {
  const match = /^data:([^;,]+)?(?:;[^,]*)?;base64,(.*)$/s.exec(url);
  if (!match) return null;
  return { inlineData: { mimeType: match[1] ?? 'application/octet-stream', data: match[2] ?? '' } };
}

function guessMime(url: string): string {
  const ext = /\.([a-z0-9]+)(?:$|[?#])/i.exec(url)?.[1]?.toLowerCase();
  return (ext && MIME_BY_EXTENSION[ext]) || 'image/jpeg';
}

function userPart(part: UserContentPart): Part {
  switch (part.type) {
    case 'text':
      return { text: part.text };
    case 'image_url':
      return (
        parseDataUrl(part.image_url.url) ?? {
          fileData: { fileUri: part.image_url.url, mimeType: guessMime(part.image_url.url) },
        }
      );
    case 'input_audio':
      return { inlineData: { mimeType: `audio/${part.input_audio.format}`, data: part.input_audio.data } };
    case 'file': {
      const data = part.file.file_data;
      const inline = data ? parseDataUrl(data) : null;
      if (inline) return inline;
      if (data) return { inlineData: { mimeType: 'application/pdf', data } };
      return {
        fileData: { fileUri: part.file.file_id ?? '', mimeType: guessMime(part.file.filename ?? '') },
      };
    }
  }
}

/** Tool results are strings in OpenAI; Gemini wants an object: JSON objects as they are, else `{content}`. */
function functionResponseBody(text: string): Record<string, unknown> {
  try {
    const parsed: unknown = JSON.parse(text);
    if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) {
      return parsed as Record<string, unknown>;
    }
  } catch {
    // not JSON: wrapped below
  }
  return { content: text };
}

function parseArgs(args: string): Record<string, unknown> {
  try {
    const parsed: unknown = JSON.parse(args || '{}');
    return typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)
      ? (parsed as Record<string, unknown>)
      : { value: parsed };
  } catch {
    // Models occasionally emit broken JSON; keep it visible rather than failing the replay.
    return { arguments: args };
  }
}

const EMPTY_TEXT = 'Gemini does not accept an empty text part; send some text or leave the message out';

/** Gemini answers 400 INVALID_ARGUMENT to an empty text part in a user turn: refuse it here instead. */
function checkUserText(message: Extract<ChatMessage, { role: 'user' }>, index: number, provider: string) {
  if (typeof message.content === 'string') {
    if (message.content === '')
      throw new RefusedRequestError(provider, `messages[${index}].content`, EMPTY_TEXT);
    return;
  }
  message.content.forEach((part, j) => {
    if (part.type === 'text' && part.text === '')
      throw new RefusedRequestError(provider, `messages[${index}].content[${j}].text`, EMPTY_TEXT);
  });
}

export function toContents(
  messages: ChatMessage[],
  provider = 'gemini',
): { contents: Content[]; system: Part[] } {
  const contents: Content[] = [];
  const system: Part[] = [];
  /** tool_call id → function name, so tool results can name their function as Gemini requires. */
  const callNames = new Map<string, string>();

  const push = (role: 'user' | 'model', parts: Part[]) => {
    if (!parts.length) return;
    const last = contents.at(-1);
    // Gemini wants alternating turns; consecutive same-role messages (and parallel tool results) merge.
    if (last?.role === role) last.parts = [...(last.parts ?? []), ...parts];
    else contents.push({ role, parts });
  };

  for (const [index, message] of messages.entries()) {
    switch (message.role) {
      case 'system':
      case 'developer': {
        const text = textOf(message.content);
        if (text) system.push({ text });
        break;
      }
      case 'user':
        checkUserText(message, index, provider);
        push(
          'user',
          typeof message.content === 'string' ? [{ text: message.content }] : message.content.map(userPart),
        );
        break;
      case 'assistant': {
        const parts: Part[] = [];
        const text = textOf(message.content) || message.refusal || '';
        if (text) parts.push({ text });
        message.tool_calls?.forEach((call, i) => {
          callNames.set(call.id, call.function.name);
          parts.push({
            functionCall: { name: call.function.name, args: parseArgs(call.function.arguments) },
            ...(i === 0 ? { thoughtSignature: REPLAY_SIGNATURE } : {}),
          });
        });
        push('model', parts);
        break;
      }
      case 'tool':
        push('user', [
          {
            functionResponse: {
              name: callNames.get(message.tool_call_id) ?? message.tool_call_id,
              response: functionResponseBody(textOf(message.content)),
            },
          },
        ]);
        break;
    }
  }
  // Gemini refuses an empty `contents`: a system-only request is sent as the user's turn.
  if (!contents.length && system.length) return { contents: [{ role: 'user', parts: system }], system: [] };
  if (!contents.length) {
    throw new RefusedRequestError(provider, 'messages', 'no message has any content for Gemini to answer');
  }
  return { contents, system };
}

const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);

export function toGeminiRequest(
  request: ChatRequest,
  signal?: AbortSignal,
  provider = 'gemini',
): GeminiRequest {
  const { contents, system } = toContents(request.messages, provider);
  const config: GenerateContentConfig = {
    abortSignal: signal,
    // The gateway owns retries, and tools are never executed here.
    automaticContinuation: false,
    automaticFunctionCalling: { disable: true },
  };
  if (system.length) config.systemInstruction = { parts: system };

  if (request.temperature != null) config.temperature = request.temperature;
  if (request.top_p != null) config.topP = request.top_p;
  const maxTokens = requestedOutputTokens(request);
  if (maxTokens != null) config.maxOutputTokens = maxTokens;
  if (request.stop != null)
    config.stopSequences = typeof request.stop === 'string' ? [request.stop] : request.stop;
  // Pass-through OpenAI fields that Gemini also has (kept on the loose request object).
  const seed = num(request['seed']);
  if (seed !== undefined) config.seed = seed;
  const presence = num(request['presence_penalty']);
  if (presence !== undefined) config.presencePenalty = presence;
  const frequency = num(request['frequency_penalty']);
  if (frequency !== undefined) config.frequencyPenalty = frequency;

  if (request.tools?.length) {
    config.tools = [
      {
        functionDeclarations: request.tools.map((tool) => {
          const declaration: FunctionDeclaration = { name: tool.function.name };
          if (tool.function.description) declaration.description = tool.function.description;
          const parameters = tool.function.parameters ? cleanSchema(tool.function.parameters) : undefined;
          // A no-argument tool is declared without parameters: Gemini rejects an object with no properties.
          if (parameters && Object.keys((parameters.properties as object | undefined) ?? {}).length) {
            declaration.parameters = parameters;
          }
          return declaration;
        }),
      },
    ];
  }
  const choice = request.tool_choice;
  if (choice !== undefined) {
    const mode = (m: 'NONE' | 'AUTO' | 'ANY') => m as FunctionCallingConfigMode;
    config.toolConfig = {
      functionCallingConfig:
        typeof choice === 'string'
          ? { mode: mode(choice === 'none' ? 'NONE' : choice === 'required' ? 'ANY' : 'AUTO') }
          : { mode: mode('ANY'), allowedFunctionNames: [choice.function.name] },
    };
  }

  const format = request.response_format;
  if (format?.type === 'json_object') config.responseMimeType = 'application/json';
  if (format?.type === 'json_schema') {
    config.responseMimeType = 'application/json';
    // The OpenAPI-subset `responseSchema` works on every Gemini model (responseJsonSchema needs 2.5+).
    if (format.json_schema.schema) {
      config.responseSchema = cleanSchema(format.json_schema.schema, { propertyOrdering: true });
    }
  }
  return { contents, config };
}
