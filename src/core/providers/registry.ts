import type { ProviderOptions } from '../schema';
import { EchoProvider } from './echo';
import { anthropicFromOptions } from './anthropic';
import { OPENAI_PRESETS, azureFromOptions, openAIFromOptions } from './openai';
import { ProviderError, type Provider } from './types';

export interface ProviderDeps {
  env: Record<string, string | undefined>;
}

interface ProviderFactory {
  id: string;
  description: string;
  create(options: ProviderOptions, deps: ProviderDeps): Provider;
}

/** Providers by id; `replay` and recording wrap these and are chosen by the run, not the prompt. */
export const PROVIDERS: readonly ProviderFactory[] = [
  { id: 'openai', description: 'OpenAI chat completions or any OpenAI-compatible server', create: (o, d) => openAIFromOptions(o, d.env) },
  { id: 'anthropic', description: "Anthropic's Messages API (ANTHROPIC_API_KEY, ANTHROPIC_BASE_URL)", create: (o, d) => anthropicFromOptions(o, d.env) },
  { id: 'azure', description: 'Azure OpenAI: the model is the deployment (AZURE_OPENAI_ENDPOINT, AZURE_OPENAI_API_KEY or AZURE_OPENAI_AD_TOKEN)', create: (o, d) => azureFromOptions(o, d.env) },
  { id: 'gemini', description: "Google Gemini through its OpenAI-compatible endpoint (GEMINI_API_KEY)", create: (o, d) => openAIFromOptions(o, d.env, OPENAI_PRESETS.gemini) },
  { id: 'ollama', description: 'Ollama through its OpenAI-compatible endpoint (OLLAMA_BASE_URL, default http://localhost:11434)', create: (o, d) => openAIFromOptions(o, d.env, OPENAI_PRESETS.ollama) },
  { id: 'echo', description: 'returns the last user message (no model)', create: () => new EchoProvider() },
];

export function createProvider(options: ProviderOptions, deps: ProviderDeps): Provider {
  const factory = PROVIDERS.find((f) => f.id === options.id);
  if (!factory) throw new ProviderError('config', `unknown provider '${options.id}' (known: ${PROVIDERS.map((f) => f.id).join(', ')})`);
  return factory.create(options, deps);
}
