// Built to dist/vendor/otel.js: loaded by src/core/vendor.ts only for runs that export traces
// (--otel, OTEL_EXPORTER_OTLP_ENDPOINT): the OpenTelemetry API, trace SDK, OTLP/HTTP exporter and resources.
export { context, trace, SpanKind, SpanStatusCode } from '@opentelemetry/api';
export { TracerProvider, BatchSpanProcessor } from '@opentelemetry/sdk-trace';
export { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
export { resourceFromAttributes } from '@opentelemetry/resources';
