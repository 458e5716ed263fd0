/**
 * The calibration set: labelled prompts in bench/calibration/prompts/*.yaml (documents they paste in
 * bench/calibration/documents/), read, checked and turned into the chat bodies the router sees. The
 * format and the labelling rules are in bench/calibration/README.md.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parse } from 'yaml';
import { z } from 'zod';
import type { RouteMessage, RouteRequest } from '../../routing/index.ts';
import { CATEGORIES, type Capability, type Category } from '../../routing/index.ts';

export const CALIBRATION_DIR = resolve(import.meta.dirname);
const PROMPTS_DIR = join(CALIBRATION_DIR, 'prompts');
const DOCUMENTS_DIR = join(CALIBRATION_DIR, 'documents');

export type Difficulty = 'easy' | 'medium' | 'hard';
export const DIFFICULTIES: readonly Difficulty[] = ['easy', 'medium', 'hard'];
/** The quality a model needs in the prompt's category to serve it well, by labelled difficulty. */
export const NEEDED: Readonly<Record<Difficulty, number>> = { easy: 0.55, medium: 0.7, hard: 0.86 };
/** What a model is assumed to write when the prompt says nothing (a label can override it). */
export const OUTPUT_TOKENS: Readonly<Record<Difficulty, number>> = { easy: 150, medium: 500, hard: 1200 };

export type Split = 'tune' | 'held-out';
/** The file whose prompts predate the set: the analyzer was tuned on all of them, so all are tune. */
export const ANALYZER_TABLE = 'analyzer-table.yaml';
/** Share (per cent, by id hash) of the new prompts held out: 139 of 483 (29%) with the analyzer table all tune. */
export const HELD_OUT_PERCENT = 40;

/** The kinds of traffic the set spans (docs: bench/calibration/README.md). */
export const KINDS = [
  'chat',
  'support',
  'extraction',
  'code-gen',
  'code-review',
  'debugging',
  'algorithms',
  'math',
  'proofs',
  'word-problems',
  'planning',
  'trade-offs',
  'puzzles',
  'writing',
  'editing',
  'translation',
  'long-document',
  'multi-turn',
] as const;

const Message = z
  .object({
    role: z.enum(['system', 'user', 'assistant', 'tool']),
    content: z.string().nullable(),
    tool_calls: z
      .array(
        z.object({
          id: z.string(),
          type: z.literal('function'),
          function: z.object({ name: z.string(), arguments: z.string() }),
        }),
      )
      .optional(),
    tool_call_id: z.string().optional(),
  })
  .strict();

const Record_ = z
  .object({
    id: z.string().regex(/^[a-z0-9]+(-[a-z0-9]+)*$/, 'kebab-case'),
    split: z.enum(['tune', 'held-out']).optional(),
    v1_split: z.enum(['tune', 'held-out']).optional(),
    kind: z.enum(KINDS),
    lang: z.string().length(2).optional(),
    category: z.enum(CATEGORIES as [Category, ...Category[]]),
    difficulty: z.enum(['easy', 'medium', 'hard']),
    requires: z.array(z.enum(['tools', 'vision', 'json', 'streaming'])).optional(),
    /** The user message has an image part (vision). */
    image: z.boolean().optional(),
    /** The conversation already holds tool calls (tools). */
    tool_traffic: z.boolean().optional(),
    system: z.string().optional(),
    prompt: z.string().min(1).optional(),
    messages: z.array(Message).min(2).optional(),
    document: z.string().optional(),
    output_tokens: z.number().int().positive().optional(),
  })
  .strict();

export interface CalibrationPrompt {
  id: string;
  file: string;
  split: Split;
  /** The analyzer table's own split (its prompts only). */
  v1Split?: Split;
  kind: (typeof KINDS)[number];
  lang: string;
  category: Category;
  difficulty: Difficulty;
  requires: Capability[];
  multiTurn: boolean;
  document?: string;
  /** The chat body the router is given. */
  request: RouteRequest;
  /** Output tokens assumed for cost. */
  outputTokens: number;
}

/**
 * FNV-1a, 32 bits: a fixed, documented hash so the split does not depend on anyone's choice. Its own
 * copy (the demo provider has one too): the split must not move when other code changes its hash.
 */
export function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

/** The split a prompt belongs to: the rule each record's `split` was written from, before any tuning. */
export function splitOf(id: string, file: string): Split {
  if (file === ANALYZER_TABLE) return 'tune';
  return fnv1a(id) % 100 < HELD_OUT_PERCENT ? 'held-out' : 'tune';
}

