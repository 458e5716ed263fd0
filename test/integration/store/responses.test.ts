import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type NewResponseRecord, type Store, StoreError } from '../../../src/store/index.ts';
import { type Backend, backends } from './backends.ts';

const record = (id: string, team: string, extra: Partial<NewResponseRecord> = {}): NewResponseRecord => ({
  id,
  team,
  keyId: null,
  previousResponseId: null,
  chain: [],
  input: [{ id: `msg_${id}`, type: 'message', role: 'user', content: [{ type: 'input_text', text: id }] }],
  response: { id, object: 'response', output: [{ id: `out_${id}`, type: 'message' }] },
  ...extra,
});

describe.each(backends())('stored responses on $name', ({ make }) => {
  const backend: Backend = make();
  const clock = Date.parse('2026-12-01T09:00:00Z');
  let store: Store;

  beforeAll(async () => {
    store = await (await backend.fresh()).open({ now: () => clock });
  });
  afterAll(() => backend.cleanup());

  it('keeps a response with its input items and answer, as written', async () => {
    const saved = await store.responses.save(
      record('resp_a1', 'alpha', { keyId: 'key_1', input: [{ id: 'msg_x', text: 'héllo ✓' }] }),
    );
    expect(saved.createdAt).toBe(clock);
    expect(await store.responses.get('resp_a1')).toEqual({
      ...record('resp_a1', 'alpha', { keyId: 'key_1', input: [{ id: 'msg_x', text: 'héllo ✓' }] }),
      createdAt: clock,
    });
  });

  it('answers another team as if the response did not exist; the operator (no team) sees all', async () => {
    await store.responses.save(record('resp_b1', 'beta'));
    expect(await store.responses.get('resp_b1', 'alpha')).toBeNull();
    expect(await store.responses.get('resp_b1', 'beta')).not.toBeNull();
    expect(await store.responses.get('resp_b1')).not.toBeNull();
    expect(await store.responses.delete('resp_b1', 'alpha')).toBe(false);
    expect(await store.responses.get('resp_b1')).not.toBeNull();
  });

  it('loads a conversation in the order asked, leaving out missing and other teams’ responses', async () => {
    await store.responses.save(record('resp_c1', 'alpha'));
    await store.responses.save(
      record('resp_c2', 'alpha', { previousResponseId: 'resp_c1', chain: ['resp_c1'] }),
    );
    await store.responses.save(record('resp_c3', 'beta'));
    const got = await store.responses.getMany(['resp_c2', 'resp_nope', 'resp_c3', 'resp_c1'], 'alpha');
    expect(got.map((r) => r.id)).toEqual(['resp_c2', 'resp_c1']);
    expect(got[0]!.chain).toEqual(['resp_c1']);
    expect(await store.responses.getMany([], 'alpha')).toEqual([]);
  });

  it('deletes once', async () => {
    await store.responses.save(record('resp_d1', 'alpha'));
    expect(await store.responses.delete('resp_d1', 'alpha')).toBe(true);
    expect(await store.responses.delete('resp_d1', 'alpha')).toBe(false);
    expect(await store.responses.get('resp_d1')).toBeNull();
  });

  it('refuses a second response with the same id, keeping the first', async () => {
    await store.responses.save(record('resp_e1', 'alpha'));
    await expect(store.responses.save(record('resp_e1', 'beta'))).rejects.toBeInstanceOf(StoreError);
    expect((await store.responses.get('resp_e1'))?.team).toBe('alpha');
  });
});
