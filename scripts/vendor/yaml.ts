// Built to dist/vendor/yaml.js: loaded by src/core/vendor.ts to write YAML (export); a test run never
// needs it. Reading YAML is js-yaml in the bundle (src/core/yamlfile.ts).
export { dump } from 'js-yaml';
