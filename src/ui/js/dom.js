// Building the page from data without ever parsing data as markup: every value becomes a text node or
// an attribute, so nothing an API answer holds (a model's output, a team name) can run as script.

const SVG_NS = 'http://www.w3.org/2000/svg';

function build(el, attrs, children) {
  for (const [name, value] of Object.entries(attrs ?? {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith('on') && typeof value === 'function') {
      el.addEventListener(name.slice(2).toLowerCase(), value);
    } else if (name === 'class' && Array.isArray(value)) {
      el.setAttribute('class', value.filter(Boolean).join(' '));
    } else if (name === 'value' && 'value' in el) {
      el.value = String(value);
    } else if (name === 'checked' || name === 'selected' || name === 'disabled') {
      el[name] = Boolean(value);
    } else {
      el.setAttribute(name, value === true ? '' : String(value));
    }
  }
  append(el, ...children);
  return el;
}

/** Appends children: nodes as they are, strings and numbers as text, arrays flattened, null skipped. */
export function append(el, ...children) {
  for (const child of children.flat(Infinity)) {
    if (child === null || child === undefined || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

/** An HTML element: h('button', {class: 'primary', onClick: fn}, 'Save'). */
export function h(tag, attrs, ...children) {
  return build(document.createElement(tag), attrs, children);
}

/** An SVG element, as h. */
export function s(tag, attrs, ...children) {
  return build(document.createElementNS(SVG_NS, tag), attrs, children);
}

/** Replaces an element's children. */
export function replace(el, ...children) {
  el.replaceChildren();
  return append(el, ...children);
}

/** A message that something failed, from an error or a string. */
export function errorBox(err) {
  const message = err instanceof Error ? err.message : String(err);
  return h('div', { class: 'error', role: 'alert' }, message);
}

/** A labelled form field around an input. */
export function field(label, input, hint) {
  return h(
    'label',
    { class: 'field' },
    h('span', { class: 'label' }, label),
    input,
    hint && h('small', {}, hint),
  );
}

/** A table from column definitions {label, value(row) → node|string, class?} and rows. */
export function table(columns, rows, options = {}) {
  return h(
    'table',
    { class: ['table', options.class], 'data-table': options.name },
    h(
      'thead',
      {},
      h(
        'tr',
        {},
        columns.map((c) => h('th', { class: c.class, scope: 'col' }, c.label)),
      ),
    ),
    h(
      'tbody',
      {},
      rows.length === 0
        ? h('tr', {}, h('td', { class: 'empty', colspan: columns.length }, options.empty ?? 'Nothing yet.'))
        : rows.map((row, i) =>
            h(
              'tr',
              options.rowAttrs?.(row) ?? {},
              columns.map((c) => h('td', { class: c.class }, c.value(row, i))),
            ),
          ),
    ),
  );
}

/** A small coloured label. */
export function badge(text, kind = '') {
  return h('span', { class: ['badge', kind && `badge-${kind}`] }, text);
}

/** A section with a heading and optional actions beside it. */
export function section(title, actions, ...children) {
  return h(
    'section',
    { class: 'card' },
    h(
      'header',
      { class: 'card-head' },
      h('h2', {}, title),
      actions && h('div', { class: 'actions' }, actions),
    ),
    ...children,
  );
}

/**
 * A "More" button in `more` while the page just loaded says there is another (`has_more`): clicking it
 * loads the page after `next_cursor`; a failure shows beside the button.
 */
export function moreButton(more, page, loadNext) {
  replace(
    more,
    page.has_more
      ? h(
          'button',
          {
            type: 'button',
            'data-action': 'more',
            onClick: () => loadNext(page.next_cursor).catch((err) => append(more, errorBox(err))),
          },
          'More',
        )
      : null,
  );
}
