// Built to dist/vendor/junit-report-builder.js: loaded by src/core/vendor.ts for --junit.
export { default } from 'junit-report-builder';
