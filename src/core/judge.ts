import { z } from 'zod';
import { hashOf } from './canonical';
import { ProviderError, type Provider, type ProviderRequest } from './providers/types';
import { requestKey, type ResponseStore } from './store';
import { estimateCost, type PriceTable } from './providers/pricing';
import type { JudgeAnswer, JudgeContext, JudgeQuestion } from './types/assertions';

export interface JudgeSettings {
  /** The judge model, e.g. gpt-4o-mini. */
  model: string;
  /** How many times each question is asked; agreement is reported with every score. */
  samples: number;
  embeddingModel: string;
}

export const DEFAULT_JUDGE: JudgeSettings = { model: 'gpt-4o-mini', samples: 1, embeddingModel: 'text-embedding-3-small' };

const AnswerSchema = z.object({ reason: z.string(), pass: z.boolean(), score: z.number().min(0).max(1) }).strict();

const ANSWER_FORMAT: ProviderRequest['response_format'] = {
  type: 'json_schema',
  json_schema: {
    name: 'judge_verdict',
    strict: true,
    schema: {
      type: 'object',
      additionalProperties: false,
      required: ['reason', 'pass', 'score'],
      properties: { reason: { type: 'string' }, pass: { type: 'boolean' }, score: { type: 'number', minimum: 0, maximum: 1 } },
    },
  },
};

/** Parses a judge's answer strictly; anything else is a `judge` error, never a pass. */
export function parseJudgeAnswer(text: string): JudgeAnswer {
  let data: unknown;
  try {
    data = JSON.parse(text.trim().replace(/^```(?:json)?\s*|\s*```$/g, ''));
  } catch {
    throw new ProviderError('judge', `the judge did not answer JSON: ${JSON.stringify(text.slice(0, 120))}`);
  }
  const parsed = AnswerSchema.safeParse(data);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new ProviderError('judge', `the judge's answer is malformed (${issue.path.join('.') || 'answer'}: ${issue.message}): ${JSON.stringify(text.slice(0, 120))}`);
  }
  return parsed.data;
}

export function judgeRequest(model: string, question: JudgeQuestion): ProviderRequest {
  const messages = 'messages' in question ? question.messages : [{ role: 'system' as const, content: question.system }, { role: 'user' as const, content: question.user }];
  return { model, messages, response_format: ANSWER_FORMAT };
}

/** Majority pass, mean score, and how many of the answers agree with the majority. */
export function aggregateAnswers(answers: readonly JudgeAnswer[]): JudgeAnswer & { samples: number; agreement: number; scores: number[] } {
  const passes = answers.filter((a) => a.pass).length;
  const pass = passes * 2 > answers.length;
  const majority = answers.filter((a) => a.pass === pass);
  return {
    pass,
    score: answers.reduce((s, a) => s + a.score, 0) / answers.length,
    reason: majority[0]?.reason ?? answers[0].reason,
    samples: answers.length,
    agreement: majority.length / answers.length,
    scores: answers.map((a) => a.score),
  };
}

/**
 * Asks the judge through a provider, each question `samples` times. Answers are cached in their own
 * store (keyed by the judge request, which holds the rubric and the output), so a changed rubric
 * re-judges stored outputs without calling the model under test.
 */
export class Judge {
  /** Live judge calls of this run and what they cost (cache hits and recordings cost nothing). */
  readonly spent = { calls: 0, tokens: 0, usd: 0 };

  constructor(
    private readonly provider: Provider,
    private readonly settings: JudgeSettings,
    private readonly cache: ResponseStore | undefined,
    private readonly prices: PriceTable = {},
  ) {}

  /** A judge for one assertion: its own sample count or model where the assertion sets them. */
  context(signal?: AbortSignal, override: { samples?: number; model?: string } = {}): JudgeContext {
    const samples = override.samples ?? this.settings.samples;
    const model = override.model ?? this.settings.model;
    return {
      grade: async (question) => {
        const request = judgeRequest(model, question);
        const answers: JudgeAnswer[] = [];
        for (let j = 0; j < samples; j++) answers.push(parseJudgeAnswer(await this.ask(request, j, signal)));
        return aggregateAnswers(answers);
      },
      embed: (texts) => this.embed(texts, signal),
    };
  }

  /** Identical questions in flight share one call (with a cache only: without one every call is live). */
  private readonly inFlight = new Map<string, Promise<string>>();

  private ask(request: ProviderRequest, sample: number, signal?: AbortSignal): Promise<string> {
    if (!this.cache) return this.askOnce(requestKey(request, sample), request, sample, signal);
    const key = requestKey(request, sample);
    let pending = this.inFlight.get(key);
    if (!pending) {
      // Without this, whether a second identical output hit the cache depended on timing, and so did
      // the number of judge calls and their cost.
      pending = this.askOnce(key, request, sample, signal).finally(() => this.inFlight.delete(key));
      this.inFlight.set(key, pending);
    }
    return pending;
  }

  private async askOnce(key: string, request: ProviderRequest, sample: number, signal?: AbortSignal): Promise<string> {
    const hit = await this.cache?.get(key);
    if (hit && hit.provider === this.provider.id) return hit.response.output;
    const response = await this.provider.complete(request, { sample, signal });
    if (!this.provider.recorded) {
      this.spent.calls++;
      this.spent.tokens += response.usage?.totalTokens ?? 0;
      this.spent.usd += estimateCost(this.prices, request.model, response.usage) ?? 0;
      await this.cache?.put({ key, provider: this.provider.id, sample, request, response: { ...response, latencyMs: undefined }, latencyMs: 0 }).catch(() => undefined);
    }
    return response.output;
  }

  private async embed(texts: string[], signal?: AbortSignal): Promise<number[][]> {
    if (!this.provider.embed) throw new ProviderError('config', `the judge provider '${this.provider.id}' has no embeddings endpoint`);
    const key = hashOf({ embeddings: this.settings.embeddingModel, input: texts });
    const hit = await this.cache?.getVectors(key);
    if (hit && hit.provider === this.provider.id) return hit.vectors;
    const vectors = await this.provider.embed(texts, { model: this.settings.embeddingModel, signal });
    if (!this.provider.recorded) await this.cache?.putVectors({ key, provider: this.provider.id, vectors }).catch(() => undefined);
    return vectors;
  }
}
