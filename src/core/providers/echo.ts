import type { CallOptions, Provider, ProviderRequest, ProviderResponse } from './types';

/** Returns the last user message unchanged: for checking templates and assertions without a model. */
export class EchoProvider implements Provider {
  readonly id = 'echo';
  async complete(request: ProviderRequest, _options: CallOptions): Promise<ProviderResponse> {
    const last = [...request.messages].reverse().find((m) => m.role === 'user');
    const output = last?.content ?? '';
    const words = (s: string) => (s.trim() ? s.trim().split(/\s+/).length : 0);
    const promptTokens = request.messages.reduce((n, m) => n + words(m.content), 0);
    return { output, toolCalls: [], finishReason: 'stop', usage: { promptTokens, completionTokens: words(output), totalTokens: promptTokens + words(output) } };
  }
}
