// The results page: the editor's results panel and the HTML report (`promptgate test --html`) run
// this same script, bundled with Chart.js into dist/webview/results.js (scripts/build.mjs).
// Every value from a run (model output included) goes into the page as text (textContent) or onto
// a canvas, never as HTML, so an output such as <script> or <img onerror> is shown, not run.
// How figures read is decided in core (src/core/panel.ts): the view arrives worded.
import { BarController, BarElement, CategoryScale, Chart, LinearScale, LineController, LineElement, PointElement, Tooltip } from 'chart.js';

Chart.register(BarController, BarElement, CategoryScale, LinearScale, LineController, LineElement, PointElement, Tooltip);

const PAGE = 200; // cases listed before "show more": a 10,000-case run stays responsive
const METRICS = [
  { key: 'passRate', label: 'pass rate', scale: (x) => (x === undefined ? null : x * 100), unit: '%' },
  { key: 'costUsd', label: 'cost', scale: (x) => x ?? null, unit: '$' },
  { key: 'latencyMs', label: 'latency', scale: (x) => (x === undefined ? null : Math.round(x)), unit: 'ms' },
];

/** Where the view comes from and where clicks go: the VS Code webview, or the data embedded in a report. */
function host() {
  if (typeof acquireVsCodeApi === 'function') {
    const api = acquireVsCodeApi();
    return {
      editor: true,
      state: () => api.getState() || {},
      save: (s) => api.setState(s),
      post: (m) => api.postMessage(m),
    };
  }
  const data = document.getElementById('promptgate-view');
  return {
    editor: false,
    state: () => ({ view: data ? JSON.parse(data.textContent) : undefined }),
    save: () => {},
    post: (m) => document.dispatchEvent(new CustomEvent('promptgate', { detail: m })),
  };
}

const h = host();
let state = { filters: { query: '', regressedOnly: false }, metric: 'passRate', shown: PAGE, ...h.state() };
let charts = [];

function el(tag, props, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(props || {})) {
    if (v === undefined || v === false) continue;
    if (k === 'className') e.className = v;
    else if (k === 'text') e.textContent = v;
    else if (k.startsWith('on')) e.addEventListener(k.slice(2), v);
    else if (k === 'checked' || k === 'value' || k === 'open') e[k] = v;
    else e.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children) if (c !== undefined && c !== null && c !== false) e.append(c);
  return e;
}

function save(patch) {
  state = { ...state, ...patch };
  h.save(state);
}

/** The editor's theme colours (VS Code sets them on the page; the report's stylesheet has defaults). */
function colour(name, fallback) {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim() || fallback;
}

function section(title, ...children) {
  return el('section', { 'aria-label': title }, el('h2', { text: title }), ...children);
}

function chartBox(height, label, make) {
  const canvas = el('canvas', { role: 'img', 'aria-label': label });
  const box = el('div', { className: 'chart' }, canvas);
  box.style.height = `${height}px`; // CSSOM, which the CSP allows (no inline style attribute)
  return { box, draw: () => charts.push(new Chart(canvas, make())) };
}

function axes(extra) {
  const grid = colour('--vscode-panel-border', 'rgba(128,128,128,0.3)');
  const ticks = colour('--vscode-descriptionForeground', '#888');
  return { grid: { color: grid }, ticks: { color: ticks }, ...extra };
}

/** Horizontal bars of rates in percent, each with its 95% interval drawn as a thin bar over it. */
function rateBars(labels, rates, intervals, label, barColour) {
  return {
    type: 'bar',
    data: {
      labels,
      datasets: [
        { label, data: rates.map((r) => r * 100), backgroundColor: barColour, barPercentage: 0.8, grouped: false, order: 2 },
        { label: '95% interval', data: intervals.map(([lo, hi]) => [lo * 100, hi * 100]), backgroundColor: colour('--vscode-foreground', '#333'), barPercentage: 0.15, grouped: false, order: 1 },
      ],
    },
    options: {
      indexAxis: 'y',
      animation: false,
      maintainAspectRatio: false,
      plugins: { tooltip: { callbacks: { label: (c) => (Array.isArray(c.raw) ? `95% interval ${c.raw[0].toFixed(0)}–${c.raw[1].toFixed(0)}%` : `${label} ${c.raw.toFixed(0)}%`) } } },
      scales: { x: axes({ min: 0, max: 100, ticks: { color: colour('--vscode-descriptionForeground', '#888'), callback: (v) => `${v}%` } }), y: axes({}) },
    },
  };
}

