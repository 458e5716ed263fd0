/**
 * Fenced code blocks of README.md and docs/*.md, with the directives written before them, for the test
 * that runs every example (test/integration/docs-examples.test.ts documents the vocabulary).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

export type BlockKind = 'sh' | 'ts' | 'yaml' | 'shown' | 'unknown';

export interface DocBlock {
  /** Path relative to the repository root, e.g. `docs/routing.md`. */
  file: string;
  /** 1-based line of the opening fence. */
  line: number;
  /** The info string's first word, lower-cased ('' for a bare fence). */
  lang: string;
  kind: BlockKind;
  /** The block's text, its fence's indentation removed. */
  text: string;
  /** `<!-- not run: reason -->` */
  notRun?: string;
  /** `<!-- expect: 404 -->`, `<!-- expect: 4xx -->`, `<!-- expect: 403, 429 -->`: HTTP statuses allowed (and required). */
  expectStatus?: RegExp[];
  /** `<!-- expect: exit 2 -->` */
  expectExit?: number;
}

const KINDS: Record<string, BlockKind> = {
  sh: 'sh',
  bash: 'sh',
  shell: 'sh',
  ts: 'ts',
  typescript: 'ts',
  yaml: 'yaml',
  yml: 'yaml',
};

/** Languages that show output or a shape; never run. Anything else must be run or marked not run. */
const SHOWN = new Set([
  '',
  'json',
  'jsonc',
  'text',
  'txt',
  'mermaid',
  'dot',
  'http',
  'diff',
  'console',
  'sse',
]);

/** The markdown files whose examples are run: README.md and every docs/*.md. */
export function docFiles(root: string): string[] {
  const docs = readdirSync(join(root, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .sort()
    .map((f) => `docs/${f}`);
  return ['README.md', ...docs];
}

const DIRECTIVE = /^\s*<!--\s*(not run|expect)\s*:\s*(.*?)\s*-->\s*$/;

function applyDirective(block: DocBlock, name: string, value: string): void {
  if (name === 'not run') {
    block.notRun = value || 'no reason given';
    return;
  }
  const exit = /^exit\s+(\d+)$/.exec(value);
  if (exit) {
    block.expectExit = Number(exit[1]);
    return;
  }
  const statuses = value.split(/\s*,\s*/);
  if (!statuses.every((s) => /^[1-5][0-9x]{2}$/i.test(s))) {
    throw new Error(`${block.file}:${block.line}: cannot read the directive "expect: ${value}"`);
  }
  block.expectStatus = statuses.map((s) => new RegExp(`^${s.toLowerCase().replace(/x/g, '\\d')}$`));
}

/** Every fenced block of one markdown text. Directives are the comment lines right above a fence. */
export function parseBlocks(file: string, markdown: string): DocBlock[] {
  const lines = markdown.split('\n');
  const blocks: DocBlock[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^(\s*)(`{3,}|~{3,})\s*([^`\s]*)/.exec(lines[i]!);
    if (!open) continue;
    const [, indent = '', fence = '', info = ''] = open;
    const body: string[] = [];
    let j = i + 1;
    const close = new RegExp(`^\\s*${fence[0]}{${fence.length},}\\s*$`);
    while (j < lines.length && !close.test(lines[j]!)) {
      const l = lines[j]!;
      body.push(l.startsWith(indent) ? l.slice(indent.length) : l.trimStart());
      j++;
    }
    const lang = info.toLowerCase();
    const block: DocBlock = {
      file,
      line: i + 1,
      lang,
      kind: KINDS[lang] ?? (SHOWN.has(lang) ? 'shown' : 'unknown'),
      text: `${body.join('\n')}\n`,
    };
    // Directives: the comment lines just above the fence (blank lines between are allowed).
    for (let k = i - 1; k >= 0; k--) {
      const l = lines[k]!;
      if (!l.trim()) continue;
      const d = DIRECTIVE.exec(l);
      if (!d) break;
      applyDirective(block, d[1]!, d[2]!);
    }
    blocks.push(block);
    i = j;
  }
  return blocks;
}

export function collectBlocks(root: string): DocBlock[] {
  return docFiles(root).flatMap((f) => parseBlocks(f, readFileSync(join(root, f), 'utf8')));
}
