import type { CaseSpec } from '../types/cases';
import type { AssertionDefinition } from '../types/assertions';

/** A JSONL case file's text, and how one of its lines is built into a case again. */
export interface LineSource {
  text: string;
  /** The case of one line, as the loader built it when it checked the line. */
  build(raw: string, line: number): CaseSpec;
  /** The definitions of a case's assertions, one list for alike cases (`definitionsOf` makes one). */
  definitions(assertions: CaseSpec['assertions']): readonly AssertionDefinition[];
}

/** Shares lists of assertion definitions among the cases of a source that have alike ones. */
export function definitionsOf(): LineSource['definitions'] {
  const known = new Map<string, readonly AssertionDefinition[]>();
  const ids = new Map<AssertionDefinition, number>();
  return (assertions) => {
    const list = assertions.map((a) => a.definition);
    const key = list.map((d) => ids.get(d) ?? ids.set(d, ids.size).get(d)).join(',');
    const found = known.get(key);
    if (found) return found;
    known.set(key, list);
    return list;
  };
}

/**
 * A case of a JSONL case file as a project holds it: what selection, planning, verdicts and
 * reports read (id, name, suite, sampling, what its assertions are, its model) is kept; its
 * variables, request, assertions and agent are built again from its line of the file's text
 * whenever they are read. A hundred thousand cases then hold their text and about 300 bytes each
 * instead of a kilobyte of rendered requests and prepared assertions; the runner builds a case
 * whole once per sample (`whole`).
 *
 * The lazy parts are own enumerable accessors, so a spread or JSON copy of the case is whole. They
 * are built anew on each read (the parts of one case read in a row share one build): a change
 * made to one is not kept, as nothing in PromptGate changes a loaded case in place.
 */
export class LineCase implements CaseSpec {
  declare vars: CaseSpec['vars'];
  declare request: CaseSpec['request'];
  declare agent?: CaseSpec['agent'];
  declare assertions: CaseSpec['assertions'];
  /** Where the case is written: its whole line; computed, not held. */
  declare range: CaseSpec['range'];
  id: string;
  name: string;
  suite: string;
  suiteKind: CaseSpec['suiteKind'];
  declare description?: string;
  tags: string[];
  prompt: CaseSpec['prompt'];
  file: string;
  relFile: string;
  declare threshold?: number;
  declare samples?: CaseSpec['samples'];
  passRate: number;
  normalize: CaseSpec['normalize'];
  declare skip?: CaseSpec['skip'];
  /** Its assertions' definitions (see caseDefinitions): one list for alike cases. */
  readonly #definitions: readonly AssertionDefinition[];
  /** Its request's model (see caseModel). */
  readonly #model: string;
  readonly #source: LineSource;
  readonly #start: number;
  readonly #end: number;
  readonly #line: number;

  /** The case `built` from `source.text` between `start` and `end` (line `line`, 0-based). */
  constructor(built: CaseSpec, source: LineSource, start: number, end: number, line: number) {
    this.id = built.id;
    this.name = built.name;
    this.suite = built.suite;
    this.suiteKind = built.suiteKind;
    this.tags = built.tags.length ? built.tags : NO_TAGS;
    this.prompt = built.prompt;
    this.file = built.file;
    this.relFile = built.relFile;
    this.passRate = built.passRate;
    this.normalize = built.normalize;
    // Fields most cases leave unset are own properties only when set (eight bytes each otherwise).
    if (built.description !== undefined) this.description = built.description;
    if (built.threshold !== undefined) this.threshold = built.threshold;
    if (built.samples !== undefined) this.samples = built.samples;
    if (built.skip) this.skip = built.skip;
    this.#definitions = source.definitions(built.assertions);
    this.#model = built.request.model;
    this.#source = source;
    this.#start = start;
    this.#end = end;
    this.#line = line;
    Object.defineProperties(this, built.agent ? LineCase.#withAgent : LineCase.#parts);
  }

  /** The case built from its line; the parts of one case read one after another share one build. */
  #built(): CaseSpec {
    if (last?.of === this) return last.spec;
    const spec = this.#source.build(this.#source.text.slice(this.#start, this.#end), this.#line);
    last = { of: this, spec };
    return spec;
  }

  /** Read by caseDefinitions: what its assertions are, without building them. */
  get definitions(): readonly AssertionDefinition[] {
    return this.#definitions;
  }

  /** Read by caseModel: its request's model, without building it. */
  get model(): string {
    return this.#model;
  }

  static #part(key: 'vars' | 'request' | 'agent' | 'assertions'): PropertyDescriptor {
    return {
      enumerable: true,
      get(this: LineCase) {
        return this.#built()[key];
      },
    };
  }

  static #parts: PropertyDescriptorMap = {
    range: {
      enumerable: true,
      get(this: LineCase) {
        return { start: { line: this.#line, character: 0 }, end: { line: this.#line, character: this.#end - this.#start } };
      },
    },
    vars: LineCase.#part('vars'),
    request: LineCase.#part('request'),
    assertions: LineCase.#part('assertions'),
  };
  static #withAgent: PropertyDescriptorMap = { ...LineCase.#parts, agent: LineCase.#part('agent') };
}

/** Frozen: one list for every case without tags, that nothing may add to. */
const NO_TAGS = Object.freeze([]) as unknown as string[];
let last: { of: LineCase; spec: CaseSpec } | undefined;

/** A case whole, as the runner works with it: a LineCase is built from its line once, here. */
export function whole(spec: CaseSpec): CaseSpec {
  return spec instanceof LineCase ? { ...spec } : spec;
}
