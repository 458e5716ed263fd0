import { inSentence, topicOf } from './text.ts';

/**
 * JSON the demo returns for `response_format` and tool arguments: valid against the JSON Schema it
 * was given (required, enum/const, string and array bounds, number ranges, nested objects and arrays,
 * additionalProperties: false) and filled with text derived from the prompt, not placeholders. With
 * `json_object` and no schema, the keys the prompt names ('Return an object with: "research" (…),
 * "risks" (a list …)') become the object's keys.
 */

type Schema = Record<string, unknown> & {
  type?: string | string[];
  properties?: Record<string, Schema>;
  required?: string[];
  items?: Schema | Schema[];
  enum?: unknown[];
  const?: unknown;
  anyOf?: Schema[];
  oneOf?: Schema[];
  allOf?: Schema[];
  description?: string;
  minLength?: number;
  maxLength?: number;
  minItems?: number;
  maxItems?: number;
  minimum?: number;
  maximum?: number;
  exclusiveMinimum?: number;
  exclusiveMaximum?: number;
  format?: string;
};

export interface SampleContext {
  /** What the answer is about (from the prompt). */
  topic: string;
  /** Hints the prompt gives per key: `"risks" (a list of the main risks)` → risks: "a list of the main risks". */
  hints: Record<string, string>;
}

/** `topicFrom`: the text the answer is about (the user's message); `prompt`: everything that may name keys. */
export function sampleContext(prompt: string, topicFrom = prompt): SampleContext {
  return {
    topic: inSentence(topicOf(topicFrom)),
    hints: Object.fromEntries(namedKeys(prompt).map((k) => [k.name, k.hint])),
  };
}

const MAX_DEPTH = 8;

/** A value valid against `schema`. */
export function sampleFor(schema: unknown, context: SampleContext, key = 'value', depth = 0): unknown {
  const s = (schema && typeof schema === 'object' ? schema : {}) as Schema;
  if ('const' in s) return s.const;
  if (s.enum?.length) return s.enum[0];
  const alternative = s.anyOf?.[0] ?? s.oneOf?.[0];
  if (alternative) return sampleFor(alternative, context, key, depth + 1);
  if (s.allOf?.length) return sampleFor(Object.assign({}, ...s.allOf), context, key, depth + 1);
  const types = Array.isArray(s.type) ? s.type : s.type ? [s.type] : [];
  const type =
    types.find((t) => t !== 'null') ?? types[0] ?? (s.properties ? 'object' : s.items ? 'array' : 'string');
  switch (type) {
    case 'string':
      return stringFor(s, key, context);
    case 'number':
    case 'integer':
      return numberFor(s, type === 'integer');
    case 'boolean':
      return true;
    case 'null':
      return null;
    case 'array': {
      if (depth >= MAX_DEPTH) return [];
      const min = s.minItems ?? 1;
      const count = Math.max(min, Math.min(s.maxItems ?? 3, 3));
      const tuple = Array.isArray(s.items) ? s.items : undefined;
      const item = singular(key);
      return Array.from({ length: count }, (_, i) =>
        itemFor(tuple ? tuple[i] : s.items, context, `${item} ${i + 1}`, key, depth + 1),
      );
    }
    default: {
      const out: Record<string, unknown> = {};
      if (depth >= MAX_DEPTH) return out;
      for (const [k, v] of Object.entries(s.properties ?? {})) out[k] = sampleFor(v, context, k, depth + 1);
      return out;
    }
  }
}

function itemFor(schema: unknown, context: SampleContext, label: string, parent: string, depth: number) {
  const s = (schema ?? {}) as Schema;
  const isString = s.type === 'string' || (!s.type && !s.properties && !s.items && !s.enum);
  if (!isString || s.enum || 'const' in s) return sampleFor(schema, context, singular(parent), depth);
  return fitLength(s, `${capitalise(label)}: ${itemText(parent, label, context)}`);
}

function itemText(parent: string, label: string, context: SampleContext): string {
  const n = Number(/(\d+)$/.exec(label)?.[1] ?? 1);
  const topic = context.topic;
  const pick = (list: ((t: string) => string)[]) => list[(n - 1) % list.length]!(topic);
  if (/risk/i.test(parent)) return pick(RISKS);
  if (/issue|problem|fix|concern/i.test(parent)) return pick(ISSUES);
  if (/step|task|action/i.test(parent)) return `${ORDINALS[(n - 1) % ORDINALS.length]}, ${pick(STEPS)}`;
  const hint = context.hints[parent];
  return hint ? `${hint} (${topic})` : topic;
}

