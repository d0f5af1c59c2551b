import { vendor } from '../vendor';
import { caseModel, type CaseSpec } from '../types/cases';
import type { SessionEvent } from '../types/events';
import type { CaseResult } from '../types/results';

type Otel = ReturnType<typeof vendor.otel>;
type Span = ReturnType<ReturnType<InstanceType<Otel['TracerProvider']>['getTracer']>['startSpan']>;
type Attributes = Record<string, string | number | boolean | string[] | undefined>;

/**
 * Where a run's traces go: `--otel URL`, or `--otel` / the standard environment variables
 * (OTEL_EXPORTER_OTLP_TRACES_ENDPOINT as is, OTEL_EXPORTER_OTLP_ENDPOINT + /v1/traces), else the
 * collector's default on localhost. Undefined: no traces.
 */
export function tracesEndpoint(env: Record<string, string | undefined>, flag?: string | boolean): string | undefined {
  const base = (url: string) => `${url.replace(/\/+$/, '')}/v1/traces`;
  if (typeof flag === 'string') return /\/v1\/traces\/?$/.test(flag) ? flag : base(flag);
  const fromEnv = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT || (env.OTEL_EXPORTER_OTLP_ENDPOINT ? base(env.OTEL_EXPORTER_OTLP_ENDPOINT) : undefined);
  if (flag === false || env.OTEL_SDK_DISABLED === 'true') return undefined;
  return fromEnv ?? (flag ? base('http://localhost:4318') : undefined);
}

/**
 * A run as OpenTelemetry traces, with the GenAI semantic conventions: a span for the run, each case,
 * each sample and each model call (`chat <model>`: provider, requested and answering model, tokens,
 * finish reason) and each tool call of an agent (`execute_tool <name>`). Fed the session's events as
 * they come; times are the events' own, a model call is placed by its recorded latency. Exported over
 * OTLP/HTTP (JSON) in batches; `close` flushes and says why an export failed.
 */
export class RunTracer {
  private readonly otel: Otel;
  private readonly provider: InstanceType<Otel['TracerProvider']>;
  private readonly tracer: ReturnType<InstanceType<Otel['TracerProvider']>['getTracer']>;
  private run?: Span;
  private specs = new Map<string, CaseSpec>();
  private readonly cases = new Map<string, { span: Span; end: number }>();
  private readonly samples = new Map<string, { span: Span; start: number }>();
  private failure?: string;
  /** Spans made so far. */
  spans = 0;

  constructor(
    readonly url: string,
    env: Record<string, string | undefined>,
    private readonly now: () => number,
  ) {
    this.otel = vendor.otel();
    const { TracerProvider, BatchSpanProcessor, OTLPTraceExporter, resourceFromAttributes } = this.otel;
    const exporter = new OTLPTraceExporter({ url, headers: parseHeaders(env.OTEL_EXPORTER_OTLP_TRACES_HEADERS ?? env.OTEL_EXPORTER_OTLP_HEADERS) });
    // An export that fails is said once at the end; the run goes on.
    const exportOnce = exporter.export.bind(exporter);
    exporter.export = (spans, done) =>
      exportOnce(spans, (result) => {
        if (result.code !== 0) this.failure ??= result.error?.message ?? 'the collector refused the spans';
        done(result);
      });
    this.provider = new TracerProvider({ resource: resourceFromAttributes({ 'service.name': env.OTEL_SERVICE_NAME || 'promptgate' }), spanProcessors: [new BatchSpanProcessor({ exporter, maxExportBatchSize: 512, scheduledDelayMillis: 1000 })] });
    const tracer = this.provider.getTracer('promptgate');
    this.tracer = { startSpan: (...args: Parameters<typeof tracer.startSpan>) => (this.spans++, tracer.startSpan(...args)) } as typeof tracer;
  }

  onEvent(e: SessionEvent): void {
    const t = this.now();
    if (e.type === 'planned') {
      this.specs = new Map(e.cases.map((c) => [c.id, c]));
      this.run = this.tracer.startSpan('promptgate run', { startTime: t, attributes: clean({ 'promptgate.run.id': e.runId, 'promptgate.cases': e.cases.length }) });
    } else if (e.type === 'case-started') this.sampleSpan(e.caseId, e.sample, t);
    else if (e.type === 'case-finished') this.finishSample(e.result, t);
    else if (e.type === 'case-verdict') {
      const c = this.cases.get(e.outcome.spec.id);
      if (!c) return;
      const v = e.outcome.verdict;
      c.span.setAttributes(clean({ 'promptgate.verdict': v.kind, 'promptgate.pass_rate': v.current.rate, 'promptgate.samples': v.current.total + v.current.errored, 'promptgate.baseline.pass_rate': v.baseline?.rate, 'promptgate.p_value': v.pDrop }));
      if (!v.passing) c.span.setStatus({ code: this.otel.SpanStatusCode.ERROR, message: `${v.kind}: pass rate ${(v.current.rate * 100).toFixed(0)}%` });
      c.span.end(c.end);
      this.cases.delete(e.outcome.spec.id);
    } else if (e.type === 'run-finished') {
      for (const c of this.cases.values()) c.span.end(c.end);
      this.cases.clear();
      const r = e.report;
      this.run?.setAttributes(clean({ 'promptgate.gate': r.gate, 'promptgate.passed': r.summary.passed, 'promptgate.failed': r.summary.failed, 'promptgate.errored': r.summary.errored, 'promptgate.cost_usd': r.summary.cost, 'gen_ai.usage.input_tokens': r.summary.tokens.promptTokens, 'gen_ai.usage.output_tokens': r.summary.tokens.completionTokens }));
      if (r.gate !== 'passed') this.run?.setStatus({ code: this.otel.SpanStatusCode.ERROR, message: r.stopped?.reason ?? 'gate failed' });
      this.run?.end(t);
    }
  }

