/**
 * The source tree's shape: no import circle anywhere in src/, routing/ or consensus/, and the layer
 * rules — the routing and consensus libraries stand alone, only the server knows the web framework,
 * and nothing reaches into a gateway folder past its `index.ts`. A small import-graph walker of our
 * own: relative `import … from` / `export … from` / `import '…'` specifiers, resolved to files.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(import.meta.dirname, '../..');
const SCANNED = ['src', 'routing', 'consensus'];

interface Edge {
  /** Both paths relative to the repository root, with `/`. */
  from: string;
  to: string;
  /** The specifier as written. */
  specifier: string;
  /** `import type` / `export type`: erased at run time, so it cannot make a load-order circle. */
  typeOnly: boolean;
}

/** Static imports and re-exports of one file: the bindings part is `{…}`, `* as x`, `x` or `x, {…}`. */
const FROM =
  /^[ \t]*(import|export)\s+(type\s+)?(?:\{[^}]*\}|\*(?:\s+as\s+[\w$]+)?|[\w$]+(?:\s*,\s*(?:\{[^}]*\}|\*\s+as\s+[\w$]+))?)\s+from\s+['"]([^'"]+)['"]/gm;
const BARE = /^[ \t]*import\s+['"]([^'"]+)['"]/gm;

function specifiersOf(text: string): { specifier: string; typeOnly: boolean }[] {
  const out: { specifier: string; typeOnly: boolean }[] = [];
  for (const m of text.matchAll(FROM)) out.push({ specifier: m[3]!, typeOnly: m[2] !== undefined });
  for (const m of text.matchAll(BARE)) out.push({ specifier: m[1]!, typeOnly: false });
  return out;
}

function tsFiles(dir: string): string[] {
  const out: string[] = [];
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) out.push(...tsFiles(path));
    else if (name.endsWith('.ts') && !name.endsWith('.d.ts')) out.push(path);
  }
  return out;
}

const rel = (path: string) => relative(ROOT, path).split(sep).join('/');

function resolveSpecifier(fromFile: string, specifier: string): string | undefined {
  const base = resolve(dirname(fromFile), specifier);
  for (const candidate of [base, `${base}.ts`, join(base, 'index.ts')]) {
    if (existsSync(candidate) && statSync(candidate).isFile()) return candidate;
  }
  return undefined;
}

/** Every file's imports: relative ones resolved (`to` set), bare ones (packages) with `to` empty. */
function walk(): { files: string[]; edges: Edge[]; unresolved: string[] } {
  const files = SCANNED.flatMap((d) => tsFiles(join(ROOT, d)));
  const edges: Edge[] = [];
  const unresolved: string[] = [];
  for (const file of files) {
    for (const { specifier, typeOnly } of specifiersOf(readFileSync(file, 'utf8'))) {
      if (!specifier.startsWith('.')) {
        edges.push({ from: rel(file), to: '', specifier, typeOnly });
        continue;
      }
      const target = resolveSpecifier(file, specifier);
      if (!target) unresolved.push(`${rel(file)} → ${specifier}`);
      else edges.push({ from: rel(file), to: rel(target), specifier, typeOnly });
    }
  }
  return { files: files.map(rel), edges, unresolved };
}

/** Tarjan's strongly connected components; each component of two or more files holds a circle. */
function components(nodes: string[], next: Map<string, string[]>): string[][] {
  let counter = 0;
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  const visit = (v: string) => {
    index.set(v, counter);
    low.set(v, counter);
    counter++;
    stack.push(v);
    onStack.add(v);
    for (const w of next.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v)!, index.get(w)!));
      }
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1 || (next.get(v) ?? []).includes(v)) found.push(component);
    }
  };
  for (const v of nodes) if (!index.has(v)) visit(v);
  return found;
}

/** One circle through a component, as a readable chain `a.ts → b.ts → a.ts` (shortest from its first file). */
function chainThrough(component: string[], next: Map<string, string[]>): string {
  const members = new Set(component);
  const start = [...component].sort()[0]!;
  const previous = new Map<string, string>();
  const queue = [start];
  const seen = new Set([start]);
  while (queue.length) {
    const v = queue.shift()!;
    for (const w of next.get(v) ?? []) {
      if (!members.has(w)) continue;
      if (w === start) {
        const path = [v];
        while (path[0] !== start) path.unshift(previous.get(path[0]!)!);
        return [...path, start].join(' → ');
      }
      if (!seen.has(w)) {
        seen.add(w);
        previous.set(w, v);
        queue.push(w);
      }
    }
  }
  return component.join(' → ');
}