/** Two function tools, for prompts that require tools (what they do does not matter to routing). */
const TOOLS = [
  {
    type: 'function',
    function: {
      name: 'lookup',
      description: 'Look up an order, account or record by id',
      parameters: { type: 'object', properties: { id: { type: 'string' } }, required: ['id'] },
    },
  },
  {
    type: 'function',
    function: {
      name: 'get_weather',
      description: 'Current weather for a city',
      parameters: { type: 'object', properties: { city: { type: 'string' } }, required: ['city'] },
    },
  },
];

const IMAGE = { type: 'image_url', image_url: { url: 'https://example.com/photo.jpg' } };

function paste(text: string, document: string | undefined): string {
  if (document === undefined) return text;
  return text.includes('{{document}}') ? text.replace('{{document}}', document) : `${text}\n\n${document}`;
}

function buildRequest(r: z.infer<typeof Record_>, document: string | undefined): RouteRequest {
  const messages: RouteMessage[] = [];
  if (r.system) messages.push({ role: 'system', content: r.system });
  if (r.prompt !== undefined) messages.push({ role: 'user', content: paste(r.prompt, document) });
  else
    for (const m of r.messages!)
      messages.push({ ...m, content: m.content === null ? null : paste(m.content, document) });
  if (r.image) {
    const last = messages.findLastIndex((m) => m.role === 'user');
    const text = messages[last]!.content as string;
    messages[last] = { role: 'user', content: [{ type: 'text', text }, IMAGE] };
  }
  const requires = r.requires ?? [];
  const request: RouteRequest = { messages };
  if (requires.includes('tools')) request.tools = TOOLS;
  if (requires.includes('json')) request.response_format = { type: 'json_object' };
  if (requires.includes('streaming')) request.stream = true;
  return request;
}

/** What is wrong with one record beyond its schema, or an empty list. */
function problems(r: z.infer<typeof Record_>, file: string, documents: ReadonlySet<string>): string[] {
  const out: string[] = [];
  const requires = r.requires ?? [];
  if ((r.prompt === undefined) === (r.messages === undefined))
    out.push('needs exactly one of prompt, messages');
  if (r.messages && r.messages.at(-1)?.role !== 'user') out.push('the last message must be the user ask');
  if (r.document !== undefined && !documents.has(r.document)) out.push(`no document ${r.document}`);
  if ((r.image ?? false) !== requires.includes('vision'))
    out.push('an image part and requires: [vision] go together');
  if (r.tool_traffic && !requires.includes('tools')) out.push('tool traffic requires tools');
  const expected = splitOf(r.id, file);
  if ((r.split ?? 'tune') !== expected) out.push(`split must be ${expected} (splitOf)`);
  return out;
}

let cached: CalibrationPrompt[] | undefined;

/** Every labelled prompt, in file then record order. Throws listing every problem found. */
export function loadCalibrationSet(): CalibrationPrompt[] {
  if (cached) return cached;
  const documents = new Map<string, string>();
  for (const name of readdirSync(DOCUMENTS_DIR).sort())
    documents.set(name, readFileSync(join(DOCUMENTS_DIR, name), 'utf8').trim());
  const out: CalibrationPrompt[] = [];
  const errors: string[] = [];
  const seen = new Set<string>();
  for (const file of readdirSync(PROMPTS_DIR)
    .filter((f) => f.endsWith('.yaml'))
    .sort()) {
    const records = parse(readFileSync(join(PROMPTS_DIR, file), 'utf8')) as unknown[];
    records.forEach((raw, i) => {
      const parsed = Record_.safeParse(raw);
      const where = `${file}[${i}]${(raw as { id?: string })?.id ? ` ${(raw as { id: string }).id}` : ''}`;
      if (!parsed.success) {
        for (const issue of parsed.error.issues)
          errors.push(`${where}: ${issue.path.join('.')} ${issue.message}`);
        return;
      }
      const r = parsed.data;
      if (seen.has(r.id)) errors.push(`${where}: duplicate id`);
      seen.add(r.id);
      for (const p of problems(r, file, new Set(documents.keys()))) errors.push(`${where}: ${p}`);
      const requires = (r.requires ?? []) as Capability[];
      out.push({
        id: r.id,
        file,
        split: r.split ?? 'tune',
        ...(r.v1_split ? { v1Split: r.v1_split } : {}),
        kind: r.kind,
        lang: r.lang ?? 'en',
        category: r.category,
        difficulty: r.difficulty,
        requires,
        multiTurn: (r.messages?.filter((m) => m.role === 'user').length ?? 1) > 1,
        ...(r.document ? { document: r.document } : {}),
        request: buildRequest(r, r.document === undefined ? undefined : documents.get(r.document)),
        outputTokens: r.output_tokens ?? OUTPUT_TOKENS[r.difficulty],
      });
    });
  }
  if (errors.length)
    throw new Error(`calibration set: ${errors.length} problem(s)\n  ${errors.join('\n  ')}`);
  cached = out;
  return out;
}
