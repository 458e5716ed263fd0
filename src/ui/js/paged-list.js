// A page that lists an admin collection newest first, fifty at a time, with "More" for the next page
// (the API's cursor): the Alerts and Audit pages.
import { ApiError, api } from './api.js';
import { append, errorBox, h, moreButton, replace, section, table } from './dom.js';

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
  const page = async (cursor) => {
    const res = (await api(path, { query: { limit: 50, cursor }, signal })).data;
    rows.push(...res.data);
    replace(box, table(columns, rows, { name, empty, rowAttrs }));
    moreButton(more, res, page);
  };
  try {
    await page();
  } catch (err) {
    replace(
      box,
      err instanceof ApiError && err.unavailable ? h('p', { class: 'muted' }, unavailable) : errorBox(err),
    );
  }
}
