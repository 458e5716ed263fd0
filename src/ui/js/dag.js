// A workflow's DAG drawn left to right: each step in the column after the deepest step it needs, rows
// ordered to keep edges short (two barycentre sweeps), edges as curves, `back_to` loops dashed. Nodes
// carry data-step and data-status so colours (and tests) follow the run's state.
import { s } from './dom.js';

const NODE_W = 168;
const NODE_H = 46;
const GAP_X = 64;
const GAP_Y = 22;
const PAD = 12;

/** Column and row of every step. `steps`: {name: {needs: []}} in definition order. */
export function layout(steps) {
  const names = Object.keys(steps);
  const depth = new Map();
  const visit = (name, seen = new Set()) => {
    if (depth.has(name)) return depth.get(name);
    if (seen.has(name)) return 0;
    seen.add(name);
    const needs = (steps[name]?.needs ?? []).filter((n) => n in steps);
    const d = needs.length ? 1 + Math.max(...needs.map((n) => visit(n, seen))) : 0;
    depth.set(name, d);
    return d;
  };
  for (const n of names) visit(n);
  const columns = [];
  for (const n of names) {
    const d = depth.get(n);
    columns[d] = [...(columns[d] ?? []), n];
  }
  const row = new Map();
  const place = (col) => {
    col.forEach((n, i) => {
      row.set(n, i);
    });
  };
  for (const col of columns) place(col);
  for (let sweep = 0; sweep < 2; sweep++) {
    for (const col of columns.slice(1)) {
      const bary = (n) => {
        const needs = (steps[n].needs ?? []).filter((m) => row.has(m));
        return needs.length ? needs.reduce((a, m) => a + row.get(m), 0) / needs.length : row.get(n);
      };
      col.sort((a, b) => bary(a) - bary(b));
      place(col);
    }
  }
  const tallest = Math.max(1, ...columns.map((c) => c.length));
  const height = PAD * 2 + tallest * NODE_H + (tallest - 1) * GAP_Y;
  const pos = new Map();
  columns.forEach((col, c) => {
    const offset = (height - PAD * 2 - (col.length * NODE_H + (col.length - 1) * GAP_Y)) / 2;
    col.forEach((n, r) => {
      pos.set(n, { x: PAD + c * (NODE_W + GAP_X), y: PAD + offset + r * (NODE_H + GAP_Y) });
    });
  });
  const width = PAD * 2 + columns.length * NODE_W + Math.max(0, columns.length - 1) * GAP_X;
  return { pos, width, height };
}

function curve(a, b) {
  const x1 = a.x + NODE_W;
  const y1 = a.y + NODE_H / 2;
  const x2 = b.x;
  const y2 = b.y + NODE_H / 2;
  const mid = (x1 + x2) / 2;
  return `M${x1},${y1} C${mid},${y1} ${mid},${y2} ${x2 - 6},${y2}`;
}

function loop(from, to) {
  const x1 = from.x + NODE_W / 2;
  const x2 = to.x + NODE_W / 2;
  const y = Math.max(from.y, to.y) + NODE_H;
  return `M${x1},${from.y + NODE_H} C${x1},${y + 34} ${x2},${y + 34} ${x2},${to.y + NODE_H + 6}`;
}

/**
 * The DAG as an SVG. `statusOf(name)` colours a node (absent: by step type); `onSelect(name)` makes
 * nodes clickable (and reachable with the keyboard); `selected` is outlined.
 */
export function drawDag(steps, { statusOf, onSelect, selected } = {}) {
  const { pos, width, height } = layout(steps);
  const hasLoops = Object.values(steps).some((st) => st.back_to);
  const svg = s(
    'svg',
    {
      class: 'dag',
      viewBox: `0 0 ${width} ${height + (hasLoops ? 40 : 0)}`,
      width,
      height: height + (hasLoops ? 40 : 0),
      role: 'group',
      'aria-label': 'Workflow graph',
    },
    s(
      'defs',
      {},
      s(
        'marker',
        {
          id: 'arrow',
          viewBox: '0 0 10 10',
          refX: 2,
          refY: 5,
          markerWidth: 7,
          markerHeight: 7,
          orient: 'auto-start-reverse',
        },
        s('path', { d: 'M0,0 L10,5 L0,10 z', class: 'arrow' }),
      ),
    ),
  );
  // Shrinks to fit its frame down to 60% (text stays readable); a wider graph scrolls.
  svg.style.minWidth = `${Math.round(width * 0.6)}px`;
  for (const [name, step] of Object.entries(steps)) {
    for (const need of step.needs ?? []) {
      if (!pos.has(need)) continue;
      svg.append(
        s('path', {
          class: 'edge',
          d: curve(pos.get(need), pos.get(name)),
          'marker-end': 'url(#arrow)',
          'data-edge': `${need}->${name}`,
        }),
      );
    }
    if (step.back_to && pos.has(step.back_to.step)) {
      svg.append(
        s(
          'path',
          {
            class: 'edge loop',
            d: loop(pos.get(name), pos.get(step.back_to.step)),
            'marker-end': 'url(#arrow)',
          },
          s('title', {}, `back_to ${step.back_to.step}, at most ${step.back_to.max_loops} time(s)`),
        ),
      );
    }
  }
  for (const [name, step] of Object.entries(steps)) {
    const { x, y } = pos.get(name);
    const status = statusOf?.(name);
    const type = step.type ?? 'llm';
    const label = name.length > 20 ? `${name.slice(0, 19)}…` : name;
    const sub = status ? `${type} · ${status}` : type === 'llm' ? `llm · ${step.model ?? 'auto'}` : type;
    const node = s(
      'g',
      {
        class: [
          'node',
          `type-${type}`,
          status ? `status-${status}` : '',
          selected === name ? 'selected' : '',
        ],
        'data-step': name,
        'data-status': status ?? '',
        transform: `translate(${x},${y})`,
        ...(onSelect && {
          tabindex: 0,
          role: 'button',
          'aria-label': `Step ${name}${status ? `, ${status}` : ''}`,
        }),
      },
      s('title', {}, `${name} (${type})${status ? `: ${status}` : ''}`),
      s('rect', { width: NODE_W, height: NODE_H, rx: 8 }),
      s('text', { x: 12, y: 19, class: 'node-name' }, label),
      s('text', { x: 12, y: 36, class: 'node-sub' }, sub.length > 26 ? `${sub.slice(0, 25)}…` : sub),
    );
    if (onSelect) {
      node.addEventListener('click', () => onSelect(name));
      node.addEventListener('keydown', (e) => {
        if (e.key === 'Enter' || e.key === ' ') {
          e.preventDefault();
          onSelect(name);
        }
      });
    }
    svg.append(node);
  }
  return svg;
}

/** The DAG in a scrolling frame (a wide workflow scrolls instead of shrinking its text). */
export function dagView(steps, options) {
  const frame = document.createElement('div');
  frame.className = 'graph';
  frame.append(drawDag(steps, options));
  return frame;
}
