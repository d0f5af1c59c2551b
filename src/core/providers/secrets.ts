import type { CallOptions, Provider, ProviderRequest, ProviderResponse } from './types';

/** What stands in a redacted secret's place. */
export const REDACTED = '[redacted key]';

// Variables named like a credential; their values never reach a file or an output.
const SECRET_NAME = /(^|_)(API_?KEY|KEY|TOKEN|SECRET|PASSWORD|PASSWD|CREDENTIALS?)($|_)/i;

/**
 * The secrets PromptGate knows of in `env`: every variable named like a credential, and the ones
 * prompts name as their key (`apiKeyEnv`). Values shorter than 8 characters are left out: redacting
 * them would mangle ordinary text.
 */
export function knownSecrets(env: Record<string, string | undefined>, keyNames: Iterable<string> = []): string[] {
  const names = new Set(keyNames);
  const out = new Set<string>();
  for (const [name, value] of Object.entries(env)) {
    if (value && value.length >= 8 && (names.has(name) || SECRET_NAME.test(name))) out.add(value);
  }
  // Longest first, so a key that contains another is replaced whole.
  return [...out].sort((a, b) => b.length - a.length);
}

export function redactSecrets(text: string, secrets: readonly string[]): string {
  for (const s of secrets) if (text.includes(s)) text = text.split(s).join(REDACTED);
  return text;
}

/**
 * Answers with every known secret replaced, before anything (cassettes, the cache, runs, reports,
 * baselines, the terminal) sees them: a model that repeats a key from its context, or a server that
 * echoes one, leaves no copy behind.
 */
export class RedactingProvider implements Provider {
  readonly id: string;
  readonly recorded?: boolean;
  readonly embed?: Provider['embed'];

  constructor(private readonly inner: Provider, private readonly secrets: readonly string[]) {
    this.id = inner.id;
    this.recorded = inner.recorded;
    if (inner.embed) this.embed = inner.embed.bind(inner);
  }

  async complete(request: ProviderRequest, options: CallOptions): Promise<ProviderResponse> {
    let response: ProviderResponse;
    try {
      response = await this.inner.complete(request, options);
    } catch (err) {
      if (err instanceof Error) err.message = redactSecrets(err.message, this.secrets);
      throw err;
    }
    const output = redactSecrets(response.output, this.secrets);
    const touched = response.toolCalls.some((c) => this.secrets.some((s) => c.arguments.includes(s) || c.name.includes(s)));
    if (output === response.output && !touched) return response;
    return {
      ...response,
      output,
      toolCalls: touched ? response.toolCalls.map((c) => ({ ...c, name: redactSecrets(c.name, this.secrets), arguments: redactSecrets(c.arguments, this.secrets) })) : response.toolCalls,
    };
  }
}

/** `provider` behind redaction when there is anything to redact. */
export function redacting(provider: Provider, secrets: readonly string[]): Provider {
  return secrets.length ? new RedactingProvider(provider, secrets) : provider;
}
