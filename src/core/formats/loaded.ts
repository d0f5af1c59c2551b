import type { Range } from '../diagnostics';
import type { ProviderRequest } from '../providers/types';
import type { PromptFileData } from '../schema';
import type { TemplateDialect } from '../template';
import type { PathSegment, YamlFile } from '../yamlfile';
import type { CaseSpec, PromptSpec } from '../types/cases';

/** A prompt as the formats build cases from it: its spec, its file and what rendering needs. */
export interface LoadedPrompt {
  spec: PromptSpec;
  yaml: YamlFile;
  data: PromptFileData;
  /** Rendering inputs, kept out of PromptSpec so it stays small. */
  messages: { role: PromptFileData['messages'][number]['role']; content: string; path: PathSegment[]; trim: boolean }[];
  /** Prompty: the front matter's sample inputs (or a ${file:...} reference to them), and where the body starts. */
  sample?: Record<string, unknown> | string;
  bodyLine?: number;
  refs: { name: string; range: Range }[];
  /** The file uses something PromptGate does not run: every case built from it is skipped. */
  skip?: CaseSpec['skip'];
  /** Third-party formats render undefined variables as empty text, as their own tools do. */
  dialect: TemplateDialect;
  baseRequest: Omit<ProviderRequest, 'messages'>;
}
