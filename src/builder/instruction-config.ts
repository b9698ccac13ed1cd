// The Dockerfile instructions that only change the image config (ENV, LABEL,
// CMD, ENTRYPOINT, EXPOSE, USER, VOLUME, STOPSIGNAL, HEALTHCHECK, SHELL,
// ONBUILD, MAINTAINER), as the builder reads them: words with the build's
// variables expanded, the stage's SHELL, errors placed at a Dockerfile line.
// What each instruction does is src/image/config-instructions.ts, shared with
// `commit/import --change`. Pure: from (config, instruction, variables) to config.
import { invalid } from '../errdefs.js';
import type { OciContainerConfig } from '../oci/image-spec.js';
import { applyInstruction, envMap, type InstructionDialect } from '../image/config-instructions.js';
import type { Instruction } from './dockerfile-parser.js';
import { parseKeyValues, processWord, processWords, type Vars } from './shell-words.js';

export interface ConfigContext {
  vars: Vars;
  escape: string;
  where: string;
  shell: string[];
  /** Whether CMD was set in this stage (ENTRYPOINT then keeps it). */
  cmdSetHere: boolean;
}

/** Env as KEY → value (the builder's variables come from it too). */
export const envList = envMap;

/** ENV KEY=VALUE… or the legacy ENV KEY value with spaces. */
function parseEnvPairs(ins: Pick<Instruction, 'rest'>, vars: Vars, escape: string, where: string): Array<[string, string]> {
  const first = ins.rest.split(/\s+/, 1)[0] ?? '';
  if (!ins.rest.trim()) throw invalid(`${where}: ENV requires at least one argument`);
  if (!first.includes('=')) {
    const value = ins.rest.slice(first.length).trim();
    if (!value) throw invalid(`${where}: ENV ${first} needs a value (ENV KEY=VALUE or ENV KEY VALUE)`);
    return [[first, processWord(value, vars, escape)]];
  }
  return parseKeyValues(ins.rest, vars, escape, 'ENV', where);
}

/** HEALTHCHECK CMD's exec form: any JSON array; anything else is a shell command. */
function healthcheckExecForm(text: string): string[] | undefined {
  try {
    const j = JSON.parse(text) as unknown;
    return Array.isArray(j) ? (j as string[]) : undefined;
  } catch {
    return undefined;
  }
}

function dockerfileDialect(ctx: ConfigContext): InstructionDialect {
  const { vars, escape, where } = ctx;
  return {
    fail: (message) => invalid(`${where}: ${message}`),
    word: (text) => processWord(text, vars, escape),
    words: (text) => processWords(text, vars, escape),
    pairs: (ins) => (ins.cmd === 'ENV' ? parseEnvPairs(ins, vars, escape, where) : parseKeyValues(ins.rest, vars, escape, ins.cmd, where)),
    execForm: healthcheckExecForm,
    shell: ctx.shell,
    markArgsEscaped: true,
    keepCmd: ctx.cmdSetHere,
    collapseEnv: true,
    checkPortRange: false,
    strictVolumes: true,
    checkOnbuildTrigger: true,
    exposeHint: ' (want PORT, PORT/tcp or PORT/udp)',
    healthcheckUsage: () => 'HEALTHCHECK must be NONE or [OPTIONS] CMD command',
  };
}

export function applyConfigInstruction(cfg: OciContainerConfig, ins: Instruction, ctx: ConfigContext): OciContainerConfig {
  return applyInstruction(cfg, ins, dockerfileDialect(ctx));
}
