import { z } from 'zod';
import { PACK_NAMES } from './types/packs';

/** Zod schemas of every file users write. They are the single source of truth for validation. */

/**
 * A schema built on first use. Building zod schemas is about half of the CLI bundle's start-up, and
 * most runs read only some kinds of file: those read by every run are built at load, the others
 * (baselines, Prompty and promptfoo files, editor settings) through this.
 */
export function lazily<T>(build: () => T): () => T {
  let built: T | undefined;
  return () => (built ??= build());
}

export const MessageSchema = z
  .object({
    role: z.enum(['system', 'developer', 'user', 'assistant']),
    content: z.string(),
  })
  .strict();

export const ModelParametersSchema = z
  .object({
    maxTokens: z.number().int().positive().optional(),
    temperature: z.number().min(0).max(2).optional(),
    topP: z.number().min(0).max(1).optional(),
    seed: z.number().int().optional(),
    stop: z.union([z.string(), z.array(z.string()).max(4)]).optional(),
    presencePenalty: z.number().min(-2).max(2).optional(),
    frequencyPenalty: z.number().min(-2).max(2).optional(),
    extra: z.record(z.string(), z.unknown()).optional().describe('Other request body parameters, sent as written (e.g. reasoning_effort, max_completion_tokens).'),
  })
  .strict();

export const ToolSchema = z
  .object({
    type: z.literal('function'),
    function: z
      .object({
        name: z.string().regex(/^[A-Za-z0-9_-]{1,64}$/, 'tool names are 1-64 letters, digits, _ or -'),
        description: z.string().optional(),
        parameters: z.record(z.string(), z.unknown()).optional(),
        strict: z.boolean().optional(),
      })
      .strict(),
  })
  .strict();

export const ProviderOptionsSchema = z
  .object({
    id: z.string().default('openai'),
    baseURL: z.string().url().optional(),
    apiKeyEnv: z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'an environment variable name').optional(),
    timeoutMs: z.number().int().positive().optional(),
    maxRetries: z.number().int().min(0).max(20).optional(),
    stream: z.boolean().optional(),
    apiVersion: z.string().optional().describe('Azure OpenAI: the API version (default OPENAI_API_VERSION, else 2024-10-21).'),
    rpm: z.number().int().positive().optional().describe('Requests per minute this endpoint allows; PromptGate stays under it.'),
    tpm: z.number().int().positive().optional().describe('Tokens per minute this endpoint allows; requests wait while the budget is spent.'),
  })
  .strict();

export const VariableSchema = z
  .object({
    type: z.enum(['string', 'number', 'integer', 'boolean', 'array', 'object']).default('string'),
    required: z.boolean().optional(),
    default: z.unknown().optional(),
    enum: z.array(z.unknown()).min(1).optional(),
    description: z.string().optional(),
  })
  .strict();

export const AssertionSchema = z
  .object({
    type: z.string().min(1).describe('The assertion type, e.g. contains, is-json, llm-rubric; not- negates it.'),
    value: z.unknown().optional().describe('What the type checks against (text, list, schema, rubric...).'),
    threshold: z.number().optional(),
    weight: z.number().min(0).default(1),
    metric: z.string().optional(),
    transform: z.union([z.string().min(1), z.array(z.string().min(1)).min(1)]).optional().describe('A JavaScript expression or function body over output and context (or a list of them, each applied to the one before\'s result); the assertion checks its result instead of the output. A result that is not a string stays a value for javascript assertions and is checked as JSON by the others.'),
    /** Model-graded assertions: the judge model (`gpt-4o` or `openai:gpt-4o`), else the project's. */
    provider: z.string().min(1).optional(),
    /** Model-graded assertions: ask the judge k times and report agreement. */
    judge: z.object({ samples: z.number().int().min(1).max(20) }).strict().optional(),
  })
  .strict();

/** A fixed number of samples, or `auto`: sample until the verdict is clear (see sampling.ts). */
export const SamplesSchema = z.union([z.number().int().min(1).max(1000), z.literal('auto')]);

export const NormalizerSchema = z.union([
  z.enum(['whitespace', 'uuid', 'timestamp', 'json', 'numbers']),
  z.object({ numbers: z.object({ tolerance: z.number().min(0) }).strict() }).strict(),
]);

const mockAnswerFields = {
  result: z.unknown().optional().describe('What the tool returns: JSON, or text.'),
  fail: z.enum(['error', 'timeout', 'malformed']).optional().describe('An injected failure instead of a result: an error, a timeout, or an answer that is not valid JSON.'),
  message: z.string().optional().describe('The failure\'s message.'),
};

/** A mocked tool of an agent case: answers the model's calls to it. */
export const ToolMockSchema = z
  .object({
    ...mockAnswerFields,
    javascript: z.string().min(1).optional().describe('A JavaScript expression or function body over args and call (0 for the first call) whose value is the result, or file://PATH holding one; runs isolated, as javascript assertions do.'),
    when: z.array(z.object({ args: z.record(z.string(), z.unknown()), ...mockAnswerFields }).strict()).min(1).optional().describe('Answers chosen by the arguments: the first whose args are all among the call\'s.'),
    sequence: z.array(z.object(mockAnswerFields).strict()).min(1).optional().describe('Answers by call: the first call gets the first, and the last repeats.'),
    returns: z.record(z.string(), z.unknown()).optional().describe('A JSON Schema every result of this mock must match (checked when the file loads).'),
  })
  .strict();

