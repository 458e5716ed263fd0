/**
 * Templates: a small, safe substitution. `{{ inputs.x }}`, `{{ steps.s.output }}`,
 * `{{ steps.s.output.field.sub }}` (into JSON outputs; array items by index, `items.0`) and
 * `{{ feedback }}`. Whitespace inside the braces is ignored. There is no code, no filters, no helpers;
 * only own properties of plain objects and arrays are read, and `__proto__`, `constructor` and
 * `prototype` are refused. `\{{` writes a literal `{{`.
 */

import { RESERVED_NAMES } from './names.ts';

export type Reference =
  | { kind: 'input'; name: string; path: string[]; raw: string }
  | { kind: 'step'; step: string; path: string[]; raw: string }
  | { kind: 'feedback'; raw: string };

/** A `{{ … }}` that is not a valid reference (`raw` is the whole `{{ … }}`). */
export interface TemplateSyntaxError {
  raw: string;
  message: string;
}

type Token = { text: string } | { ref: Reference } | { error: TemplateSyntaxError };

const SEGMENT = /^[A-Za-z0-9_-]+$/;
const INDEX = /^(0|[1-9][0-9]*)$/;
const FORMS = 'use inputs.NAME, steps.NAME.output (optionally .field), or feedback';

function parseExpression(raw: string, expr: string): Reference | TemplateSyntaxError {
  if (expr === '') return { raw, message: `empty reference ${raw}: ${FORMS}` };
  const parts = expr.split('.');
  for (const part of parts) {
    if (RESERVED_NAMES.has(part)) return { raw, message: `${raw} reads "${part}", which is refused` };
    if (!SEGMENT.test(part)) {
      return {
        raw,
        message: `${raw} is not a reference (no code, filters or spaces inside a name): ${FORMS}`,
      };
    }
  }
  const [head, name, ...rest] = parts;
  if (head === 'feedback' && parts.length === 1) return { kind: 'feedback', raw };
  if (head === 'inputs' && name !== undefined) return { kind: 'input', name, path: rest, raw };
  if (head === 'steps' && name !== undefined) {
    const [output, ...path] = rest;
    if (output === 'output') return { kind: 'step', step: name, path, raw };
    return { raw, message: `${raw}: a step is read through its output — write {{ steps.${name}.output }}` };
  }
  return { raw, message: `unknown reference ${raw}: ${FORMS}` };
}

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let literal = '';
  let i = 0;
  while (i < text.length) {
    if (text.startsWith('\\{{', i)) {
      literal += '{{';
      i += 3;
      continue;
    }
    if (!text.startsWith('{{', i)) {
      literal += text[i];
      i += 1;
      continue;
    }
    const end = text.indexOf('}}', i + 2);
    if (end < 0) {
      if (literal) tokens.push({ text: literal });
      const raw = text.slice(i, i + 40);
      tokens.push({ error: { raw, message: `unclosed "{{" (write \\{{ for a literal "{{")` } });
      return tokens;
    }
    if (literal) tokens.push({ text: literal });
    literal = '';
    const raw = text.slice(i, end + 2);
    const parsed = parseExpression(raw, text.slice(i + 2, end).trim());
    tokens.push('kind' in parsed ? { ref: parsed } : { error: parsed });
    i = end + 2;
  }
  if (literal) tokens.push({ text: literal });
  return tokens;
}

/** Every reference a template makes, in order, and every `{{ … }}` that is not one. */
export function extractReferences(text: string): { references: Reference[]; errors: TemplateSyntaxError[] } {
  const references: Reference[] = [];
  const errors: TemplateSyntaxError[] = [];
  for (const token of tokenize(text)) {
    if ('ref' in token) references.push(token.ref);
    else if ('error' in token) errors.push(token.error);
  }
  return { references, errors };
}

/** What a template reads: the run's inputs, its steps' outputs (a run's `steps` fits), the feedback. */
export interface TemplateContext {
  inputs?: Record<string, unknown>;
  steps?: Record<string, { output?: unknown } | undefined>;
  /** `{{ feedback }}` renders empty when there is none (a first attempt). */
  feedback?: string | null;
}

