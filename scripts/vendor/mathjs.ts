// Built to dist/vendor/mathjs.js: loaded by src/core/vendor.ts only for derived metrics (promptfoo's
// derivedMetrics), which are mathjs expressions as promptfoo evaluates them.
export { evaluate, parse } from 'mathjs';