export const TurnSchema = z
  .object({
    user: z.string().describe('The next user message (a template over the variables).'),
    assert: z.array(AssertionSchema).default([]).describe('What the answer to this turn must satisfy.'),
  })
  .strict();

const agentFields = {
  mocks: z.record(z.string(), ToolMockSchema).optional().describe('Mocked tools by name: the model\'s tool calls are answered and it is called again until it answers without one.'),
  maxSteps: z.number().int().min(1).max(100).optional().describe('Model calls allowed per turn of an agent case (default 10); reaching it fails the sample.'),
};

const CaseIdSchema = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._:-]*$/, 'ids are letters, digits, . _ : or -, starting with a letter or digit');

export const CaseSchema = z
  .object({
    id: CaseIdSchema.optional(),
    name: z.string().min(1).optional(),
    description: z.string().optional(),
    vars: z.record(z.string(), z.unknown()).default({}).describe('Values of the prompt variables for this case.'),
    assert: z.array(AssertionSchema).default([]).describe('What the output must satisfy.'),
    threshold: z.number().min(0).max(1).optional(),
    tags: z.array(z.string()).default([]),
    samples: SamplesSchema.optional(),
    passRate: z.number().gt(0).max(1).optional(),
    ...agentFields,
    turns: z.array(TurnSchema).min(1).optional().describe('User turns after the prompt\'s own messages, each answered (tools included) before the next.'),
    history: z
      .array(z.object({ role: z.enum(['user', 'assistant']), content: z.string() }).strict())
      .min(1)
      .optional()
      .describe('Earlier turns of the conversation (templates over the variables), sent after the prompt\'s system messages and before its own.'),
  })
  .strict();

const suiteFields = {
  ...agentFields,
  kind: z.enum(['golden', 'adversarial']).default('golden').describe('golden: cases with expected behaviour; adversarial: attack packs and your own attacks.'),
  description: z.string().optional(),
  vars: z.record(z.string(), z.unknown()).default({}),
  assert: z.array(AssertionSchema).default([]),
  threshold: z.number().min(0).max(1).optional(),
  /** How many samples each case gets (default 1). */
  samples: SamplesSchema.optional().describe('Samples per case: a number, or auto (sample until the verdict is clear).'),
  /** The share of samples that must pass for a case to pass (default 0.5). */
  passRate: z.number().gt(0).max(1).optional(),
  /** Applied to outputs before they are compared with the baseline's. */
  normalize: z.array(NormalizerSchema).default([]),
  /** Run every case against each of these models, side by side, with a verdict per model. */
  models: z.array(z.string().min(1)).min(1).optional(),
  /** Adversarial suites: the attack packs to run, each attack a case. */
  packs: z.array(z.enum(PACK_NAMES)).min(1).optional().describe('Built-in attack packs to run, each attack a case.'),
  /** Adversarial suites: the variable that receives the attack (default: the prompt's only variable). */
  target: z.string().min(1).optional().describe('The variable that receives each attack.'),
  /** Adversarial suites: at most this many attacks per pack, picked by `seed`. */
  limit: z.number().int().min(1).optional(),
  seed: z.number().int().min(0).optional(),
  /** Adversarial suites: the model's context window in tokens; adds a near-the-limit edge input. */
  contextTokens: z.number().int().min(2048).optional(),
  /** Adversarial suites: every attack must be refused (`is-refusal`). */
  refusal: z.boolean().optional(),
  /** Adversarial suites: a policy every answer to an attack is judged against (`llm-rubric`). */
  rubric: z.string().min(1).optional(),
  /** Adversarial suites: tools no case may call (`forbidden-tools`). */
  forbiddenTools: z.array(z.string().min(1)).min(1).optional(),
  /** Required for golden suites; adversarial suites may have packs instead. */
  cases: z.array(CaseSchema).default([]),
  /** Large suites: JSONL files of cases, one case per line with the fields of an inline case. */
  caseFiles: z
    .array(z.string().regex(/\.jsonl$/i, 'a case file is JSONL (.jsonl): one case per line'))
    .min(1)
    .optional()
    .describe('JSONL files of cases (one JSON object per line, the fields of an inline case), relative to this file; read after the inline cases.'),
};

export const SuiteSchema = z.object(suiteFields).strict();

/** `NAME.suite.yml`: one suite, naming the prompt it tests. */
export const SuiteFileSchema = z
  .object({
    prompt: z.string().min(1),
    name: z.string().min(1).optional(),
    ...suiteFields,
  })
  .strict();