const graph = walk();
const runtime = new Map<string, string[]>();
for (const e of graph.edges) {
  if (e.typeOnly || !e.to) continue;
  const list = runtime.get(e.from) ?? [];
  if (!list.includes(e.to)) list.push(e.to);
  runtime.set(e.from, list);
}

const under = (folder: string) => (file: string) => file.startsWith(`${folder}/`);

describe('source architecture', () => {
  it('every relative import resolves to a file', () => {
    expect(graph.unresolved).toEqual([]);
  });

  it('has no import circle in src/, routing/ or consensus/', () => {
    const circles = components(graph.files, runtime).map((c) => chainThrough(c, runtime));
    expect(circles).toEqual([]);
  });

  it('routing/ and consensus/ import nothing from src/', () => {
    const crossing = graph.edges
      .filter((e) => (under('routing')(e.from) || under('consensus')(e.from)) && under('src')(e.to))
      .map((e) => `${e.from} → ${e.specifier}`);
    expect(crossing).toEqual([]);
  });

  it('only src/server/ imports the web framework (hono, @hono/*)', () => {
    const framework = (s: string) => s === 'hono' || s.startsWith('hono/') || s.startsWith('@hono/');
    const leaks = graph.edges
      .filter((e) => !e.to && framework(e.specifier) && !under('src/server')(e.from))
      .map((e) => `${e.from} → ${e.specifier}`);
    expect(leaks).toEqual([]);
  });

  it('has no import circle in src/gateway/ even through type-only imports', () => {
    const all = new Map<string, string[]>();
    for (const e of graph.edges) {
      if (!under('src/gateway')(e.from) || !under('src/gateway')(e.to)) continue;
      all.set(e.from, [...(all.get(e.from) ?? []), e.to]);
    }
    const files = graph.files.filter(under('src/gateway'));
    expect(components(files, all).map((c) => chainThrough(c, all))).toEqual([]);
  });

  it('other folders enter a gateway folder only through its index.ts', () => {
    const folderOf = (file: string) => {
      const m = /^src\/gateway\/([^/]+)\//.exec(file);
      return m ? m[1] : undefined;
    };
    const bypass = graph.edges
      .filter((e) => {
        const target = folderOf(e.to);
        return target !== undefined && folderOf(e.from) !== target && !e.to.endsWith(`/${target}/index.ts`);
      })
      .map((e) => `${e.from} → ${e.specifier}`);
    expect(bypass).toEqual([]);
  });

  it('code outside src/gateway/ uses the gateway through src/gateway/index.ts', () => {
    const bypass = graph.edges
      .filter(
        (e) => !under('src/gateway')(e.from) && under('src/gateway')(e.to) && e.to !== 'src/gateway/index.ts',
      )
      .map((e) => `${e.from} → ${e.specifier}`);
    expect(bypass).toEqual([]);
  });

  it.each(['src/alerts', 'src/audit'])('code outside %s/ enters it only through its index.ts', (folder) => {
    const bypass = graph.edges
      .filter((e) => !under(folder)(e.from) && under(folder)(e.to) && e.to !== `${folder}/index.ts`)
      .map((e) => `${e.from} → ${e.specifier}`);
    expect(bypass).toEqual([]);
    expect(graph.edges.some((e) => e.to === `${folder}/index.ts`)).toBe(true);
  });

  it('the walker sees imports (guards against a pattern that silently matches nothing)', () => {
    expect(graph.files.length).toBeGreaterThan(100);
    expect(graph.edges.some((e) => e.from === 'src/gateway/index.ts' && !e.typeOnly)).toBe(true);
    expect(specifiersOf("import type { A } from './a.ts';\nexport { b } from './b.ts';")).toEqual([
      { specifier: './a.ts', typeOnly: true },
      { specifier: './b.ts', typeOnly: false },
    ]);
  });
});
