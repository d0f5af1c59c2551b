import { strict as assert } from 'node:assert';
import * as path from 'node:path';
import { formatDiagnostic, loadProject } from '../../src/core';
import { startFakeOpenAI } from '../support/fake-openai';
import { removeDir, tmpProject } from '../support/tmp';
import { cli } from '../support/cli';

// Our own fixture, written for these tests: every construct PromptGate reads from a .prompty.
const SHOP = `---
name: Shop assistant
description: Answers questions about an outdoor shop's products
version: 1.0
authors:
  - PromptGate tests
tags: [retail]
model:
  api: chat
  configuration:
    type: openai
    name: gpt-4o-mini
  parameters:
    max_tokens: 150
    temperature: 0.1
    stop: ["###"]
inputs:
  customer:
    type: string
    default: friend
  question:
    type: string
    sample: Do you sell tents?
  products:
    type: array
    default: []
sample:
  customer: Ada
  question: Which stove is lightest?
  products: [Stove A 300 g, Stove B 250 g]
---
system:
You help {{ customer }} with questions about our shop.
{% for p in products %}
- {{ p }}
{% endfor %}

# user:
{{ question }}

assistant:
Happy to help.

user:
Please be brief.
`;

describe('Prompty files (.prompty), read unchanged', () => {
  let dir: string;
  afterEach(() => removeDir(dir));

  async function load(files: Record<string, string>) {
    dir = await tmpProject(files);
    const project = await loadProject({ root: dir, paths: [dir] });
    return { project, messages: project.diagnostics.map((d) => formatDiagnostic(d, (f) => path.relative(dir, f))) };
  }

  it('front matter, role sections, loops and the sample become a prompt with a runnable sample case', async () => {
    const { project, messages } = await load({ 'shop.prompty': SHOP });
    assert.deepEqual(messages, []);
    const [c] = project.cases;
    assert.equal(c.id, 'shop.prompty::sample::sample');
    assert.equal(c.prompt.name, 'Shop assistant');
    assert.equal(c.request.model, 'gpt-4o-mini');
    assert.equal(c.request.max_tokens, 150);
    assert.equal(c.request.temperature, 0.1);
    assert.deepEqual(c.request.stop, ['###']);
    assert.deepEqual(c.request.messages, [
      { role: 'system', content: 'You help Ada with questions about our shop.\n\n- Stove A 300 g\n\n- Stove B 250 g' },
      { role: 'user', content: 'Which stove is lightest?' },
      { role: 'assistant', content: 'Happy to help.' },
      { role: 'user', content: 'Please be brief.' },
    ]);
    assert.equal(c.range.start.line, 26, 'the case sits at sample:');
  });

  it('suites target a .prompty by path; inputs declare the variables and their defaults', async () => {
    const suite = 'prompt: shop.prompty\ncases:\n  - name: tents\n    vars: { question: "Tents?" }\n    assert: [{ type: icontains, value: tents }]\n';
    const { project, messages } = await load({ 'shop.prompty': SHOP, 'shop.suite.yml': suite });
    assert.deepEqual(messages, []);
    const tents = project.cases.find((c) => c.name === 'tents')!;
    assert.match(tents.request.messages[0].content, /^You help friend with/);
    assert.equal(tents.id, 'shop.suite.yml::shop::tents');
  });

  it('a sample in a JSON file beside it', async () => {
    const { project, messages } = await load({ 'shop.prompty': SHOP.replace(/sample:\n  customer: Ada\n  question: Which stove is lightest\?\n  products: \[Stove A 300 g, Stove B 250 g\]\n/, 'sample: ${file:shop.sample.json}\n'), 'shop.sample.json': '{"question": "From the file?"}' });
    assert.deepEqual(messages, []);
    assert.equal(project.cases[0].request.messages[1].content, 'From the file?');
  });

  it('text before the first role line is the system message, as Prompty reads it', async () => {
    const { project, messages } = await load({ 'shop.prompty': SHOP.replace('system:\nYou help', 'You help') });
    assert.deepEqual(messages, []);
    assert.deepEqual(project.cases[0].request.messages.map((m) => m.role), ['system', 'user', 'assistant', 'user']);
    assert.match(project.cases[0].request.messages[0].content, /^You help Ada with questions about our shop\./);
  });

  it('every problem is located in the .prompty file itself', async () => {
    const cases: [string, RegExp][] = [
      ['name: x\n', /^bad\.prompty:1:1: a \.prompty file starts with front matter between two --- lines$/],
      ['---\nname: x\n', /^bad\.prompty:1:1: the front matter has no closing --- line$/],
      // Text before the first role line is the system message (as Prompty reads it), its lines kept.
      [SHOP.replace('system:\nYou help {{ customer }}', 'You help {{ customer( }}'), /^bad\.prompty:32:\d+: template/],
      [SHOP.replace('system:\nYou help', '\nYou help').replace('{% endfor %}', '{% endfro %}'), /^bad\.prompty:3[3-6]:\d+: template/],
      [SHOP.replace('{% endfor %}', '{% endfro %}'), /^bad\.prompty:3[3-6]:\d+: template/],
      // What is richer than PromptGate is a warning; what it does not run skips the file's cases, with the reason.
      [SHOP.replace('tags: [retail]', 'tagz: [retail]'), /^bad\.prompty:7:\d+: warning: 'tagz' is not read by PromptGate$/],
      [SHOP.replace('{{ question }}', '{{ questoin }}'), /^bad\.prompty:39:4: warning: variable 'questoin' is not declared in inputs \(did you mean 'question'\?\); without a value it renders empty$/],
      [SHOP.replace('api: chat', 'api: completion'), /^bad\.prompty:9:8: warning: api completion is not run by PromptGate \(it sends chat requests\); the file's cases are skipped$/],
      ['---\nname: a\nmodel: gpt-4o-mini\nsample:\n  question: Q\n---\nuser:\n{{ questoin }}\n', /^bad\.prompty:\d+:\d+: warning: case 'sample': variable 'questoin' has no value \(used at bad\.prompty:8:4\); it renders empty, as in Prompty$/],
      [SHOP.replace('    name: gpt-4o-mini\n', ''), /^bad\.prompty:\d+:\d+: warning: the model is not named: .*; the file's cases are skipped$/],
    ];
    for (const [text, re] of cases) {
      const { messages } = await load({ 'bad.prompty': text });
      await removeDir(dir);
      assert.ok(messages.some((m) => re.test(m)), `${re}\n${messages.join('\n')}`);
    }
  });

  it("reads Prompty's current schema: connection and options, model.provider and apiType, inputs as a list, template.format.kind, plain values as the sample", async () => {
    const current = `---
name: current
model:
  id: gpt-4.1-mini
  provider: openai
  apiType: chat
  connection:
    kind: key
    endpoint: \${env:OPENAI_BASE_URL}
  options:
    temperature: 0.2
    maxOutputTokens: 100
inputs:
  - name: firstName
    kind: string
    default: Jane
  - name: history
    kind: array
    default: []
template:
  format:
    kind: jinja2
  parser:
    kind: prompty
---
system:
Help {{firstName}} {{ lastName }}.
{% for h in history %}{{ h }}{% endfor %}

user:
{{question}}
`;
    const legacy = `---
name: legacy
model:
  api: chat
  connection:
    azure_deployment: gpt-35-turbo
inputs:
  firstName: Jane
  chat_history: []
  question: What is the meaning of life?
---
system:
You help {{firstName}}.
{% for item in chat_history %}{{item.role}}: {{item.content}}{% endfor %}
user:
{{question}}
`;
    const { project, messages } = await load({ 'current.prompty': current, 'legacy.prompty': legacy, 'nomodel.prompty': '---\nname: nomodel\n---\nuser:\nHi', 'sub/prompty.json': '{"default": {"type": "openai", "name": "gpt-4o-mini"}}', 'sub/inherits.prompty': '---\nname: inherits\n---\nuser:\nHi' });
    const byName = (n: string) => project.cases.find((k) => k.prompt.name === n)!;
    const c = byName('current');
    assert.equal(c.prompt.model, 'gpt-4.1-mini');
    assert.deepEqual([c.request.temperature, c.request.max_tokens], [0.2, 100]);
    // Undeclared and unset variables render empty, as Prompty's Jinja renders them.
    assert.deepEqual(c.request.messages.map((m) => m.content), ['Help Jane .', '']);
    assert.ok(messages.some((m) => /current\.prompty:\d+:\d+: warning: variable 'lastName' is not declared in inputs/.test(m)), messages.join('\n'));
    const l = byName('legacy');
    assert.equal(l.prompt.provider.id, 'azure');
    assert.equal(l.prompt.model, 'gpt-35-turbo');
    assert.deepEqual(l.vars, { firstName: 'Jane', chat_history: [], question: 'What is the meaning of life?' }, 'plain input values are the sample, [] an array');
    assert.equal(l.skip, undefined);
    // No model anywhere: skipped with the reason; a prompty.json beside the file names one.
    assert.match(byName('nomodel').skip?.reason ?? '', /the model is not named/);
    assert.equal(byName('inherits').prompt.model, 'gpt-4o-mini');
    assert.equal(byName('inherits').skip, undefined);
  });

  it('runs through the CLI against an OpenAI-compatible server, with the base URL overridden', async () => {
    dir = await tmpProject({ 'shop.prompty': SHOP });
    const server = await startFakeOpenAI({});
    try {
      const r = await cli(['test'], dir, { OPENAI_BASE_URL: server.baseURL, OPENAI_API_KEY: 'sk-test' });
      assert.equal(r.code, 0, r.stdout + r.stderr);
      assert.match(r.stdout, /shop\.prompty +\w+ +sample +gpt-4o-mini +1 +1 +1/);
      assert.equal(server.requests.length, 1);
      assert.equal(server.requests[0].body.messages.length, 4);
      assert.equal(server.requests[0].body.max_tokens, 150);
    } finally {
      await server.close();
    }
  });
});
