import { strict as assert } from 'node:assert';
import * as os from 'node:os';
import * as path from 'node:path';
import { promises as fs } from 'node:fs';
import { formatDiagnostic, loadProject, suiteMetrics, type CaseResult } from '../../src/core';
import { removeDir } from '../support/tmp';
import { cli } from '../support/cli';

/** A sample whose assertions scored these (metric, score) pairs. */
const sample = (...scores: [string | undefined, number][]) => ({ status: 'passed', assertions: scores.map(([metric, score]) => ({ metric, score, weight: 1, pass: score > 0, type: 'contains', reason: '' })) }) as unknown as CaseResult;
const derived = (name: string, expression: string) => ({ name, expression, where: 'promptfooconfig.yaml:3' });

describe("derived metrics (promptfoo's derivedMetrics)", () => {
  it('sums each named metric over the cases (a case\'s samples averaged), then evaluates the expressions in order', () => {
    const outcomes = [
      { results: [sample(['tp', 1], ['fp', 0]), sample(['tp', 0], ['fp', 0])] }, // tp 0.5 over two samples
      { results: [sample(['tp', 1], ['fp', 1], [undefined, 0])] },
      { results: [sample(['fn', 1])] },
    ];
    const values = suiteMetrics(outcomes, [derived('precision', 'tp / (tp + fp)'), derived('recall', 'tp / (tp + fn)'), derived('f1', '2 * precision * recall / (precision + recall)'), derived('bad', 'tp * missing')]);
    const by = Object.fromEntries(values.map((v) => [v.name, v]));
    assert.deepEqual([by.tp.value, by.fp.value, by.fn.value], [1.5, 1, 1]);
    assert.equal(by.precision.value, 0.6);
    assert.equal(by.recall.value, 0.6);
    assert.ok(Math.abs(by.f1.value! - 0.6) < 1e-12, 'a derived metric may use earlier ones');
    assert.equal(by.bad.value, undefined);
    assert.match(by.bad.error!, /^tp \* missing: Undefined symbol missing \(promptfooconfig\.yaml:3\)$/);
    assert.deepEqual(values.map((v) => v.derived), [false, false, false, true, true, true, true]);
  });

  it('a division by nothing is an error with the reason, never Infinity or NaN', () => {
    const [, v] = suiteMetrics([{ results: [sample(['a', 0])] }], [derived('ratio', '1 / a')]);
    assert.match(v.error!, /it is Infinity/);
  });

  describe('read from promptfoo configs and reported', function () {
    this.timeout(60_000);
    let dir: string;
    afterEach(() => removeDir(dir));
    const config = (metrics: string) => `prompts: ["Say {{ word }}"]
providers: [echo]
${metrics}
tests:
  - vars: { word: ahoy }
    assert: [{ type: contains, value: ahoy, metric: Tone }, { type: is-json, metric: Consistency }]
  - vars: { word: yarr }
    assert: [{ type: contains, value: yarr, metric: Tone }]
`;
    async function write(text: string) {
      dir = await fs.mkdtemp(path.join(os.tmpdir(), 'promptgate-derived-'));
      await fs.writeFile(path.join(dir, 'promptfooconfig.yaml'), text);
    }

    it('an expression that does not parse is a located error; a function is a warning', async () => {
      await write(config('derivedMetrics:\n  - name: Broken\n    value: "Tone * (2"\n  - name: Scripted\n    value: { fn: x }'));
      const project = await loadProject({ root: dir, paths: [dir] });
      const messages = project.diagnostics.map((d) => `${d.severity}: ${formatDiagnostic(d, (f) => path.relative(dir, f))}`);
      assert.ok(messages.some((m) => /^error: promptfooconfig\.yaml:5:12: derived metric 'Broken': /.test(m)), messages.join('\n'));
      assert.ok(messages.some((m) => /^warning: promptfooconfig\.yaml:7:12: warning: derived metric 'Scripted': a function is not run by PromptGate/.test(m)), messages.join('\n'));
    });

    it('the text, markdown and JSON reports show each suite\'s sums and derived values', async () => {
      await write(config('derivedMetrics:\n  - name: DoubleTone\n    value: Tone * 2\n  - name: Ratio\n    value: Consistency / Tone'));
      const r = await cli(['test', '--json', 'r.json', '--markdown', 'r.md'], dir);
      assert.equal(r.code, 1, r.stdout + r.stderr);
      assert.match(r.stdout, /metrics \(summed over each suite's cases; = derived\):\n {2}promptfooconfig\.yaml › prompt: Consistency 0 · Tone 2 · DoubleTone = 4 · Ratio = 0\n/);
      const report = JSON.parse(await fs.readFile(path.join(dir, 'r.json'), 'utf8')) as { metrics: { suite: string; metrics: { name: string; value: number; derived: boolean }[] }[] };
      assert.deepEqual(report.metrics[0].metrics.filter((m) => m.derived).map((m) => [m.name, m.value]), [['DoubleTone', 4], ['Ratio', 0]]);
      assert.match(await fs.readFile(path.join(dir, 'r.md'), 'utf8'), /- promptfooconfig\.yaml › prompt: Consistency 0 · Tone 2 · DoubleTone = 4 · Ratio = 0/);
    });
  });
});
