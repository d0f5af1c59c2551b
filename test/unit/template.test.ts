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