/** A template could not be rendered: `reference` is the `{{ … }}` at fault. */
export class TemplateError extends Error {
  readonly reference: string;
  constructor(reference: string, message: string) {
    super(message);
    this.name = 'TemplateError';
    this.reference = reference;
  }
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function describeFields(value: Record<string, unknown>): string {
  const keys = Object.keys(value);
  return keys.length
    ? `fields: ${keys.slice(0, 12).join(', ')}${keys.length > 12 ? ', …' : ''}`
    : 'no fields';
}

/** Follows `path` from `value` through own properties of plain objects and array items. */
function walk(raw: string, base: string, start: unknown, path: readonly string[]): unknown {
  let value = start;
  let where = base;
  for (const segment of path) {
    if (typeof value === 'string') {
      try {
        value = JSON.parse(value);
      } catch {
        throw new TemplateError(raw, `${raw}: ${where} is text, not JSON, so it has no field "${segment}"`);
      }
    }
    if (Array.isArray(value)) {
      if (!INDEX.test(segment)) {
        throw new TemplateError(raw, `${raw}: ${where} is an array; read an item by index (${where}.0)`);
      }
      const index = Number(segment);
      if (index >= value.length) {
        throw new TemplateError(raw, `${raw}: ${where} has ${value.length} item(s), no index ${index}`);
      }
      value = value[index];
    } else if (isPlainObject(value)) {
      if (!Object.hasOwn(value, segment)) {
        throw new TemplateError(raw, `${raw}: ${where} has no field "${segment}" (${describeFields(value)})`);
      }
      value = value[segment];
    } else {
      const kind = value === null ? 'null' : typeof value;
      throw new TemplateError(raw, `${raw}: ${where} is ${kind}, so it has no field "${segment}"`);
    }
    where = `${where}.${segment}`;
    if (value === undefined) throw new TemplateError(raw, `${raw}: ${where} has no value`);
  }
  if (typeof value === 'function' || typeof value === 'symbol' || typeof value === 'bigint') {
    throw new TemplateError(raw, `${raw}: ${where} is not a JSON value`);
  }
  return value;
}

function resolve(ref: Reference, context: TemplateContext): unknown {
  if (ref.kind === 'feedback') return context.feedback ?? '';
  if (ref.kind === 'input') {
    const inputs = context.inputs ?? {};
    if (!Object.hasOwn(inputs, ref.name) || inputs[ref.name] === undefined) {
      throw new TemplateError(ref.raw, `${ref.raw}: input "${ref.name}" has no value`);
    }
    return walk(ref.raw, `inputs.${ref.name}`, inputs[ref.name], ref.path);
  }
  const steps = context.steps ?? {};
  const step = Object.hasOwn(steps, ref.step) ? steps[ref.step] : undefined;
  if (step === undefined || !Object.hasOwn(step, 'output') || step.output === undefined) {
    throw new TemplateError(ref.raw, `${ref.raw}: step "${ref.step}" has no output yet`);
  }
  return walk(ref.raw, `steps.${ref.step}.output`, step.output, ref.path);
}

/** How a value reads inside text: strings as they are, everything else as JSON. */
export function stringify(value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return JSON.stringify(value) ?? '';
}

function tokensOrThrow(text: string): Token[] {
  const tokens = tokenize(text);
  for (const token of tokens) {
    if ('error' in token) throw new TemplateError(token.error.raw, token.error.message);
  }
  return tokens;
}

export interface RenderOptions {
  /**
   * The most UTF-8 bytes the rendered text may have. Rendering stops at the first piece that would pass
   * it, so a template repeating a large value never builds the huge string it describes.
   */
  maxBytes?: number;
}

/** A template whose expansion passes `RenderOptions.maxBytes`. */
export class TemplateTooLargeError extends TemplateError {
  readonly maxBytes: number;
  constructor(reference: string, maxBytes: number) {
    super(
      reference,
      `the text expands to more than ${maxBytes} bytes (the server.max_body_bytes limit) at ${reference}`,
    );
    this.name = 'TemplateTooLargeError';
    this.maxBytes = maxBytes;
  }
}

/**
 * Renders a template to text; objects and arrays are written as JSON. Throws `TemplateError` on a
 * malformed template or a missing value (an input not given, a step without output, a missing field),
 * and `TemplateTooLargeError` when the text would pass `maxBytes`.
 */
export function render(text: string, context: TemplateContext, options: RenderOptions = {}): string {
  const max = options.maxBytes ?? Number.POSITIVE_INFINITY;
  let out = '';
  let bytes = 0;
  for (const token of tokensOrThrow(text)) {
    if ('error' in token) continue;
    const piece = 'text' in token ? token.text : stringify(resolve(token.ref, context));
    bytes += Buffer.byteLength(piece);
    if (bytes > max) throw new TemplateTooLargeError('ref' in token ? token.ref.raw : 'its text', max);
    out += piece;
  }
  return out;
}

/**
 * Like `render`, but a template that is exactly one reference (`"{{ steps.plan.output }}"`, spaces
 * around allowed) yields the value itself, keeping its JSON type: for run `outputs`.
 */
export function renderValue(text: string, context: TemplateContext, options: RenderOptions = {}): unknown {
  const tokens = tokensOrThrow(text.trim());
  const [only] = tokens;
  if (tokens.length === 1 && only && 'ref' in only) return resolve(only.ref, context);
  return render(text, context, options);
}

/**
 * Whether what a template makes of the run's inputs alone — its text and every input it reads, each
 * time it reads it — already passes `maxBytes`: checkable when a run starts, before any step has an
 * output. Step outputs, feedback and inputs that do not resolve count as nothing here.
 */
export function inputExpansionExceeds(
  text: string,
  inputs: Record<string, unknown>,
  maxBytes: number,
): string | undefined {
  let bytes = 0;
  for (const token of tokenize(text)) {
    if ('error' in token) continue;
    let piece = '';
    if ('text' in token) piece = token.text;
    else if (token.ref.kind === 'input') {
      try {
        piece = stringify(resolve(token.ref, { inputs }));
      } catch {
        piece = '';
      }
    }
    bytes += Buffer.byteLength(piece);
    if (bytes > maxBytes) return 'ref' in token ? token.ref.raw : 'its text';
  }
  return undefined;
}