function headerNode(v) {
  const gate = v.header.gate;
  return el(
    'header',
    {},
    el('div', { className: 'title' }, el('h1', { text: 'PromptGate' }), v.startedAt && el('span', { className: 'detail', text: `run ${v.runId} · ${v.startedAt.replace('T', ' ').replace(/\.\d+Z$/, ' UTC')}` })),
    !v.latest && h.editor && el('div', { className: 'notice' }, el('span', { text: 'An earlier run, opened from the history. ' }), el('button', { text: 'Back to the latest run', onclick: () => h.post({ type: 'openRun', runId: 'latest' }) })),
    el('div', { className: 'gate' }, gate && el('span', { className: `badge gate-${gate}`, text: v.header.gateText }), el('span', { className: 'counts', text: v.header.counts ? `verdicts: ${v.header.counts}` : 'No run yet: run cases from the Test Explorer or the CodeLens.' })),
    v.header.totals && el('div', { className: 'detail totals', text: v.header.totals }),
  );
}

function groupsNode(v) {
  if (!v.groups.length) return null;
  const labels = v.groups.map((g) => `${g.suite} (${g.prompt.split('/').pop()})`);
  const c = chartBox(Math.max(90, 30 * v.groups.length + 40), 'pass rate by prompt and suite', () => rateBars(labels, v.groups.map((g) => g.rate), v.groups.map((g) => g.interval), 'pass rate', colour('--vscode-charts-green', '#388a34')));
  const list = el('ul', { className: 'legend' }, ...v.groups.map((g, i) => el('li', {}, el('span', { className: 'name', text: labels[i] }), ' ', el('span', { className: 'detail', text: g.text }))));
  return { node: section('Pass rate by suite', c.box, list), draw: c.draw };
}

function attacksNode(v) {
  if (!v.attacks.length) return null;
  const labels = v.attacks.map((a) => a.category);
  const c = chartBox(Math.max(90, 30 * v.attacks.length + 40), 'attack success rate by category', () => rateBars(labels, v.attacks.map((a) => a.rate), v.attacks.map((a) => [a.interval.lower, a.interval.upper]), 'attack success', colour('--vscode-charts-red', '#c72e0f')));
  const list = el(
    'ul',
    { className: 'legend' },
    ...v.attacks.map((a) => {
      const worst = a.worst[0];
      return el('li', { className: a.rose || a.regressed ? 'rose' : '' }, el('span', { className: 'name', text: a.category }), ' ', el('span', { className: 'detail', text: `${a.text.rate}${a.text.baseline ? `; baseline ${a.text.baseline}` : ''}${a.regressed ? `; ${a.regressed} regressed` : ''}` }), worst && el('div', { className: 'output clip', title: `${worst.name}\n→ ${worst.output}`, text: `worst: ${worst.name} → ${worst.output}` }));
    }),
  );
  return { node: section('Attack success by category', c.box, list), draw: c.draw };
}

function comparisonsNode(v) {
  if (!v.comparisons.length) return null;
  const cards = v.comparisons.map((c) =>
    el(
      'div',
      { className: 'compare' },
      el('h3', { text: c.name }),
      el('div', { className: 'detail', text: `${c.where} · ${c.kind === 'swap' ? 'model swap: the baseline’s model and this run’s' : 'the same test under each provider'}` }),
      el('div', { className: 'cells' }, ...c.cells.map((x) => el('div', { className: 'cell' }, el('div', { className: 'cell-head' }, el('span', { className: 'model', text: x.label }), ' ', x.verdict && el('span', { className: `badge verdict-${x.verdict}${x.passing ? '' : ' failing'}`, text: x.verdict }), ' ', el('span', { className: 'detail', text: x.rate })), el('div', { className: 'output', text: x.output })))),
    ),
  );
  return { node: section(`Side by side (${v.comparisons.length})`, ...cards) };
}

