// Lists read page by page with the API's cursor: the loader every list with "More" uses (requests, runs),
// and a whole page over an admin collection, newest first, fifty at a time (Alerts, Audit).
import { ApiError, api } from './api.js';
import { append, errorBox, h, moreButton, replace, section, table } from './dom.js';

/**
 * Loads GET `path` with `query` a page at a time into `rows`, calling `render` after each page and
 * offering "More" in `more` while there is a next one. Resolves once the first page is shown; rejects if
 * it could not be read.
 */
export async function loadPages({ path, query, signal, rows, render, more }) {
  const page = async (cursor) => {
    const res = (await api(path, { query: { ...query, cursor }, signal })).data;
    rows.push(...res.data);
    render();
    moreButton(more, res, page);
  };
  await page();
}

/**
 * Renders `title`, a section `heading` with `intro`, and the rows of GET `path` in `columns`.
 * `unavailable` is said instead of an error when the gateway does not keep this collection.
 */
export async function pagedList(
  root,
  signal,
  { title, heading, intro, path, columns, name, empty, rowAttrs, unavailable },
) {
  append(root, h('h1', {}, title));
  const box = h('div', {}, 'Loading…');
  const more = h('div', { class: 'more' });
  append(root, section(heading, null, h('p', { class: 'muted' }, intro), box, more));
  const rows = [];
  const render = () => replace(box, table(columns, rows, { name, empty, rowAttrs }));
  try {
    await loadPages({ path, query: { limit: 50 }, signal, rows, render, more });
  } catch (err) {
    replace(
      box,
      err instanceof ApiError && err.unavailable ? h('p', { class: 'muted' }, unavailable) : errorBox(err),
    );
  }
}