const ORDINALS = ['First', 'Then', 'Finally'];
const STEPS = [
  (t: string) => `find out what matters most for ${t}`,
  (t: string) => `draft the smallest version of ${t} that works`,
  () => 'review it with someone it is for and adjust',
];
const RISKS = [
  () => 'too little time set aside for the work',
  () => 'the people it is for are not reached',
  () => 'costs run over the plan',
];
const ISSUES = [
  () => 'the opening does not state the main point in one sentence',
  () => 'there is no concrete example of the main point',
  () => 'the ending has no clear next step',
];

function stringFor(s: Schema, key: string, context: SampleContext): string {
  switch (s.format) {
    case 'date':
      return '2025-01-15';
    case 'date-time':
      return '2025-01-15T09:30:00Z';
    case 'time':
      return '09:30:00';
    case 'email':
      return 'demo@example.com';
    case 'uri':
    case 'url':
      return 'https://example.com/demo';
    case 'uuid':
      return '123e4567-e89b-42d3-a456-426614174000';
  }
  const hint = context.hints[key] ?? s.description;
  const name = humanise(key);
  const text = hint
    ? `${capitalise(name)} for ${context.topic}: ${hint}.`
    : `${capitalise(name)} for ${context.topic}.`;
  return fitLength(s, text);
}

/** Cut or pad a string into [minLength, maxLength]. */
function fitLength(s: Schema, text: string): string {
  let out = text;
  if (s.maxLength !== undefined && out.length > s.maxLength) out = out.slice(0, Math.max(0, s.maxLength));
  const min = s.minLength ?? 0;
  while (out.length < min) out += out.length ? ' …' : 'demo';
  return s.maxLength !== undefined ? out.slice(0, Math.max(s.maxLength, min)) : out;
}

function numberFor(s: Schema, integer: boolean): number {
  let low =
    s.minimum ?? (s.exclusiveMinimum !== undefined ? s.exclusiveMinimum + (integer ? 1 : 0.5) : undefined);
  let high =
    s.maximum ?? (s.exclusiveMaximum !== undefined ? s.exclusiveMaximum - (integer ? 1 : 0.5) : undefined);
  if (low === undefined && high === undefined) return 42;
  low ??= Math.min(0, high!);
  high ??= low + 84;
  let n = low + (high - low) / 2;
  if (integer)
    n =
      Math.ceil(low) <= Math.floor(high)
        ? Math.max(Math.ceil(low), Math.min(Math.floor(high), Math.round(n)))
        : Math.round(n);
  return Math.round(n * 100) / 100;
}

export interface NamedKey {
  name: string;
  hint: string;
  list: boolean;
  /** The values a hint like `("minor" or "major")` allows. */
  options?: string[];
}

const ALTERNATIVES = /^\s*["“'][^"”']+["”']\s*(?:(?:or|\||,|\/)\s*["“'][^"”']+["”']\s*)+$/;

/**
 * The keys a prompt names for its JSON answer: `"research" (what to find out)`, `"risks" (a list …)`.
 * Only quoted identifiers count; a hint in parentheses right after one says what it holds.
 */
export function namedKeys(prompt: string): NamedKey[] {
  const out = new Map<string, NamedKey>();
  for (const m of prompt.matchAll(/["“']([A-Za-z_][A-Za-z0-9_]{0,40})["”']\s*(?:\(([^()\n]{1,200})\))?/g)) {
    const name = m[1]!;
    if (out.has(name) || out.size >= 12) continue;
    const hint = (m[2] ?? '').trim();
    const options = ALTERNATIVES.test(hint)
      ? [...hint.matchAll(/["“']([^"”']+)["”']/g)].map((o) => o[1]!)
      : undefined;
    out.set(name, {
      name,
      hint,
      list: /\b(?:list|array|items)\b/i.test(hint),
      ...(options && { options }),
    });
  }
  return [...out.values()];
}

/** A `json_object` answer: the keys the prompt names, or `{"answer": text}` when it names none. */
export function jsonObjectFor(prompt: string, answer: string, topicFrom = prompt): Record<string, unknown> {
  const keys = namedKeys(prompt);
  if (!keys.length) return { answer };
  const context = sampleContext(prompt, topicFrom);
  const schema: Schema = {
    type: 'object',
    properties: Object.fromEntries(
      keys.map((k) => [
        k.name,
        k.options
          ? { enum: k.options }
          : k.list
            ? { type: 'array', items: { type: 'string' }, minItems: 3 }
            : { type: 'string' },
      ]),
    ),
  };
  return sampleFor(schema, context) as Record<string, unknown>;
}

function humanise(key: string): string {
  return (
    key
      .replace(/([a-z])([A-Z])/g, '$1 $2')
      .replace(/[_-]+/g, ' ')
      .trim()
      .toLowerCase() || 'value'
  );
}

function singular(key: string): string {
  const h = humanise(key);
  return h.endsWith('ies') ? `${h.slice(0, -3)}y` : h.endsWith('s') && !h.endsWith('ss') ? h.slice(0, -1) : h;
}

function capitalise(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
