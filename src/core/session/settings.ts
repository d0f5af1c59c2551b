import type { ResolvedConfig } from '../config';
import type { Project } from '../project';
import type { Samples } from '../schema';
import type { RunSettings } from '../types/report';

/** What a run request may set over the files: CLI flags, editor settings or a run profile. */
export interface RunOverrides {
  /** Samples per case for every case (a flag, a run profile, then the editor setting). */
  samples?: Samples;
  /** Requests in flight. */
  concurrency?: number;
  /** An OpenAI-compatible base URL that beats every file's (the editor setting). */
  baseURL?: string;
  /** Run every prompt with this model instead of its own. */
  model?: string;
}

/**
 * Settings precedence, in one place: an override (flag, run profile, editor setting; the adapter
 * lists them in its own order, first set wins) beats the files; without one, concurrency is the
 * config's, capped by the smallest `maxConcurrency` a prompt's provider allows.
 */
export function runSettings(config: ResolvedConfig, project: Pick<Project, 'maxConcurrency'>, ...overrides: (RunOverrides | undefined)[]): RunSettings {
  const first = <K extends keyof RunOverrides>(key: K): RunOverrides[K] | undefined => {
    for (const o of overrides) if (o?.[key] !== undefined && o[key] !== null && o[key] !== '') return o[key];
    return undefined;
  };
  return {
    samples: first('samples'),
    concurrency: first('concurrency') ?? Math.min(config.concurrency, project.maxConcurrency ?? Infinity),
    baseURL: first('baseURL'),
    model: first('model'),
  };
}
