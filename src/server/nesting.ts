/**
 * How deeply a parsed JSON (or YAML) value nests. Every body is checked right after parsing, because
 * everything downstream — schema validation, SDK serialisation, template rendering — walks values
 * recursively and would overflow the stack on a body nested thousands deep. The walk here keeps its own
 * stack, so it cannot overflow on the very input it guards against.
 */

/** Where the first too-deep value was found: its path from the root (at most the first few steps). */
export interface NestingProblem {
  path: Array<string | number>;
}

/** Path steps reported; the rest of a path thousands deep would only bloat the error message. */
const PATH_STEPS = 4;

interface Frame {
  value: unknown;
  depth: number;
  /** The frame this value sits in, and the key it sits under: the path is rebuilt only on failure. */
  parent: Frame | undefined;
  key: string | number;
}

function pathOf(frame: Frame): Array<string | number> {
  const path: Array<string | number> = [];
  for (let f: Frame | undefined = frame; f?.parent; f = f.parent) path.push(f.key);
  return path.reverse().slice(0, PATH_STEPS);
}

/**
 * The first place `value` nests deeper than `max` arrays/objects, or undefined when it does not.
 * A scalar has depth 0, `{}` and `[]` depth 1, `{"a": [1]}` depth 2.
 *
 * @example
 * nestingDepthExceeds(JSON.parse('[[[]]]'), 2) // → { path: [0, 0] }
 */
export function nestingDepthExceeds(value: unknown, max: number): NestingProblem | undefined {
  const stack: Frame[] = [{ value, depth: 0, parent: undefined, key: '' }];
  while (stack.length > 0) {
    const frame = stack.pop()!;
    const v = frame.value;
    if (typeof v !== 'object' || v === null) continue;
    const depth = frame.depth + 1;
    if (depth > max) return { path: pathOf(frame) };
    if (Array.isArray(v)) {
      for (let i = v.length - 1; i >= 0; i--) {
        const item: unknown = v[i];
        if (typeof item === 'object' && item !== null)
          stack.push({ value: item, depth, parent: frame, key: i });
      }
    } else {
      for (const key of Object.keys(v)) {
        const item: unknown = (v as Record<string, unknown>)[key];
        if (typeof item === 'object' && item !== null) stack.push({ value: item, depth, parent: frame, key });
      }
    }
  }
  return undefined;
}
