// Built to dist/vendor/ajv.js: loaded by src/core/vendor.ts when a JSON Schema is compiled.
export { default } from 'ajv';
