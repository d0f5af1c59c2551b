// Built to dist/vendor/anthropic.js: loaded by src/core/vendor.ts on the first call to Anthropic.
export { default } from '@anthropic-ai/sdk';
