/**
 * Edits to one member of a JSON object's text that leave every other byte as it was: a passthrough
 * body goes upstream with only its `model` changed, and an answer comes back with only its `model`
 * renamed, without parsing and re-serialising (which would reorder nothing but could still rewrite
 * numbers, escapes and whitespace — and a thinking block's signature must arrive byte for byte).
 *
 * The text must be valid JSON (callers parse it first); strings are skipped with `indexOf`, so large
 * base64 payloads cost little.
 */

interface Member {
  /** Decoded key. */
  key: string;
  /** Index of the key's opening quote. */
  start: number;
  valueStart: number;
  /** Index just past the value. */
  valueEnd: number;
}

const QUOTE = 34;
const BACKSLASH = 92;

function isSpace(code: number): boolean {
  return code === 32 || code === 10 || code === 13 || code === 9;
}

function skipSpace(text: string, i: number): number {
  while (i < text.length && isSpace(text.charCodeAt(i))) i++;
  return i;
}

/** Index just past the string whose opening quote is at `i`. */
function skipString(text: string, i: number): number {
  let at = i + 1;
  for (;;) {
    const quote = text.indexOf('"', at);
    if (quote < 0) throw new SyntaxError('unterminated string');
    let slashes = 0;
    while (text.charCodeAt(quote - 1 - slashes) === BACKSLASH) slashes++;
    if (slashes % 2 === 0) return quote + 1;
    at = quote + 1;
  }
}

/** Index just past the value starting at `i`. */
function skipValue(text: string, i: number): number {
  const first = text.charCodeAt(i);
  if (first === QUOTE) return skipString(text, i);
  if (first === 123 || first === 91) {
    let depth = 0;
    for (let at = i; at < text.length; at++) {
      const c = text.charCodeAt(at);
      if (c === QUOTE) at = skipString(text, at) - 1;
      else if (c === 123 || c === 91) depth++;
      else if ((c === 125 || c === 93) && --depth === 0) return at + 1;
    }
    throw new SyntaxError('unterminated value');
  }
  let at = i;
  while (at < text.length) {
    const c = text.charCodeAt(at);
    if (c === 44 || c === 125 || c === 93 || isSpace(c)) break;
    at++;
  }
  return at;
}

/** The members of the object whose `{` is at `open` (after leading whitespace), in order. */
function membersOf(text: string, open: number): Member[] {
  let i = skipSpace(text, open);
  if (text.charCodeAt(i) !== 123) throw new SyntaxError('not a JSON object');
  i = skipSpace(text, i + 1);
  const members: Member[] = [];
  if (text.charCodeAt(i) === 125) return members;
  for (;;) {
    const start = i;
    const keyEnd = skipString(text, i);
    const key = JSON.parse(text.slice(start, keyEnd)) as string;
    i = skipSpace(text, keyEnd);
    if (text.charCodeAt(i) !== 58) throw new SyntaxError('expected a colon');
    const valueStart = skipSpace(text, i + 1);
    const valueEnd = skipValue(text, valueStart);
    members.push({ key, start, valueStart, valueEnd });
    i = skipSpace(text, valueEnd);
    if (text.charCodeAt(i) === 125) return members;
    if (text.charCodeAt(i) !== 44) throw new SyntaxError('expected a comma');
    i = skipSpace(text, i + 1);
  }
}

/** Applies edits (ranges in ascending, non-overlapping order) to the text. */
function splice(text: string, edits: { from: number; to: number; insert: string }[]): string {
  if (!edits.length) return text;
  let out = '';
  let at = 0;
  for (const e of edits) {
    out += text.slice(at, e.from) + e.insert;
    at = e.to;
  }
  return out + text.slice(at);
}

/**
 * The object text with the value of `path` (member names from the top: `['model']`,
 * `['message', 'model']`) replaced by `json` wherever the path exists — every occurrence, should a
 * key repeat, so whichever a reader takes is the new one. Unchanged when the path is absent or
 * leads through a non-object.
 */
export function replaceMember(text: string, path: readonly string[], json: string): string {
  return replaceMembers(text, path.slice(0, -1), { [path.at(-1)!]: json });
}

/**
 * The object text with several members of the object at `path` (`[]`: the top level) replaced in one
 * pass: `values` maps a member's name to its new JSON text. Members that are absent stay absent.
 */
export function replaceMembers(
  text: string,
  path: readonly string[],
  values: Readonly<Record<string, string>>,
): string {
  const edits: { from: number; to: number; insert: string }[] = [];
  const visit = (open: number, depth: number) => {
    for (const m of membersOf(text, open)) {
      if (depth === path.length) {
        if (Object.hasOwn(values, m.key))
          edits.push({ from: m.valueStart, to: m.valueEnd, insert: values[m.key]! });
      } else if (m.key === path[depth] && text.charCodeAt(m.valueStart) === 123)
        visit(m.valueStart, depth + 1);
    }
  };
  visit(0, 0);
  return splice(text, edits);
}

/** The JSON text of the top-level member `key` as a parser reads it (the last, should it repeat). */
export function memberText(text: string, key: string): string | undefined {
  const member = membersOf(text, 0).findLast((m) => m.key === key);
  return member && text.slice(member.valueStart, member.valueEnd);
}

/** The object text with its top-level member `key` set to `json`: replaced where it is, else added last. */
export function setMember(text: string, key: string, json: string): string {
  const members = membersOf(text, 0);
  if (members.some((m) => m.key === key)) return replaceMembers(text, [], { [key]: json });
  const last = members.at(-1);
  const at = last ? last.valueEnd : text.indexOf('{') + 1;
  return `${text.slice(0, at)}${last ? ',' : ''}${JSON.stringify(key)}:${json}${text.slice(at)}`;
}

/** The object text without its top-level member `key` (every occurrence), commas kept valid. */
export function removeMember(text: string, key: string): string {
  const members = membersOf(text, 0);
  if (!members.some((m) => m.key === key)) return text;
  const kept = members.filter((m) => m.key !== key);
  const first = members[0]!;
  const last = members.at(-1)!;
  // Each kept member with what followed it up to the next member (its comma and spacing), the last
  // kept one without: the members between them, and their commas, are gone.
  let out = text.slice(0, first.start);
  kept.forEach((m, i) => {
    const next = members[members.indexOf(m) + 1];
    out += i < kept.length - 1 && next ? text.slice(m.start, next.start) : text.slice(m.start, m.valueEnd);
  });
  return out + text.slice(last.valueEnd);
}
