// Built to dist/vendor/csv-parse-sync.js: loaded by src/core/vendor.ts for promptfoo CSV tests.
export { parse } from 'csv-parse/sync';
