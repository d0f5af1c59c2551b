import * as path from 'node:path';

/*
 * Libraries a run often does not need (the openai SDK for a cached or replayed run, JSON Schema,
 * the JUnit writer, CSV, YAML writing, the attack corpus) are built into their own files beside the bundle
 * (dist/vendor/), so starting the CLI or the extension does not parse them; each loads on first use.
 * From source (the unit tests) they are plain requires. The build defines PROMPTGATE_BUNDLE, and
 * esbuild drops the other branch, so the bundle does not carry them twice.
 */
const fromVendor = (name: string): unknown => require(path.join(__dirname, 'vendor', name));

type Mod<T> = T & { default?: T };
const unwrap = <T>(m: Mod<T>): T => m.default ?? m;

export const vendor = {
  openai: () => unwrap((process.env.PROMPTGATE_BUNDLE === '1' ? fromVendor('openai.js') : require('openai')) as Mod<typeof import('openai').default>),
  azureOpenAI: () => ((process.env.PROMPTGATE_BUNDLE === '1' ? fromVendor('openai.js') : require('openai')) as typeof import('openai')).AzureOpenAI,
  anthropic: () => unwrap((process.env.PROMPTGATE_BUNDLE === '1' ? fromVendor('anthropic.js') : require('@anthropic-ai/sdk')) as Mod<typeof import('@anthropic-ai/sdk').default>),
  ajv: () => unwrap((process.env.PROMPTGATE_BUNDLE === '1' ? fromVendor('ajv.js') : require('ajv')) as Mod<typeof import('ajv').default>),
  junit: () => unwrap((process.env.PROMPTGATE_BUNDLE === '1' ? fromVendor('junit-report-builder.js') : require('junit-report-builder')) as Mod<typeof import('junit-report-builder').default>),
  csvParse: () => ((process.env.PROMPTGATE_BUNDLE === '1' ? fromVendor('csv-parse-sync.js') : require('csv-parse/sync')) as typeof import('csv-parse/sync')).parse,
  /** js-yaml's writer (its reader is in the bundle already: src/core/yamlfile.ts). */
  yamlDump: () => ((process.env.PROMPTGATE_BUNDLE === '1' ? fromVendor('yaml.js') : require('js-yaml')) as Pick<typeof import('js-yaml'), 'dump'>).dump,
  /** mathjs's expression evaluator (sandboxed: no access to JavaScript), for derived metrics. */
  mathEvaluate: () => ((process.env.PROMPTGATE_BUNDLE === '1' ? fromVendor('mathjs.js') : require('mathjs')) as Pick<typeof import('mathjs'), 'evaluate'>).evaluate,
  mathParse: () => ((process.env.PROMPTGATE_BUNDLE === '1' ? fromVendor('mathjs.js') : require('mathjs')) as Pick<typeof import('mathjs'), 'parse'>).parse,
  /** OpenTelemetry's API, trace SDK and OTLP/HTTP exporter, for runs that export traces. */
  otel: () =>
    (process.env.PROMPTGATE_BUNDLE === '1'
      ? fromVendor('otel.js')
      : { ...require('@opentelemetry/api'), ...require('@opentelemetry/sdk-trace'), ...require('@opentelemetry/exporter-trace-otlp-http'), ...require('@opentelemetry/resources') }) as Pick<typeof import('@opentelemetry/api'), 'context' | 'trace' | 'SpanKind' | 'SpanStatusCode'> &
      Pick<typeof import('@opentelemetry/sdk-trace'), 'TracerProvider' | 'BatchSpanProcessor'> &
      Pick<typeof import('@opentelemetry/exporter-trace-otlp-http'), 'OTLPTraceExporter'> &
      Pick<typeof import('@opentelemetry/resources'), 'resourceFromAttributes'>,
  corpus: () => (process.env.PROMPTGATE_BUNDLE === '1' ? fromVendor('corpus.json') : require('./redteam/corpus.json')) as unknown,
};
