// Built to dist/vendor/yaml.js: loaded by src/core/vendor.ts to write YAML (export) and to read
// promptfoo's YAML vars files; a test run never needs it.
export { parse, stringify } from 'yaml';
