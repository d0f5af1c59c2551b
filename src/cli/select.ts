import type { CaseSpec, Project } from '../core';

export interface Selection {
  suite?: string[];
  case?: string[];
}

/** Cases of the named suites and cases (by id or name); unknown names are errors, not empty runs. */
export function selectCases(project: Project, sel: Selection): { cases: CaseSpec[]; error?: string } {
  let cases = project.cases;
  if (sel.suite?.length) {
    const known = new Set(project.suites.map((s) => s.name));
    const unknown = sel.suite.filter((s) => !known.has(s));
    if (unknown.length) return { cases: [], error: `no suite named ${unknown.map((s) => `'${s}'`).join(', ')} (suites: ${[...known].join(', ') || 'none'})` };
    cases = cases.filter((k) => sel.suite!.includes(k.suite));
  }
  if (sel.case?.length) {
    const unknown = sel.case.filter((id) => !cases.some((k) => k.id === id || k.name === id));
    if (unknown.length) return { cases: [], error: `no case ${unknown.map((s) => `'${s}'`).join(', ')} in the selected suites` };
    cases = cases.filter((k) => sel.case!.includes(k.id) || sel.case!.includes(k.name));
  }
  return { cases };
}
