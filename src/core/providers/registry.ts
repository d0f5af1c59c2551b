import type { ProviderOptions } from '../schema';
import { EchoProvider } from './echo';
import { openAIFromOptions } from './openai';
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
  { id: 'echo', description: 'returns the last user message (no model)', create: () => new EchoProvider() },
];

export function createProvider(options: ProviderOptions, deps: ProviderDeps): Provider {
  const factory = PROVIDERS.find((f) => f.id === options.id);
  if (!factory) throw new ProviderError('config', `unknown provider '${options.id}' (known: ${PROVIDERS.map((f) => f.id).join(', ')})`);
  return factory.create(options, deps);
}
