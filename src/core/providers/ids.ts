/**
 * Model references as promptfoo and other tools write them (`anthropic:messages:claude-…`,
 * `azure:chat:DEPLOYMENT`, `ollama:llama3`), read the same way wherever a model is named: a
 * promptfoo provider, a prompt file's `model`, `--model` and model swaps.
 */
export type ModelRef =
  /** `provider` is a PromptGate provider id; absent, the prompt's own provider answers. */
  | { provider?: 'openai' | 'anthropic' | 'azure' | 'gemini' | 'ollama' | 'echo'; model: string; api?: string }
  | { unsupported: string };

/** Families PromptGate knows by name but does not call: a reference to one is skipped with this reason. */
const OTHER_PROVIDERS = [
  'replicate', 'bedrock', 'vertex', 'huggingface', 'hf', 'mistral', 'groq', 'cohere', 'togetherai', 'together', 'perplexity', 'deepseek', 'fireworks', 'openrouter', 'cloudflare-ai', 'watsonx', 'llama', 'localai', 'llamafile', 'vllm', 'xai', 'ai21', 'alibaba', 'voyage', 'jina', 'http', 'https', 'exec', 'python', 'file', 'webhook', 'websocket', 'browser', 'sequence', 'simulated-user', 'promptfoo', 'github', 'litellm', 'adaline', 'bam', 'manual-input', 'golang', 'ruby', 'mcp', 'sagemaker', 'databricks', 'snowflake', 'nvidia', 'hyperbolic', 'lambdalabs', 'cerebras', 'azureml', 'claude-agent-sdk', 'openai-agents',
];

const SUPPORTED = 'PromptGate calls openai:, anthropic:, azure:, google:/gemini:, ollama: and echo';

/** Reads `ref`; a bare name (no known provider prefix) is a model for the prompt's own provider. */
export function parseModelRef(ref: string): ModelRef {
  const id = ref.trim();
  if (id === 'echo') return { provider: 'echo', model: 'echo' };
  const colon = id.indexOf(':');
  if (colon < 0) return { model: id };
  const prefix = id.slice(0, colon).toLowerCase();
  const rest = id.slice(colon + 1);
  const withApi = (apis: string[]) => {
    const c = rest.indexOf(':');
    const head = c >= 0 ? rest.slice(0, c) : '';
    return apis.includes(head) ? { api: head, model: rest.slice(c + 1) } : { api: undefined, model: rest };
  };
  switch (prefix) {
    case 'openai': {
      const { api, model } = withApi(['chat', 'responses', 'completion', 'assistant', 'realtime', 'embedding', 'embeddings', 'image', 'moderation']);
      if (api && api !== 'chat' && api !== 'responses') return { unsupported: `'${id}': the OpenAI ${api} API is not run by PromptGate (it sends chat completions: use openai:chat:${model})` };
      return { provider: 'openai', model, ...(api ? { api } : {}) };
    }
    case 'anthropic': {
      const { api, model } = withApi(['messages', 'completion']);
      if (api === 'completion') return { unsupported: `'${id}': Anthropic's legacy completions API is not run by PromptGate (use anthropic:messages:${model})` };
      return { provider: 'anthropic', model, ...(api ? { api } : {}) };
    }
    case 'azure':
    case 'azureopenai': {
      const { api, model } = withApi(['chat', 'completion', 'assistant', 'responses']);
      if (api && api !== 'chat' && api !== 'responses') return { unsupported: `'${id}': the Azure OpenAI ${api} API is not run by PromptGate (use azure:chat:${model})` };
      return { provider: 'azure', model, ...(api ? { api } : {}) };
    }
    case 'google':
    case 'gemini': {
      const { model } = withApi(['chat']);
      return { provider: 'gemini', model };
    }
    case 'ollama': {
      const { api, model } = withApi(['chat', 'completion', 'embedding', 'embeddings']);
      if (api && api !== 'chat') return { unsupported: `'${id}': Ollama's ${api} API is not run by PromptGate (use ollama:chat:${model})` };
      return { provider: 'ollama', model };
    }
    default:
      if (OTHER_PROVIDERS.includes(prefix) || prefix.startsWith('file') || /^(\.{0,2}\/|[a-z]:\\)/i.test(id)) return { unsupported: `provider '${id}' is not supported: ${SUPPORTED}` };
      return { model: id };
  }
}
