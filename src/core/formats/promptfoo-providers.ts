/* promptfoo's provider ids and configs, mapped onto PromptGate's providers. */
import { parseModelRef } from '../providers/ids';
import type { PromptFileData } from '../schema';
import type { PfProvider } from './promptfoo-schema';

/** Provider config keys that configure the connection, not the request. */
const CONNECTION_KEYS = new Set(['apiBaseUrl', 'apiHost', 'apiKeyEnvar', 'apiVersion', 'deployment_id', 'timeout', 'maxRetries', 'stream', 'cost', 'showThinking', 'headers', 'organization', 'passthrough']);
/** Request keys PromptGate maps onto a prompt file's parameters; every other config key is sent as written. */
const MAPPED_KEYS = new Set(['temperature', 'max_tokens', 'top_p', 'seed', 'stop', 'presence_penalty', 'frequency_penalty', 'response_format', 'tools', 'tool_choice']);

export type MappedProvider = Omit<PfProvider, 'label' | 'path' | 'id' | 'config' | 'skip'>;

/**
 * A provider id and config as promptfoo writes them, as a PromptGate provider: OpenAI, Anthropic,
 * Azure OpenAI, Gemini, Ollama or echo. Connection keys configure the provider, the usual
 * parameters map onto the prompt's, and any other key (`reasoning_effort`, `max_completion_tokens`,
 * `functions`…) is sent in the request as written, as promptfoo does. Other providers: `unsupported`.
 */
export function mapProvider(id: string, config: Record<string, unknown> = {}): MappedProvider | { unsupported: string } {
  const ref = parseModelRef(id);
  if ('unsupported' in ref) return { unsupported: ref.unsupported };
  if (!ref.provider) return { unsupported: `provider '${id}' is not supported: PromptGate calls openai:, anthropic:, azure:, google:/gemini:, ollama: and echo` };
  const num = (k: string) => (typeof config[k] === 'number' ? (config[k] as number) : undefined);
  const str = (k: string) => (typeof config[k] === 'string' ? (config[k] as string) : undefined);
  const rf = config.response_format as { type?: string; json_schema?: Record<string, unknown> } | undefined;
  const request: PfProvider['request'] = {
    responseFormat: rf?.type === 'json_object' || rf?.type === 'json_schema' ? rf.type : undefined,
    jsonSchema: rf?.type === 'json_schema' ? rf.json_schema : undefined,
    tools: config.tools as PromptFileData['tools'],
    toolChoice: config.tool_choice as PromptFileData['toolChoice'],
  };
  const extra: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(config)) if (!CONNECTION_KEYS.has(k) && !MAPPED_KEYS.has(k) && v !== undefined) extra[k] = v;
  const host = str('apiHost');
  const baseURL = str('apiBaseUrl') ?? (host ? (ref.provider === 'azure' ? `https://${host}` : `https://${host}/v1`) : undefined);
  const provider: MappedProvider['provider'] = { id: ref.provider };
  if (baseURL) provider.baseURL = baseURL;
  if (str('apiKeyEnvar')) provider.apiKeyEnv = str('apiKeyEnvar');
  if (num('timeout')) provider.timeoutMs = num('timeout');
  if (num('maxRetries') !== undefined) provider.maxRetries = num('maxRetries');
  if (str('apiVersion')) provider.apiVersion = str('apiVersion');
  return {
    model: ref.model,
    provider,
    parameters: {
      temperature: num('temperature'),
      maxTokens: num('max_tokens'),
      topP: num('top_p'),
      seed: num('seed'),
      stop: (typeof config.stop === 'string' || Array.isArray(config.stop) ? config.stop : undefined) as string | string[] | undefined,
      presencePenalty: num('presence_penalty'),
      frequencyPenalty: num('frequency_penalty'),
      ...(Object.keys(extra).length ? { extra } : {}),
    },
    request,
  };
}