export const GitHubEvaluatorSchema = z
  .object({
    name: z.string().min(1),
    string: z
      .object({
        equals: z.string().optional(),
        contains: z.string().optional(),
        startsWith: z.string().optional(),
        endsWith: z.string().optional(),
      })
      .strict()
      .optional(),
    uses: z.string().optional(),
    llm: z.unknown().optional(),
  })
  .strict();

/** `NAME.prompt.yml`: GitHub Models' format plus PromptGate's additions. */
export const PromptFileSchema = z
  .object({
    name: z.string().min(1).optional(),
    description: z.string().optional(),
    version: z
      .string()
      .regex(/^\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?$/, 'version must be semver, e.g. 1.2.0')
      .optional(),
    model: z.string().min(1).describe('The model, e.g. gpt-4o-mini or openai/gpt-4o-mini (GitHub Models style).'),
    provider: z.union([z.string().min(1), ProviderOptionsSchema]).optional().describe('Provider id (openai, echo) or options; default openai, or promptgate.config.yml.'),
    modelParameters: ModelParametersSchema.default({}),
    messages: z.array(MessageSchema).min(1, 'a prompt needs at least one message').describe('Chat messages; content is a Nunjucks template over the variables, e.g. {{ message }}.'),
    responseFormat: z.enum(['text', 'json_object', 'json_schema']).optional(),
    jsonSchema: z.union([z.string(), z.record(z.string(), z.unknown())]).optional(),
    variables: z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, 'variable names are identifiers'), VariableSchema).optional(),
    tools: z.array(ToolSchema).optional(),
    toolChoice: z.union([z.enum(['auto', 'none', 'required']), z.object({ type: z.literal('function'), function: z.object({ name: z.string() }) })]).optional(),
    testData: z.array(z.record(z.string(), z.unknown())).optional().describe('GitHub Models test rows (variables per row); they run as the suite testData.'),
    evaluators: z.array(GitHubEvaluatorSchema).optional().describe('GitHub Models evaluators applied to every testData row.'),
    suites: z.record(z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'suite names are letters, digits, . _ or -'), SuiteSchema).optional().describe('Test suites by name: golden (cases with assertions) or adversarial (attack packs).'),
  })
  .strict();

export const PriceSchema = z
  .object({
    input: z.number().min(0).describe('USD per million input tokens'),
    output: z.number().min(0).describe('USD per million output tokens'),
  })
  .strict();

/** `promptgate.config.yml` at the project root; every field optional. */
export const ConfigFileSchema = z
  .object({
    concurrency: z.number().int().min(1).max(1024).optional(),
    provider: ProviderOptionsSchema.partial().optional(),
    prices: z.record(z.string(), PriceSchema).optional(),
    cacheDir: z.string().optional(),
    runsDir: z.string().optional(),
    cassettesDir: z.string().optional(),
    baselinesDir: z.string().optional(),
    verdicts: z
      .object({
        alpha: z.number().gt(0).lt(0.5).optional(),
        correction: z.enum(['none', 'holm', 'bh']).optional(),
        effect: z.number().gt(0).max(1).optional(),
      })
      .strict()
      .optional(),
    judge: z
      .object({
        model: z.string().min(1).optional(),
        embeddingModel: z.string().min(1).optional(),
        samples: z.number().int().min(1).max(20).optional(),
        provider: ProviderOptionsSchema.partial().optional(),
        /** Judge only outputs whose deterministic assertions passed (default true). */
        onlyIfDeterministicPass: z.boolean().optional(),
      })
      .strict()
      .optional(),
    sampling: z
      .object({
        min: z.number().int().min(1).max(1000).optional(),
        max: z.number().int().min(1).max(1000).optional(),
      })
      .strict()
      .optional(),
    registry: z
      .object({
        /** A folder (relative to the project root). */
        path: z.string().min(1).optional(),
        /** What evidence each label needs; a label without a policy needs every suite run with the gate passed. */
        labels: z
          .record(
            z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'label names are letters, digits, . _ or -'),
            z.object({ suites: z.array(z.string().min(1)).min(1).optional(), minSamples: z.number().int().min(1).optional(), allowRegressions: z.boolean().optional() }).strict(),
          )
          .optional(),
      })
      .strict()
      .optional()
      .describe('The prompt registry: where it is and what evidence each label needs.'),
  })
  .strict();

export type PromptFileData = z.infer<typeof PromptFileSchema>;
export type SuiteData = z.infer<typeof SuiteSchema>;
export type SuiteFileData = z.infer<typeof SuiteFileSchema>;
export type CaseData = z.infer<typeof CaseSchema>;
export type AssertionData = z.infer<typeof AssertionSchema>;
export type VariableData = z.infer<typeof VariableSchema>;
export type ToolData = z.infer<typeof ToolSchema>;
export type ProviderOptions = z.infer<typeof ProviderOptionsSchema>;
export type ConfigFileData = z.infer<typeof ConfigFileSchema>;
export type Price = z.infer<typeof PriceSchema>;
export type Samples = z.infer<typeof SamplesSchema>;
export type Normalizer = z.infer<typeof NormalizerSchema>;
