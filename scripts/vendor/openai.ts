// Built to dist/vendor/openai.js: loaded by src/core/vendor.ts on the first live call.
export { default, AzureOpenAI } from 'openai';
