/** Input readers and store-error mapping, shared by the admin routes. */
import { GatewayError } from '../../../errors/index.ts';
import { StoreError } from '../../../store/index.ts';

export { readJson, readQuery } from '../../body.ts';

/** Runs a store call, mapping its errors: invalid → 400 invalid_body, not_found → 404, conflict → 409. */
export async function fromStore<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (!(err instanceof StoreError)) throw err;
    const kind =
      err.code === 'not_found' ? 'not_found' : err.code === 'conflict' ? 'conflict' : 'invalid_body';
    throw new GatewayError(kind, err.message, { param: err.param });
  }
}
