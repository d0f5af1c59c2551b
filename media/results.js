// The results panel. Every value from a run (model output included) goes into the page as text
// (textContent), never as HTML, so an output such as <script> or <img onerror> is shown, not run.
// How figures read is decided in core (src/core/panel.ts): rows and attacks arrive with their `text`.
(function () {
  const vscode = acquireVsCodeApi();
  let state = vscode.getState() || { rows: [], summary: '', filters: { regressedOnly: false, suite: '', tag: '' } };

  const el = (tag, props, ...children) => {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(props || {})) {
      if (k === 'className') e.className = v;
      else if (k === 'text') e.textContent = v;
      else if (k === 'title') e.title = v;
      else if (k === 'onchange') e.addEventListener('change', v);
      else if (k === 'checked') e.checked = v;
      else if (k === 'value') e.value = v;
      else e.setAttribute(k, v);
    }
    for (const c of children) if (c) e.append(c);
    return e;
  };

  function diffNode(diff) {
    const box = el('div', { className: 'detail diff' });
    if (!diff || diff.kind === 'same') return null;
    if (diff.kind === 'json') {
      for (const c of diff.changes) {
        const line = el('div', {});
        line.append(el('span', { text: `${c.path}: ` }));
        if (c.kind !== 'added') line.append(el('span', { className: 'removed', text: JSON.stringify(c.before) }));
        if (c.kind === 'changed') line.append(el('span', { text: ' → ' }));
        if (c.kind !== 'removed') line.append(el('span', { className: 'added', text: JSON.stringify(c.after) }));
        box.append(line);
      }
      return box;
    }
    for (const s of diff.segments) box.append(el('span', { className: s.kind === 'same' ? '' : s.kind, text: s.text }));
    return box;
  }

  function render() {
    const root = document.getElementById('root');
    root.textContent = '';
    const f = state.filters;
    const suites = [...new Set(state.rows.map((r) => r.suite))].sort();
    const tags = [...new Set(state.rows.flatMap((r) => r.tags))].sort();
    const update = (patch) => {
      state = { ...state, filters: { ...state.filters, ...patch } };
      vscode.setState(state);
      render();
    };
    const suiteSelect = el('select', { onchange: (e) => update({ suite: e.target.value }), 'aria-label': 'suite' }, el('option', { value: '', text: 'all suites' }), ...suites.map((s) => el('option', { value: s, text: s })));
    suiteSelect.value = f.suite;
    const tagSelect = el('select', { onchange: (e) => update({ tag: e.target.value }), 'aria-label': 'tag' }, el('option', { value: '', text: 'all tags' }), ...tags.map((t) => el('option', { value: t, text: t })));
    tagSelect.value = f.tag;
    root.append(
      el('header', {},
        el('span', { className: 'summary', text: state.summary || 'No run yet: run cases from the Test Explorer or the CodeLens.' }),
        el('label', {}, el('input', { type: 'checkbox', checked: f.regressedOnly, onchange: (e) => update({ regressedOnly: e.target.checked }) }), ' regressed only'),
        suiteSelect,
        tagSelect,
      ),
    );
    const attacks = state.attacks || [];
    if (attacks.length) {
      const t = el('table', { className: 'attacks' }, el('caption', { text: 'Attack success by category' }), el('thead', {}, el('tr', {}, ...['category', 'cases', 'success rate', 'baseline', 'regressed', 'worst'].map((h) => el('th', { text: h })))));
      const b = el('tbody', {});
      for (const a of attacks) {
        const worst = a.worst[0];
        b.append(
          el('tr', { className: a.rose || a.regressed ? 'rose' : a.successes ? 'some' : '' },
            el('td', { text: a.category }),
            el('td', { className: 'num', text: String(a.cases) }),
            el('td', { className: 'num', text: a.text.rate }),
            el('td', { className: 'num', text: a.text.baseline }),
            el('td', { className: 'num', text: String(a.regressed) }),
            el('td', { className: 'detail worst', title: worst ? `${worst.name}\n→ ${worst.output}` : '', text: worst ? `→ ${worst.output.replace(/\s+/g, ' ').slice(0, 80)}` : '' }),
          ),
        );
      }
      t.append(b);
      root.append(t);
    }
    const rows = state.rows.filter((r) => (!f.regressedOnly || r.verdict === 'regressed') && (!f.suite || r.suite === f.suite) && (!f.tag || r.tags.includes(f.tag)));
    if (!rows.length) {
      root.append(el('div', { className: 'empty', text: state.rows.length ? 'No case matches the filters.' : '' }));
      return;
    }
    const head = el('tr', {}, ...['case', 'verdict', 'pass rate', 'baseline', 'judge', 'latency', 'tokens', 'cost', 'hits'].map((h) => el('th', { text: h })));
    const table = el('table', {}, el('thead', {}, head));
    const body = el('tbody', {});
    for (const r of rows) {
      body.append(
        el('tr', { 'data-case': r.id },
          el('td', { title: r.id }, el('div', { text: r.name }), el('div', { className: 'detail', text: `${r.prompt} › ${r.suite}${r.model ? ` · ${r.model}` : ''}` })),
          el('td', { className: `verdict-${r.verdict}${r.passing ? '' : ' failing'}`, text: r.verdict }),
          el('td', { className: 'num', text: r.text.passRate }),
          el('td', { className: 'num', text: r.text.baseline }),
          el('td', { className: r.judgeAgreement !== undefined && r.judgeAgreement < 0.8 ? 'low' : '', text: r.text.judge, title: r.judges.map((j) => j.reason || '').join('\n') }),
          el('td', { className: 'num', text: r.latencyMs === undefined ? '' : `${Math.round(r.latencyMs)} ms` }),
          el('td', { className: 'num', text: String(r.tokens) }),
          el('td', { className: 'num', text: r.costUsd ? `$${r.costUsd.toFixed(5)}` : '' }),
          el('td', { className: 'num', text: String(r.hits) }),
        ),
      );
      const details = [r.text.evidence, r.driver && `driver: ${r.driver}`, r.note].filter(Boolean).join(' · ');
      const diff = diffNode(r.diff);
      if (details || diff || (!r.passing && r.output !== undefined)) {
        const cell = el('td', { colspan: '9' });
        if (details) cell.append(el('div', { className: 'detail', text: details }));
        if (diff) cell.append(diff);
        else if (!r.passing && r.output !== undefined) cell.append(el('div', { className: 'detail output', text: r.output }));
        body.append(el('tr', { className: 'details' }, cell));
      }
    }
    table.append(body);
    root.append(table);
  }

  window.addEventListener('message', (event) => {
    const m = event.data;
    if (m && m.type === 'results') {
      state = { ...state, rows: m.rows, summary: m.summary, attacks: m.attacks || [] };
      vscode.setState(state);
      render();
      vscode.postMessage({ type: 'rendered', rows: m.rows.length });
    }
  });
  render();
  vscode.postMessage({ type: 'ready' });
})();