  /** Flushes every span; the reason when the collector could not be reached or refused them. */
  async close(): Promise<string | undefined> {
    this.run?.end(this.now());
    try {
      await this.provider.forceFlush();
      await this.provider.shutdown();
    } catch (err) {
      this.failure ??= (err as Error).message;
    }
    return this.failure;
  }

  private caseSpan(caseId: string, t: number): { span: Span; end: number } {
    let c = this.cases.get(caseId);
    if (c) return c;
    const spec = this.specs.get(caseId);
    const parent = this.run ? this.otel.trace.setSpan(this.otel.context.active(), this.run) : undefined;
    const span = this.tracer.startSpan(`promptgate case ${spec?.name ?? caseId}`, { startTime: t, attributes: clean({ 'promptgate.case.id': caseId, 'promptgate.suite': spec?.suite, 'promptgate.prompt': spec?.prompt.relFile, 'code.file.path': spec?.relFile, 'code.line.number': spec && spec.range.start.line + 1 }) }, parent);
    c = { span, end: t };
    this.cases.set(caseId, c);
    return c;
  }

  private sampleSpan(caseId: string, sample: number, t: number): { span: Span; start: number } {
    const key = `${caseId}#${sample}`;
    let s = this.samples.get(key);
    if (s) return s;
    const c = this.caseSpan(caseId, t);
    const span = this.tracer.startSpan('promptgate sample', { startTime: t, attributes: { 'promptgate.sample': sample } }, this.otel.trace.setSpan(this.otel.context.active(), c.span));
    s = { span, start: t };
    this.samples.set(key, s);
    return s;
  }

  private finishSample(r: CaseResult, t: number): void {
    const s = this.sampleSpan(r.caseId, r.sample, t);
    this.samples.delete(`${r.caseId}#${r.sample}`);
    const spec = this.specs.get(r.caseId);
    const ctx = this.otel.trace.setSpan(this.otel.context.active(), s.span);
    const provider = spec?.prompt.provider.id ?? 'openai';
    const chat = (start: number, call: { latencyMs?: number; model?: string; input?: number; output?: number; finish?: string; source?: string; error?: string }) => {
      const span = this.tracer.startSpan(`chat ${(spec && caseModel(spec)) ?? ''}`.trim(), {
        kind: this.otel.SpanKind.CLIENT,
        startTime: start,
        attributes: clean({ 'gen_ai.operation.name': 'chat', 'gen_ai.provider.name': provider, 'gen_ai.system': provider, 'gen_ai.request.model': (spec && caseModel(spec)), 'gen_ai.response.model': call.model, 'gen_ai.usage.input_tokens': call.input, 'gen_ai.usage.output_tokens': call.output, 'gen_ai.response.finish_reasons': call.finish ? [call.finish] : undefined, 'promptgate.source': call.source }),
      }, ctx);
      if (call.error) span.setStatus({ code: this.otel.SpanStatusCode.ERROR, message: call.error });
      // A cached or replayed answer took no time now: its span is an instant, its recorded latency an attribute.
      const took = call.source === 'live' || call.source === undefined ? (call.latencyMs ?? 0) : 0;
      if (call.latencyMs !== undefined) span.setAttribute('promptgate.latency_ms', call.latencyMs);
      span.end(start + took);
      return start + took;
    };
    if (r.steps?.length) {
      let at = s.start;
      for (const step of r.steps) {
        if (step.kind === 'model') at = chat(at, { latencyMs: step.latencyMs, model: r.servedModel, input: step.usage?.promptTokens, output: step.usage?.completionTokens, finish: step.finishReason, source: step.source });
        else {
          const span = this.tracer.startSpan(`execute_tool ${step.name}`, { startTime: at, attributes: clean({ 'gen_ai.operation.name': 'execute_tool', 'gen_ai.tool.name': step.name, 'promptgate.tool.injected': step.injected }) }, ctx);
          if (step.error) span.setStatus({ code: this.otel.SpanStatusCode.ERROR, message: step.error });
          span.end(at);
        }
      }
    } else if (r.status !== 'skipped' && (r.latencyMs !== undefined || r.error)) {
      chat(s.start, { latencyMs: r.latencyMs, model: r.servedModel, input: r.usage?.promptTokens, output: r.usage?.completionTokens, finish: r.finishReason, source: r.source, error: r.error && `${r.error.kind}: ${r.error.message}` });
    }
    s.span.setAttributes(clean({ 'promptgate.status': r.status, 'promptgate.score': r.score, 'promptgate.cost_usd': r.cost }));
    if (r.status === 'failed' || r.status === 'errored') s.span.setStatus({ code: this.otel.SpanStatusCode.ERROR, message: r.error?.message ?? r.assertions.find((a) => !a.pass)?.reason ?? r.status });
    s.span.end(t);
    const c = this.cases.get(r.caseId);
    if (c) c.end = Math.max(c.end, t);
  }
}

function clean(a: Attributes): Record<string, string | number | boolean | string[]> {
  return Object.fromEntries(Object.entries(a).filter(([, v]) => v !== undefined)) as Record<string, string | number | boolean | string[]>;
}

/** `key=value,key2=value2` (OTEL_EXPORTER_OTLP_HEADERS). */
function parseHeaders(text: string | undefined): Record<string, string> | undefined {
  if (!text) return undefined;
  return Object.fromEntries(text.split(',').map((kv) => kv.split('=')).filter((p) => p.length >= 2).map(([k, ...v]) => [decodeURIComponent(k.trim()), decodeURIComponent(v.join('=').trim())]));
}
