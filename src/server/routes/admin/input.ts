/** Input readers and store-error mapping, shared by the admin routes. */
import { domainError } from '../../errors.ts';

export { readJson, readQuery } from '../../body.ts';

/** Runs a store call, its failures mapped to the error table now (a route may then refine the message). */
export async function fromStore<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw domainError(err) ?? err;
  }
}
