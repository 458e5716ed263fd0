/** Editing one member of a JSON text leaves every other byte as it was. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  memberText,
  removeMember,
  replaceMember,
  replaceMembers,
  setMember,
} from '../../../src/gateway/index.ts';

describe('replaceMember', () => {
  it('replaces a top-level value and nothing else', () => {
    const text = '{ "model" : "a",\n "n": 1.50, "s": "\\u00e9\\/" }';
    expect(replaceMember(text, ['model'], '"b"')).toBe('{ "model" : "b",\n "n": 1.50, "s": "\\u00e9\\/" }');
  });

  it('finds the key past strings holding braces, quotes and escaped backslashes', () => {
    const text = '{"a":"}\\"{\\\\","b":{"model":"inner"},"model":"outer"}';
    expect(replaceMember(text, ['model'], '"x"')).toBe('{"a":"}\\"{\\\\","b":{"model":"inner"},"model":"x"}');
  });

  it('follows a path into nested objects only', () => {
    const text = '{"type":"message_start","message":{"id":"m","model":"up-1","content":[{"model":"no"}]}}';
    expect(replaceMember(text, ['message', 'model'], '"cat"')).toBe(
      '{"type":"message_start","message":{"id":"m","model":"cat","content":[{"model":"no"}]}}',
    );
    expect(replaceMember('{"message":"text"}', ['message', 'model'], '"x"')).toBe('{"message":"text"}');
  });

  it('matches keys by their decoded name, and replaces every occurrence of a repeated key', () => {
    expect(replaceMember('{"mod\\u0065l":"a","model":"b"}', ['model'], '"c"')).toBe(
      '{"mod\\u0065l":"c","model":"c"}',
    );
  });

  it('leaves a text without the key unchanged', () => {
    const text = '{"messages":[]}';
    expect(replaceMember(text, ['model'], '"x"')).toBe(text);
  });

  it('property: the result parses to the object with only that member changed', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string(), fc.jsonValue()), fc.jsonValue(), (object, value) => {
        const text = JSON.stringify({ ...object, model: 'm' }, null, 1);
        const out = replaceMember(text, ['model'], JSON.stringify(value));
        expect(JSON.parse(out)).toEqual(JSON.parse(JSON.stringify({ ...object, model: value })));
      }),
    );
  });
});

describe('removeMember', () => {
  it.each([
    ['{"quorum":{"tags":{}},"model":"a"}', '{"model":"a"}'],
    ['{"model":"a", "quorum":{"tags":{}}}', '{"model":"a"}'],
    ['{"a":1, "quorum":2, "b":3}', '{"a":1, "b":3}'],
    ['{"a":1,"quorum":2,"quorum":3}', '{"a":1}'],
    ['{ "quorum": 1 }', '{  }'],
    ['{"a":1}', '{"a":1}'],
  ])('%s', (text, want) => {
    expect(removeMember(text, 'quorum')).toBe(want);
    expect(() => JSON.parse(removeMember(text, 'quorum'))).not.toThrow();
  });

  it('property: the result parses to the object without the member', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.constantFrom('a', 'b', 'quorum', 'c'), fc.jsonValue())), (members) => {
        const text = `{${members.map(([k, v]) => `${JSON.stringify(k)} : ${JSON.stringify(v)}`).join(' ,\n')}}`;
        const expected = JSON.parse(text);
        delete expected.quorum;
        expect(JSON.parse(removeMember(text, 'quorum'))).toEqual(expected);
      }),
    );
  });
});

describe('replaceMembers', () => {
  it('replaces several members of one object in one pass, leaving absent ones absent', () => {
    const text =
      '{"type":"response.created","response":{"id":"up","model":"m-1","store":false,"output":[{"id":"x"}]}}';
    expect(
      replaceMembers(text, ['response'], { id: '"resp_q"', model: '"cat"', previous_response_id: 'null' }),
    ).toBe(
      '{"type":"response.created","response":{"id":"resp_q","model":"cat","store":false,"output":[{"id":"x"}]}}',
    );
    expect(replaceMembers('{"id":1,"n":{"id":2}}', [], { id: '3' })).toBe('{"id":3,"n":{"id":2}}');
    expect(replaceMembers('{"response":null}', ['response'], { id: '3' })).toBe('{"response":null}');
  });

  it('does not take inherited names for members to replace', () => {
    expect(replaceMembers('{"toString":1,"constructor":2}', [], { id: '3' })).toBe(
      '{"toString":1,"constructor":2}',
    );
  });
});

describe('memberText', () => {
  it('is the raw text of a top-level value, the last should the key repeat', () => {
    expect(memberText('{"input" : [ {"a":1} ] ,"b":2}', 'input')).toBe('[ {"a":1} ]');
    expect(memberText('{"input":"x","input":"\\u00e9"}', 'input')).toBe('"\\u00e9"');
    expect(memberText('{"n":{"input":1}}', 'input')).toBeUndefined();
  });
});

describe('setMember', () => {
  it.each([
    ['{"a":1}', '{"a":1,"store":false}'],
    ['{"a":1 ,\n "store" : true }', '{"a":1 ,\n "store" : false }'],
    ['{}', '{"store":false}'],
    ['  { }', '  {"store":false }'],
  ])('%s', (text, want) => {
    expect(setMember(text, 'store', 'false')).toBe(want);
    expect(JSON.parse(setMember(text, 'store', 'false')).store).toBe(false);
  });
});
