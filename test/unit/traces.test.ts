import { strict as assert } from 'node:assert';
import * as http from 'node:http';
import * as path from 'node:path';
import { promises as fs } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { removeDir, tmpProject } from '../support/tmp';
import { cli } from '../support/cli';
import { tracesEndpoint } from '../../src/core';

interface OtlpSpan {
  traceId: string;
  spanId: string;
  parentSpanId?: string;
  name: string;
  kind: number;
  startTimeUnixNano: string;
  endTimeUnixNano: string;
  attributes: { key: string; value: Record<string, unknown> }[];
  status?: { code?: number; message?: string };
}

/** A local OTLP/HTTP receiver (JSON): every span posted to /v1/traces, with the service name. */
async function receiver(): Promise<{ url: string; spans: OtlpSpan[]; services: string[]; close(): Promise<void> }> {
  const spans: OtlpSpan[] = [];
  const services: string[] = [];
  const server = http.createServer((req, res) => {
    let body = '';
    req.on('data', (d: Buffer) => (body += d.toString()));
    req.on('end', () => {
      if (req.url !== '/v1/traces' || req.method !== 'POST') {
        res.writeHead(404).end();
        return;
      }
      const data = JSON.parse(body) as { resourceSpans: { resource: { attributes: OtlpSpan['attributes'] }; scopeSpans: { spans: OtlpSpan[] }[] }[] };
      for (const rs of data.resourceSpans) {
        services.push(String(rs.resource.attributes.find((a) => a.key === 'service.name')?.value.stringValue));
        for (const ss of rs.scopeSpans) spans.push(...ss.spans);
      }
      res.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, spans, services, close: () => new Promise((r) => server.close(() => r())) };
}

const attr = (s: OtlpSpan, key: string) => {
  const v = s.attributes.find((a) => a.key === key)?.value;
  if (!v) return undefined;
  if ('arrayValue' in v) return (v.arrayValue as { values: { stringValue: string }[] }).values.map((x) => x.stringValue);
  return v.stringValue ?? (v.intValue !== undefined ? Number(v.intValue) : undefined) ?? v.doubleValue ?? v.boolValue;
};

describe('OpenTelemetry traces of a run (built CLI, local OTLP/HTTP receiver)', () => {
  let dir: string;
  let otlp: Awaited<ReturnType<typeof receiver>>;
  before(async () => {
    dir = await tmpProject({});
    await fs.cp(path.resolve(__dirname, '../../examples'), dir, { recursive: true, filter: (src) => !src.includes(`${path.sep}runs`) });
  });
  beforeEach(async () => {
    otlp = await receiver();
  });
  afterEach(async () => otlp.close());
  after(async () => removeDir(dir));

  it('exports a span per run, case, sample, model call and tool call, with the GenAI conventions, in one trace', async () => {
    const r = await cli(['test', 'support-agent.prompt.yml', 'extract-order.prompt.yml', '--replay', '--otel', otlp.url], dir);
    assert.equal(r.code, 0, r.stderr);
    const spans = otlp.spans;
    assert.match(r.stderr, new RegExp(`${spans.length} spans exported to ${otlp.url}/v1/traces`));
    assert.deepEqual([...new Set(otlp.services)], ['promptgate']);
    assert.equal(new Set(spans.map((s) => s.traceId)).size, 1, 'one trace');
    const byId = new Map(spans.map((s) => [s.spanId, s]));
    const parent = (s: OtlpSpan) => (s.parentSpanId ? byId.get(s.parentSpanId) : undefined);
    const [run] = spans.filter((s) => s.name === 'promptgate run');
    assert.ok(run && !run.parentSpanId);
    assert.equal(attr(run, 'promptgate.gate'), 'passed');
    const cases = spans.filter((s) => s.name.startsWith('promptgate case '));
    assert.equal(cases.length, 9, '5 agent cases and 4 extraction cases');
    assert.ok(cases.every((c) => parent(c) === run));
    const refund = cases.find((c) => c.name === 'promptgate case refunds an eligible order')!;
    assert.equal(attr(refund, 'promptgate.verdict'), 'new');
    assert.equal(attr(refund, 'code.file.path'), 'support-agent.prompt.yml');
    const samples = spans.filter((s) => s.name === 'promptgate sample' && parent(s) === refund);
    assert.equal(samples.length, 1);
    // The agent's sample: model, tool, model, tool, model — in order, inside the sample.
    const steps = spans.filter((s) => parent(s) === samples[0]).sort((a, b) => Number(BigInt(a.startTimeUnixNano) - BigInt(b.startTimeUnixNano))); // stable: a tool call takes no time, so the next call starts as it ends
    assert.deepEqual(steps.map((s) => s.name), ['chat gpt-4o-mini', 'execute_tool lookup_order', 'chat gpt-4o-mini', 'execute_tool issue_refund', 'chat gpt-4o-mini']);
    const chat = steps[0];
    assert.equal(chat.kind, 3, 'a client span');
    assert.equal(attr(chat, 'gen_ai.operation.name'), 'chat');
    assert.equal(attr(chat, 'gen_ai.provider.name'), 'openai');
    assert.equal(attr(chat, 'gen_ai.request.model'), 'gpt-4o-mini');
    assert.equal(attr(chat, 'promptgate.source'), 'replay');
    assert.deepEqual(attr(chat, 'gen_ai.response.finish_reasons'), ['tool_calls']);
    assert.equal(attr(steps[1], 'gen_ai.tool.name'), 'lookup_order');
    // A one-call case: one chat span with its tokens and recorded latency.
    const extraction = cases.find((c) => c.name === 'promptgate case Cancel with order number')!;
    const [sample] = spans.filter((s) => parent(s) === extraction);
    const [call] = spans.filter((s) => parent(s) === sample);
    assert.equal(call.name, 'chat gpt-4o-mini');
    assert.ok(Number(attr(call, 'gen_ai.usage.input_tokens')) > 0 && Number(attr(call, 'gen_ai.usage.output_tokens')) > 0);
    for (const s of spans) assert.ok(BigInt(s.endTimeUnixNano) >= BigInt(s.startTimeUnixNano), `${s.name} ends after it starts`);
  });

  it('follows OTEL_EXPORTER_OTLP_ENDPOINT without a flag, exports nothing with --no-otel, and an unreachable collector is a warning, not a failure', async () => {
    const viaEnv = await cli(['test', 'extract-order.prompt.yml', '--replay'], dir, { OTEL_EXPORTER_OTLP_ENDPOINT: otlp.url, OTEL_SERVICE_NAME: 'nightly-eval' });
    assert.equal(viaEnv.code, 0, viaEnv.stderr);
    assert.ok(otlp.spans.length >= 1 + 4 * 3);
    assert.deepEqual([...new Set(otlp.services)], ['nightly-eval']);
    const count = otlp.spans.length;
    const off = await cli(['test', 'extract-order.prompt.yml', '--replay', '--no-otel'], dir, { OTEL_EXPORTER_OTLP_ENDPOINT: otlp.url });
    assert.equal(off.code, 0);
    assert.equal(otlp.spans.length, count);
    await otlp.close();
    const down = await cli(['test', 'extract-order.prompt.yml', '--replay', '--otel', otlp.url], dir);
    assert.equal(down.code, 0, 'the run itself passed');
    assert.match(down.stderr, /warning: traces could not be exported to http:\/\/127\.0\.0\.1:\d+\/v1\/traces: /);
    otlp = await receiver();
  });

  it('reads the endpoint as the OpenTelemetry variables say', () => {
    assert.equal(tracesEndpoint({}), undefined);
    assert.equal(tracesEndpoint({}, true), 'http://localhost:4318/v1/traces');
    assert.equal(tracesEndpoint({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318/' }), 'http://c:4318/v1/traces');
    assert.equal(tracesEndpoint({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_EXPORTER_OTLP_TRACES_ENDPOINT: 'http://t/x' }), 'http://t/x');
    assert.equal(tracesEndpoint({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318' }, false), undefined);
    assert.equal(tracesEndpoint({ OTEL_EXPORTER_OTLP_ENDPOINT: 'http://c:4318', OTEL_SDK_DISABLED: 'true' }), undefined);
    assert.equal(tracesEndpoint({}, 'http://h:1'), 'http://h:1/v1/traces');
  });
});
