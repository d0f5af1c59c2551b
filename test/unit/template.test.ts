import { strict as assert } from 'node:assert';
import { TemplateError, referencedVariables, renderTemplate } from '../../src/core';

describe('templates', () => {
  it('renders {{variable}} without HTML escaping', () => {
    assert.equal(renderTemplate('Hi {{name}} & {{ other }}', { name: '<b>Ann</b>', other: '"x"' }), 'Hi <b>Ann</b> & "x"');
  });

  it('renders loops, conditionals and filters', () => {
    const src = '{% for item in items %}{{ loop.index }}. {{ item | upper }}\n{% endfor %}{% if vip %}VIP{% else %}regular{% endif %}';
    assert.equal(renderTemplate(src, { items: ['a', 'b'], vip: false }), '1. A\n2. B\nregular');
  });

  it('lists the variables a template reads, leaving out loop variables, set targets and globals', () => {
    const src = 'Hi {{ name | title }}\n{% for x in items %}{{ x.label }} {{ loop.index }}{% endfor %}\n{% set n = 3 %}{{ n }} {{ range(2) }} {{ user.address.city }}';
    assert.deepEqual(
      referencedVariables(src).map((r) => r.name),
      ['name', 'items', 'user'],
    );
  });

  it('gives zero-based positions of variable references', () => {
    const [ref] = referencedVariables('line one\n  {{ customer }}');
    assert.deepEqual(ref, { name: 'customer', line: 1, character: 5 });
  });

  it('throws on an undefined variable instead of rendering an empty string', () => {
    assert.throws(() => renderTemplate('Hello {{ nmae }}', { name: 'x' }), (e: unknown) => e instanceof TemplateError && /undefined/.test(e.message) && e.position?.line === 0);
  });

  it('reports syntax errors with their position', () => {
    assert.throws(
      () => referencedVariables('ok\n{% for x in %}'),
      (e: unknown) => e instanceof TemplateError && /template syntax/.test(e.message) && e.position?.line === 1,
    );
  });

  it('leaves text without template syntax untouched', () => {
    assert.equal(renderTemplate('plain {text} only', {}), 'plain {text} only');
  });
});

describe('templates from a stranger', () => {
  // Known ways out of a nunjucks template to the JavaScript runtime (published sandbox escapes and
  // variations); each must fail with a template error, and none may run anything.
  const ESCAPES = [
    `{{ range.constructor("return process.pid")() }}`,
    `{{ range.constructor("return process.mainModule.require('fs').writeFileSync('/tmp/pwned', 'x')")() }}`,
    `{{ cycler.constructor("return process")() }}`,
    `{{ joiner.constructor("return process")() }}`,
    `{{ "".constructor.constructor("return process")() }}`,
    `{{ [].constructor.constructor("return process")() }}`,
    `{{ ({}).constructor.constructor("return process")() }}`,
    `{{ range["const" ~ "ructor"]("return process")() }}`,
    `{% set c = "constructor" %}{{ range[c]("return process")() }}`,
    `{{ ({}).__proto__.constructor }}`,
    `{{ range.__lookupGetter__("__proto__") }}`,
    `{{ range.prototype }}`,
    `{{ range.caller }}`,
    `{{ name.constructor.constructor("return process")() }}`,
    `{{ [range] | sort(false, false, "constructor") }}`,
    `{% macro m() %}{% endmacro %}{{ m.constructor("return process")() }}`,
  ];
  for (const source of ESCAPES) {
    it(`refuses ${source.slice(0, 70)}`, () => {
      assert.throws(() => renderTemplate(source, { name: 'ann' }), (e: unknown) => e instanceof TemplateError && /may not read|resolved to undefined/.test(e.message));
    });
  }

  it('still renders what prompts use: methods of strings and lists, loops, filters, ranges', () => {
    assert.equal(
      renderTemplate('{{ name.toUpperCase() }} {{ items | join(", ") }} {{ items.length }} {% for i in range(3) %}{{ loop.index }}{% endfor %} {{ range(5, 0, -2) | join }} {{ "a-b".split("-") | last }}', { name: 'ann', items: ['a', 'b'] }),
      'ANN a, b 2 123 531 b',
    );
  });

  // Each ends with a template error well within its budget, instead of running for minutes
  // or filling memory.
  const HOGS: [string, RegExp][] = [
    ['{% for i in range(0, 100000000) %}x{% endfor %}', /range\(\) of 100,000,000 numbers/],
    ['{% for i in range(0, 1000000) %}{% for j in range(0, 1000000) %}x{% endfor %}{% endfor %}', /steps/],
    ['{{ "x" | indent(1000000000) }}', /larger than/],
    ['{{ "x" | center(1000000000) }}', /larger than/],
    ['{{ [1] | batch(1000000000, "x") }}', /larger than/],
    ['{% set s = "xxxxxxxxxx" %}{% for i in range(40) %}{% set s = s ~ s %}{% endfor %}{{ s }}', /characters/],
    ['{{ "xxxxxxxxxxxxxxxxxxxx" | replace("", "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx") | replace("", "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx") | replace("", "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx") | replace("", "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx") }}', /characters/],
    ['{% macro a(n) %}{{ a(n) }}{% endmacro %}{{ a(1) }}', /call stack/],
    [
      '{% macro b() %}xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx{% endmacro %}' +
        ['c', 'd', 'e', 'f', 'g', 'h'].map((m, i) => `{% macro ${m}() %}${`{{ ${'bcdefg'[i]}() }}`.repeat(8)}{% endmacro %}`).join('') +
        '{{ h() }}'.repeat(8),
      /characters|steps/,
    ],
  ];
  for (const [source, reason] of HOGS) {
    it(`stops ${source.slice(0, 70)}`, () => {
      assert.throws(() => renderTemplate(source, {}), (e: unknown) => e instanceof TemplateError && reason.test(e.message));
    });
  }
});
