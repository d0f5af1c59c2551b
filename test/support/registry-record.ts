import type { VersionRecord } from '../../src/core';

/** A version record of the prompt `support` whose content (and content hash) is `content`. */
export const record = (content: string, at = '2026-11-28T00:00:00.000Z'): Omit<VersionRecord, 'number'> => ({
  format: 1,
  prompt: 'support',
  contentHash: content,
  name: 'Support',
  file: 'support.prompt.yml',
  model: 'gpt-4o-mini',
  provider: 'openai',
  messages: [{ role: 'user', content }],
  parameters: {},
  tools: [],
  author: 'ann',
  createdAt: at,
});
