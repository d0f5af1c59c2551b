/* promptfoo configurations as PromptGate reads them: the file's schema and what a reading yields. */
import { z } from 'zod';
import type { Range } from '../diagnostics';
import { lazily, type AssertionData, type PromptFileData, type ProviderOptions } from '../schema';
import type { PathSegment, YamlFile } from '../yamlfile';
import type { DerivedMetric } from '../types/cases';

/** A promptfoo configuration and its tests as PromptGate reads them (built on first use: see lazily). */
export const promptfooSchemas = lazily(() => {
  const assertion = z.object({ type: z.string().min(1) }).passthrough();
  // Tests and the config keep keys PromptGate does not know: each is reported by name where it is
  // written, and a test that depends on one is skipped, rather than the whole file rejected.
  const test = z
    .object({
      description: z.string().optional(),
      vars: z.union([z.record(z.string(), z.unknown()), z.string()]).optional(),
      assert: z.array(z.union([assertion, z.object({ $ref: z.string() }).strict()])).optional(),
      threshold: z.number().min(0).max(1).optional(),
      metadata: z.record(z.string(), z.unknown()).optional(),
      options: z.record(z.string(), z.unknown()).optional(),
      providers: z.array(z.string()).optional(),
      prompts: z.array(z.string()).optional(),
    })
    .passthrough();
  const prompt = z.object({ id: z.string().optional(), raw: z.string().optional(), label: z.string().optional(), config: z.record(z.string(), z.unknown()).optional() }).passthrough();
  const provider = z.object({ id: z.string(), label: z.string().optional(), config: z.record(z.string(), z.unknown()).optional(), prompts: z.array(z.string()).optional() }).passthrough();
  const scenario = z.object({ description: z.string().optional(), config: z.array(test), tests: z.array(test) }).passthrough();

  const config = z
    .object({
      description: z.string().optional(),
      tags: z.record(z.string(), z.unknown()).optional(),
      // A mapping is promptfoo's {file://path: label} form.
      prompts: z.union([z.string(), z.array(z.union([z.string(), prompt])), z.record(z.string(), z.string())]),
      providers: z.union([z.string(), z.array(z.union([z.string(), provider]))]),
      defaultTest: z.union([test, z.string()]).optional(),
      tests: z.union([z.string(), z.array(z.union([z.string(), test]))]).optional(),
      scenarios: z.array(z.union([scenario, z.string()])).optional(),
      assertionTemplates: z.record(z.string(), assertion).optional(),
      derivedMetrics: z.array(z.object({ name: z.string().min(1), value: z.unknown() }).passthrough()).optional(),
      evaluateOptions: z.object({ maxConcurrency: z.number().int().min(1).optional(), repeat: z.number().int().min(1).optional() }).passthrough().optional(),
    })
    .passthrough();
  return { config, test };
});

/** Config keys that change nothing PromptGate decides (output files, sharing, display). */
export const HARMLESS_KEYS = new Set(['description', 'tags', 'prompts', 'providers', 'defaultTest', 'tests', 'scenarios', 'assertionTemplates', 'evaluateOptions', 'outputPath', 'sharing', 'writeLatestResults', 'metadata', 'commandLineOptions', 'tracing', 'derivedMetrics']);
/** evaluateOptions that only pace or display a run. */
export const HARMLESS_EVALUATE = new Set(['maxConcurrency', 'repeat', 'delay', 'showProgressBar', 'cache', 'timeoutMs', 'maxEvalTimeMs', 'interactiveProviders']);
/** Test options PromptGate follows, and ones that change nothing it decides. */
export const TEST_OPTIONS = new Set(['provider', 'rubricPrompt', 'disableDefaultAsserts', 'transform', 'runSerially', 'disableConversationVar', 'disableVarExpansion', 'storeOutputAs']);

/** Something a test uses that PromptGate does not run: the reason and where it is written. */
export interface Skip {
  reason: string;
  file: string;
  range: Range;
}

export const promptfooConfigSchema = () => promptfooSchemas().config;
export type PromptfooConfig = z.infer<ReturnType<typeof promptfooConfigSchema>>;
export type PromptfooTest = z.infer<ReturnType<typeof promptfooSchemas>['test']>;

/**
 * A chat prompt as promptfoo takes it: a list of messages, or `{messages: [...]}`; a message's
 * content is text, or a list of parts whose text parts are joined (other fields, such as
 * `cache_control`, change nothing PromptGate sends).
 */
export const chatSchema = lazily(() => {
  const part = z.object({ type: z.string(), text: z.string().optional() }).passthrough();
  const message = z.object({ role: z.enum(['system', 'developer', 'user', 'assistant']), content: z.union([z.string(), z.array(part)]) }).passthrough();
  const list = z.array(message).min(1);
  return z.union([list, z.object({ messages: list }).passthrough().transform((o) => o.messages)]).transform((messages) =>
    messages.map((m) => ({ role: m.role, content: typeof m.content === 'string' ? m.content : m.content.filter((p) => p.type === 'text').map((p) => p.text ?? '').join('\n') })),
  );
});

export interface PfPrompt {
  label: string;
  messages: PromptFileData['messages'];
  /** Where the prompt is listed in the config. */
  path: PathSegment[];
  /** Provider config the prompt adds (promptfoo's prompt-level `config`). */
  config?: Record<string, unknown>;
  /** The prompt renders `_conversation`: its tests run as conversations (promptfoo-conversation.ts). */
  conversation?: boolean;
  skip?: Skip;
}

export interface PfProvider {
  label: string;
  model: string;
  provider: Partial<ProviderOptions> & { id: string };
  parameters: PromptFileData['modelParameters'];
  /** Response format and tools from the provider's config. */
  request: Pick<PromptFileData, 'responseFormat' | 'jsonSchema' | 'tools' | 'toolChoice'>;
  path: PathSegment[];
  /** The provider's id and raw config as written, mapped again under a prompt's own config. */
  id: string;
  config: Record<string, unknown>;
  /** Prompt labels this provider runs (its `prompts` filter). */
  prompts?: string[];
  skip?: Skip;
}

export interface PfTest {
  /** The file the test is written in (the config, or a tests file), parsed for locations; undefined for CSV. */
  yaml?: YamlFile;
  file: string;
  path: PathSegment[];
  key: string;
  name: string;
  description?: string;
  vars: Record<string, unknown>;
  varsPath: PathSegment[];
  assertions: { a: AssertionData; path: PathSegment[]; yaml?: YamlFile }[];
  threshold?: number;
  /** Provider labels or ids the test is limited to. */
  providers?: string[];
  /** Prompt labels the test is limited to. */
  prompts?: string[];
  metadata?: Record<string, unknown>;
  /** What the test uses that PromptGate does not run: it is skipped with the first reason. */
  skips: Skip[];
  /** options.disableVarExpansion: list variables are one value, not one test per element. */
  keepLists?: boolean;
  /** options.disableDefaultAsserts: defaultTest's assertions are not added to this test. */
  noDefaultAsserts?: boolean;
  /** options.transform: applied to the output before every assertion of the test (the test's, else defaultTest's). */
  outputTransform?: string;
}

export interface PromptfooProject {
  derivedMetrics: DerivedMetric[];
  prompts: PfPrompt[];
  providers: PfProvider[];
  tests: PfTest[];
  repeat?: number;
  concurrency?: number;
}
