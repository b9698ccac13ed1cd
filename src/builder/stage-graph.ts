// Stages of a multi-stage Dockerfile and what each needs (its FROM stage,
// COPY --from and RUN --mount from= stages). Only the stages the target needs
// are built; stages that do not depend on each other build concurrently.
import { invalid } from '../errdefs.js';
import type { Instruction } from './dockerfile-parser.js';
import { processWord, type Vars } from './shell-words.js';

export interface Stage {
  index: number;
  /** Lower-cased AS name, if any. */
  name?: string;
  from: Instruction;
  /** The base as written after ARG expansion: an image ref, 'scratch', or another stage's name. */
  base: string;
  platform?: string;
  instructions: Instruction[];
  /** Indexes of stages this one needs first. */
  deps: Set<number>;
}

export interface StageGraph {
  globalArgs: Instruction[];
  stages: Stage[];
}

export function buildStageGraph(instructions: Instruction[], globalVars: Vars, escape: string, fileName: string): StageGraph {
  const globalArgs: Instruction[] = [];
  const stages: Stage[] = [];
  for (const ins of instructions) {
    if (ins.cmd === 'FROM') {
      const words = ins.rest.split(/\s+/).filter(Boolean);
      if (words.length !== 1 && !(words.length === 3 && words[1]!.toUpperCase() === 'AS')) {
        throw invalid(`${fileName}:${ins.line}: FROM requires either one or three arguments (FROM image [AS name])`);
      }
      const base = processWord(words[0]!, globalVars, escape);
      if (!base) throw invalid(`${fileName}:${ins.line}: FROM: base name (${words[0]}) should not be blank`);
      const name = words[2]?.toLowerCase();
      if (name !== undefined && !/^[a-z][a-z0-9-_.]*$/.test(name)) throw invalid(`${fileName}:${ins.line}: invalid name for build stage: "${words[2]}", name can't start with a number or contain symbols`);
      if (name && stages.some((s) => s.name === name)) throw invalid(`${fileName}:${ins.line}: duplicate name for build stage: "${name}"`);
      const platform = ins.flags.get('platform')?.[0];
      stages.push({ index: stages.length, name, from: ins, base, platform: platform ? processWord(platform, globalVars, escape) : undefined, instructions: [], deps: new Set() });
    } else if (stages.length === 0) {
      if (ins.cmd !== 'ARG') throw invalid(`${fileName}:${ins.line}: no build stage in current context: ${ins.cmd} must come after a FROM (only ARG may come before the first FROM)`);
      globalArgs.push(ins);
    } else stages[stages.length - 1]!.instructions.push(ins);
  }
  if (stages.length === 0) throw invalid(`${fileName}: no FROM instruction: a Dockerfile must start with FROM (after any global ARG)`);
  for (const s of stages) {
    const baseStage = findStage(stages.slice(0, s.index), s.base);
    if (baseStage) s.deps.add(baseStage.index);
    for (const ins of s.instructions) {
      for (const from of fromRefs(ins)) {
        const st = findStage(stages.slice(0, s.index), from);
        if (st) s.deps.add(st.index);
        else if (findStage(stages, from)) throw invalid(`${fileName}:${ins.line}: ${ins.cmd} --from=${from} refers to a stage that is not defined before this one`);
      }
    }
  }
  return { globalArgs, stages };
}

function fromRefs(ins: Instruction): string[] {
  const out: string[] = [];
  if (ins.cmd === 'COPY' || ins.cmd === 'ADD') out.push(...(ins.flags.get('from') ?? []));
  if (ins.cmd === 'RUN') {
    for (const m of ins.flags.get('mount') ?? []) {
      const f = /(?:^|,)from=([^,]+)/.exec(m);
      if (f) out.push(f[1]!);
    }
  }
  return out;
}

/** A stage by AS name (case-insensitive) or by number. */
export function findStage(stages: Stage[], ref: string): Stage | undefined {
  const lower = ref.toLowerCase();
  const byName = stages.find((s) => s.name === lower);
  if (byName) return byName;
  if (/^\d+$/.test(ref)) return stages[Number(ref)];
  return undefined;
}

/** The stages the target needs, in file order. */
export function neededStages(graph: StageGraph, target: string | undefined, fileName: string): Stage[] {
  let last: Stage;
  if (target) {
    const t = graph.stages.find((s) => s.name === target.toLowerCase());
    if (!t) throw invalid(`failed to reach build target ${target} in ${fileName}: target stage "${target}" could not be found`);
    last = t;
  } else last = graph.stages[graph.stages.length - 1]!;
  const need = new Set<number>();
  const visit = (s: Stage): void => {
    if (need.has(s.index)) return;
    need.add(s.index);
    for (const d of s.deps) visit(graph.stages[d]!);
  };
  visit(last);
  return graph.stages.filter((s) => need.has(s.index));
}
