import { strict as assert } from 'node:assert';
import { parseEditorSettings } from '../../src/core';

describe('editor settings', () => {
  it('accepts valid settings and fills defaults', () => {
    assert.deepEqual(parseEditorSettings({ concurrency: 4, baseURL: 'http://127.0.0.1:8080/v1', samples: 'auto', runOnSave: false, budget: 0.5 }), {
      settings: { concurrency: 4, baseURL: 'http://127.0.0.1:8080/v1', samples: 'auto', runOnSave: false, budget: 0.5, registry: '', registryRefreshSeconds: 60, allowPython: false },
      problems: [],
    });
    assert.deepEqual(parseEditorSettings({}).settings, { runOnSave: true, baseURL: '', concurrency: null, samples: null, budget: null, registry: '', registryRefreshSeconds: 60, allowPython: false });
  });

  it('replaces each invalid setting by its default and names it, with the same limits as the config file', () => {
    const { settings, problems } = parseEditorSettings({ concurrency: 0, baseURL: 'not a url', samples: 2.5, runOnSave: true, budget: -1, registry: 'git+', registryRefreshSeconds: -5 });
    assert.deepEqual(settings, { runOnSave: true, baseURL: '', concurrency: null, samples: null, budget: null, registry: '', registryRefreshSeconds: 60, allowPython: false });
    assert.equal(problems.length, 6);
    assert.match(problems[0], /^promptgate\.baseURL: /);
    assert.match(problems[1], /^promptgate\.concurrency: .*using the default$/);
    assert.match(problems[2], /^promptgate\.samples: /);
    assert.match(problems[3], /^promptgate\.budget: /);
    assert.match(problems[4], /^promptgate\.registry: git\+ needs a URL/);
    assert.match(problems[5], /^promptgate\.registryRefreshSeconds: /);
  });
});