function historyNode(v) {
  const prompts = v.history.filter((p) => p.points.length);
  if (!prompts.length) return null;
  const metric = METRICS.find((m) => m.key === state.metric) || METRICS[0];
  const toggle = el('div', { className: 'toggle', role: 'radiogroup', 'aria-label': 'history metric' }, ...METRICS.map((m) => el('button', { role: 'radio', 'aria-checked': String(m === metric), className: m === metric ? 'on' : '', text: m.label, onclick: () => { save({ metric: m.key }); render(); } })));
  const runs = [...new Map(prompts.flatMap((p) => p.points).map((p) => [p.runId, p])).values()].sort((a, b) => b.startedAt.localeCompare(a.startedAt));
  const picked = el('div', { className: 'picked', 'aria-live': 'polite' });
  const open = (runId) => {
    if (h.editor) return h.post({ type: 'openRun', runId });
    // In a report: that run's figures per prompt (the report holds this run's cases only).
    picked.textContent = '';
    const lines = prompts.flatMap((p) => p.points.filter((x) => x.runId === runId).map((x) => `${p.prompt}: ${x.passRate === undefined ? 'nothing answered' : `${(x.passRate * 100).toFixed(0)}% (${x.passed}/${x.answered})`} · $${x.costUsd.toFixed(4)}${x.latencyMs === undefined ? '' : ` · ${Math.round(x.latencyMs)} ms`}${x.model ? ` · --model ${x.model}` : ''}`));
    picked.append(el('strong', { text: `run ${runId}${runId === v.runId ? ' (this report)' : ''}` }), ...lines.map((l) => el('div', { text: l })), runId === v.runId ? '' : el('div', { className: 'detail', text: `its own report: promptgate report ${runId} --html report.html` }));
  };
  const select = el('select', { 'aria-label': 'open a recorded run', onchange: (e) => e.target.value && open(e.target.value) }, el('option', { value: '', text: `open one of ${runs.length} recorded runs…` }), ...runs.map((r) => el('option', { value: r.runId, text: `${r.startedAt.replace('T', ' ').slice(0, 19)}${r.runId === v.runId ? ' (this run)' : ''}${r.model ? ` · ${r.model}` : ''}` })));
  const draws = [];
  const blocks = prompts.map((p) => {
    const c = chartBox(150, `${metric.label} of ${p.prompt} over ${p.points.length} runs`, () => ({
      type: 'line',
      data: { labels: p.points.map((x, i) => `${i + 1} · ${x.startedAt.slice(11, 16)}`), datasets: [{ label: metric.label, data: p.points.map((x) => metric.scale(x[metric.key])), borderColor: colour('--vscode-charts-blue', '#1a85ff'), backgroundColor: colour('--vscode-charts-blue', '#1a85ff'), pointRadius: p.points.map((x) => (x.runId === v.runId ? 6 : 4)), pointHoverRadius: 8, spanGaps: true }] },
      options: {
        animation: false,
        maintainAspectRatio: false,
        // A click anywhere on the chart opens the run nearest to it along the time axis.
        interaction: { mode: 'index', intersect: false },
        onClick: (_e, items) => items[0] && open(p.points[items[0].index].runId),
        plugins: { tooltip: { callbacks: { label: (ctx) => `${metric.label} ${metric.unit === '$' ? `$${Number(ctx.raw).toFixed(4)}` : `${Number(ctx.raw).toFixed(0)} ${metric.unit}`} (click to open)` } } },
        scales: { x: axes({}), y: axes(metric.key === 'passRate' ? { min: 0, max: 100 } : { beginAtZero: true }) },
      },
    }));
    draws.push(c.draw);
    return el('div', { className: 'history' }, el('h3', { text: p.prompt }), c.box);
  });
  return { node: section('History', el('div', { className: 'toolbar' }, toggle, select), picked, el('div', { className: 'histories' }, ...blocks)), draw: () => draws.forEach((d) => d()) };
}

function matches(r, terms) {
  if (!terms.length) return true;
  const hay = [r.name, r.suite, r.prompt, r.model, r.verdict, r.id, ...r.tags].join('\n').toLowerCase();
  return terms.every((t) => hay.includes(t));
}

function diffNode(diff) {
  if (!diff || diff.kind === 'same') return null;
  const box = el('div', { className: 'diff', 'aria-label': 'baseline → current' });
  if (diff.kind === 'json') {
    for (const c of diff.changes) box.append(el('div', {}, el('span', { text: `${c.path}: ` }), c.kind !== 'added' && el('del', { className: 'removed', text: JSON.stringify(c.before) }), c.kind === 'changed' && ' → ', c.kind !== 'removed' && el('ins', { className: 'added', text: JSON.stringify(c.after) })));
    return box;
  }
  for (const s of diff.segments) box.append(s.kind === 'same' ? s.text : el(s.kind === 'added' ? 'ins' : 'del', { className: s.kind, text: s.text }));
  return box;
}

