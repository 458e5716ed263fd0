/**
 * fast-check arbitraries for hostile request bodies: values that have broken gateways before (nesting
 * thousands deep, strings at the body limit, prototype keys, numbers past float range, lone surrogates,
 * wrong types), mixed into otherwise well-formed bodies so every field is attacked while the rest of the
 * body still gets past the earlier checks. `Raw` lets a body carry JSON text that no JS value
 * serialises to (a 10,000-deep array, `1e400`, a duplicate `__proto__` key), built as strings so
 * nothing here recurses.
 */
import fc from 'fast-check';

/** JSON text inserted verbatim where the value would go. */
export class Raw {
  readonly text: string;
  constructor(text: string) {
    this.text = text;
  }
}

/** Serialises a value that may contain Raw fragments (own keys only, `__proto__` included). */
export function toJson(value: unknown): string {
  if (value instanceof Raw) return value.text;
  if (Array.isArray(value)) return `[${value.map(toJson).join(',')}]`;
  if (value !== null && typeof value === 'object') {
    const parts = Object.keys(value).map(
      (k) => `${JSON.stringify(k)}:${toJson((value as Record<string, unknown>)[k])}`,
    );
    return `{${parts.join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/** An object with exactly these own keys, `__proto__` as a plain key rather than the prototype. */
export function objectOf(entries: [string, unknown][]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [k, v] of entries) Object.defineProperty(out, k, { value: v, enumerable: true, writable: true });
  return out;
}

const DEPTHS = [63, 64, 65, 100, 1_000, 10_000];
const deepTexts = DEPTHS.flatMap((d) => [
  '['.repeat(d) + ']'.repeat(d),
  '{"a":'.repeat(d) + 'null' + '}'.repeat(d),
  '[{"type":"object","properties":'.repeat(d) + '{}' + '}]'.repeat(d),
]);
/** JSON nested up to 10,000 deep, in arrays, objects and schema-like objects. */
export const deep = fc.constantFrom(...deepTexts.map((t) => new Raw(t)));

export const PROTOTYPE_NAMES = [
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  'valueOf',
  'hasOwnProperty',
  '__defineGetter__',
  'isPrototypeOf',
];

export const BAD_MODEL_NAMES = [
  ...PROTOTYPE_NAMES,
  'auto:__proto__',
  'auto:constructor',
  'auto:toString',
  'auto:',
  'auto:nope',
  'nope',
  '',
  ' ',
  'OA-MODEL',
  ' oa-model',
  'oa-model\u0000',
];

const STRINGS = [
  '',
  ' ',
  'NaN',
  'Infinity',
  '-Infinity',
  'null',
  'undefined',
  'true',
  '0x1F',
  '1e309',
  '-0',
  '\u0000',
  '\ud800',
  '\udfff',
  '𝄞',
  'e\u0301',
  '\u202etxt.exe',
  '\ufeff',
  '../../etc/passwd',
  '%00',
  '%zz',
  '{{ inputs.x }}',
  '{{ steps.__proto__.output }}',
  '{{ constructor.constructor }}',
  "'; DROP TABLE runs; --",
  '2026-02-30T25:61:00Z',
  '+275760-09-13T00:00:00.000Z',
  '9999-12-31T23:59:59Z',
  ...BAD_MODEL_NAMES,
];

/** Strings that look like numbers, dates, names or templates, or are not valid UTF-16. */
export const hostileString = fc.oneof(
  { weight: 4, arbitrary: fc.constantFrom(...STRINGS) },
  { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 40 }) },
  { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 40 }) },
);

const NUMBER_TEXTS = [
  '1e308',
  '-1e308',
  '1e400',
  '-1e400',
  '-0',
  '1e20',
  '1e13',
  '253402300800000',
  '8640000000000001',
  '9007199254740993',
  '5e-324',
  '1e-400',
  '-1',
  '0',
  '0.5',
  '1.7976931348623157e308',
  '123456789012345678901234567890',
];
/** Numbers at and past the edges of float range, as JSON text (so `1e400` and `-0` survive). */
export const hostileNumber = fc.oneof(
  fc.constantFrom(...NUMBER_TEXTS.map((t) => new Raw(t))),
  fc.double().map((d) => (Number.isFinite(d) ? d : null)),
  fc.integer(),
);

const WRONG_TYPES: unknown[] = [null, true, false, [], {}, [null], { '': null }, 0, -1, [[]], ['x']];

const prototypeObjects = [
  new Raw('{"__proto__":{"polluted":true}}'),
  new Raw('{"constructor":{"prototype":{"polluted":true}}}'),
  new Raw('{"__proto__":null,"__proto__":[]}'),
  objectOf([['__proto__', { admin: true }]]),
  objectOf([['toString', 'x']]),
];

/** Strings at the body limit (and just past it), in one-, two- and four-byte characters. */
export function hugeStrings(maxBodyBytes: number) {
  const out: string[] = [];
  for (const ch of ['a', 'é', '𝄞', '"']) {
    const width = Buffer.byteLength(JSON.stringify(ch)) - 2;
    for (const bytes of [maxBodyBytes - 600, maxBodyBytes + 10])
      out.push(ch.repeat(Math.floor(bytes / width)));
  }
  return fc.constantFrom(...out);
}

/** One hostile value of any kind. */
export function hostile(maxBodyBytes: number): fc.Arbitrary<unknown> {
  return fc.oneof(
    { weight: 2, arbitrary: deep },
    { weight: 4, arbitrary: hostileString },
    { weight: 3, arbitrary: hostileNumber },
    { weight: 3, arbitrary: fc.constantFrom(...WRONG_TYPES) },
    { weight: 2, arbitrary: fc.constantFrom(...prototypeObjects) },
    { weight: 1, arbitrary: hugeStrings(maxBodyBytes) },
    { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
  );
}

const extraKey = fc.oneof(
  fc.constantFrom(...PROTOTYPE_NAMES, 'x', '', 'quorum'),
  fc.string({ maxLength: 8 }),
);

/**
 * A body with these fields (the required ones always, the others often), well-formed in most cases so
 * the request gets past validation and deep into the gateway; otherwise one or two fields hold a
 * hostile value, and now and then an unknown or prototype key carries one.
 */
export function shaped(
  fields: Record<string, fc.Arbitrary<unknown>>,
  bad: fc.Arbitrary<unknown>,
  required: string[] = [],
): fc.Arbitrary<Record<string, unknown>> {
  const names = Object.keys(fields);
  const present = fc.tuple(
    ...names.map((name) =>
      required.includes(name)
        ? fields[name]!.map((v): [string, unknown][] => [[name, v]])
        : fc
            .option(fields[name]!, { freq: 2, nil: undefined })
            .map((v): [string, unknown][] => (v === undefined ? [] : [[name, v]])),
    ),
  );
  const mutations = fc.oneof(
    { weight: 6, arbitrary: fc.constant<[string, unknown][]>([]) },
    {
      weight: 1,
      arbitrary: fc.array(fc.tuple(fc.constantFrom(...names), bad), { minLength: 1, maxLength: 2 }),
    },
  );
  const extras = fc.oneof(
    { weight: 8, arbitrary: fc.constant<[string, unknown][]>([]) },
    { weight: 1, arbitrary: fc.array(fc.tuple(extraKey, bad), { minLength: 1, maxLength: 2 }) },
  );
  return fc.tuple(present, mutations, extras).map(([entries, changed, extra]) => {
    const body = new Map(entries.flat());
    for (const [name, value] of changed) body.set(name, value);
    return objectOf([...body, ...extra]);
  });
}

/** Bytes that are not (quite) JSON: random bytes, truncations, BOMs, invalid UTF-8, trailing commas. */
export const malformedBytes: fc.Arbitrary<Uint8Array> = fc.oneof(
  fc.uint8Array({ maxLength: 200 }),
  fc
    .constantFrom(
      '',
      '{',
      '}',
      '{"model":',
      '{"a":1,}',
      '[1,2',
      '\ufeff{}',
      '{"a":"\\ud800"}',
      '{"a":"\\u00"}',
      '/* c */ {}',
      'Infinity',
      'NaN',
      'null',
      '"x"',
      '[]',
      '0',
      'true',
      '{"__proto__":',
      '{'.repeat(10_000),
      '['.repeat(10_000),
      '{"a":1}{"b":2}',
      '\u0000',
    )
    .map((s) => new TextEncoder().encode(s)),
  fc.constantFrom(
    new Uint8Array([0xff, 0xfe, 0x7b, 0x7d]),
    new Uint8Array([0x7b, 0x22, 0xc3, 0x28, 0x22, 0x3a, 0x31, 0x7d]),
    new Uint8Array([0x7b, 0x22, 0xed, 0xa0, 0x80, 0x22, 0x3a, 0x31, 0x7d]),
    new Uint8Array([0xef, 0xbb, 0xbf, 0x7b, 0x7d]),
  ),
  fc.jsonValue({ maxDepth: 3 }).chain((v) => {
    const text = JSON.stringify(v);
    return fc
      .nat({ max: Math.max(0, text.length - 1) })
      .map((n) => new TextEncoder().encode(text.slice(0, n)));
  }),
);

/** Arbitrary values, for bodies with no shape at all (`undefined` and functions dropped by JSON). */
export const anyJsonText: fc.Arbitrary<string> = fc.oneof(
  fc.jsonValue().map((v) => JSON.stringify(v)),
  fc
    .anything({ withNullPrototype: true, withObjectString: true, withSparseArray: true, maxDepth: 4 })
    .map((v) => {
      try {
        return JSON.stringify(v) ?? 'null';
      } catch {
        return String(v);
      }
    }),
);