function caseNode(r) {
  const judges = r.judges.map((j) =>
    el('div', { className: 'judge' }, el('span', { text: `${j.assertion} ${j.before !== undefined ? `${j.before.toFixed(2)} → ` : ''}${j.after !== undefined ? j.after.toFixed(2) : j.error ? 'errored' : 'not judged'}` }), ...[j.error, ...j.reasons].filter(Boolean).map((x) => el('div', { className: 'reason', text: x }))),
  );
  const figures = [r.latencyMs === undefined ? '' : `${Math.round(r.latencyMs)} ms`, r.tokens ? `${r.tokens} tokens` : '', r.costUsd ? `$${r.costUsd.toFixed(5)}` : '', r.hits ? `${r.hits} from cache or cassettes` : ''].filter(Boolean).join(' · ');
  const diff = diffNode(r.diff);
  return el(
    'details',
    { className: `case verdict-row-${r.verdict}`, open: r.verdict === 'regressed', 'data-case': r.id },
    el('summary', {}, el('span', { className: `badge verdict-${r.verdict}${r.passing ? '' : ' failing'}`, text: r.verdict }), ' ', el('span', { className: 'name', text: r.name }), ' ', el('span', { className: 'detail', text: r.text.passRate })),
    el('div', { className: 'detail', text: `${r.prompt} › ${r.suite}${r.model ? ` · ${r.model}` : ''} · ${r.where}` }),
    r.text.baseline && el('div', { text: `baseline ${r.text.baseline}` }),
    r.text.evidence && el('div', { className: 'evidence', text: r.text.evidence }),
    r.driver && el('div', { text: `driver: ${r.driver}` }),
    r.note && el('div', { className: 'detail', text: r.note }),
    judges.length > 0 && el('div', { className: 'judges' }, el('div', { className: 'label', text: `judge${r.judgeAgreement !== undefined ? ` · agreement ${(r.judgeAgreement * 100).toFixed(0)}%` : ''}` }), ...judges),
    diff,
    !diff && r.output !== undefined && r.output !== '' && el('div', { className: 'output', text: r.output }),
    figures && el('div', { className: 'detail', text: figures }),
    h.editor && el('button', { className: 'link', text: 'Open in editor', onclick: () => h.post({ type: 'openCase', caseId: r.id }) }),
  );
}

function casesNode(v) {
  const f = state.filters;
  const list = el('div', { className: 'cases' });
  const count = el('span', { className: 'detail', 'aria-live': 'polite' });
  const fill = () => {
    const terms = f.query.toLowerCase().split(/\s+/).filter(Boolean);
    const rows = v.rows.filter((r) => (!f.regressedOnly || r.verdict === 'regressed') && matches(r, terms));
    list.textContent = '';
    for (const r of rows.slice(0, state.shown)) list.append(caseNode(r));
    if (rows.length > state.shown) list.append(el('button', { text: `Show ${Math.min(PAGE, rows.length - state.shown)} more of ${rows.length - state.shown}`, onclick: () => { save({ shown: state.shown + PAGE }); fill(); } }));
    if (!rows.length) list.append(el('div', { className: 'empty', text: v.rows.length ? 'No case matches the filters.' : '' }));
    count.textContent = `${rows.length} of ${v.rows.length} cases`;
    return rows.length;
  };
  const search = el('input', { type: 'search', placeholder: 'Search: name, suite, tag, model, verdict', 'aria-label': 'search cases', value: f.query, oninput: (e) => { save({ filters: { ...state.filters, query: e.target.value }, shown: PAGE }); Object.assign(f, state.filters); fill(); } });
  const regressed = el('label', {}, el('input', { type: 'checkbox', checked: f.regressedOnly, onchange: (e) => { save({ filters: { ...state.filters, regressedOnly: e.target.checked }, shown: PAGE }); Object.assign(f, state.filters); fill(); } }), ' regressed only');
  const shown = fill();
  return { node: section('Cases', el('div', { className: 'toolbar' }, search, regressed, count), list), shown };
}

function render() {
  const root = document.getElementById('root');
  for (const c of charts) c.destroy();
  charts = [];
  root.textContent = '';
  const v = state.view;
  if (!v) {
    root.append(el('div', { className: 'empty', text: 'No run yet: run cases from the Test Explorer or the CodeLens.' }));
    return;
  }
  root.append(headerNode(v));
  if (v.metrics.length) root.append(section('Metrics', ...v.metrics.map((m) => el('div', { className: 'detail', text: m }))));
  const parts = [groupsNode(v), comparisonsNode(v), attacksNode(v), historyNode(v)].filter(Boolean);
  const cases = casesNode(v);
  // Regressions lead: the case list comes first when any case regressed.
  const regressed = v.rows.some((r) => r.verdict === 'regressed');
  if (regressed) root.append(cases.node);
  for (const p of parts) root.append(p.node);
  if (!regressed) root.append(cases.node);
  for (const p of parts) p.draw?.();
  document.body.dataset.rendered = String(cases.shown);
  h.post({ type: 'rendered', rows: cases.shown, charts: charts.length });
}

// Only the editor sends views; a report's data is in the page itself.
if (h.editor) {
  window.addEventListener('message', (event) => {
    const m = event.data;
    if (m && m.type === 'view') {
      save({ view: m.view, shown: PAGE });
      render();
    }
  });
}
render();
h.post({ type: 'ready' });
