// What the Job controller reads off its pods: when each finished, its
// completion index, whether a podFailurePolicy rule matches its failure, and
// the back-off before the next pod (Kubernetes': 10 s doubled per failure
// since the last success, at most 6 min, counted from the last failure).
// Pure functions of the objects, so a restarted controller computes the same.
import type { KubeObject } from '../kube/client/kube-client.js';
import { jobLabels } from '../kube/api/batch-types.js';

export const BACKOFF_BASE_MS = 10_000;
export const BACKOFF_MAX_MS = 360_000;

interface ContainerStatus {
  name: string;
  restartCount?: number;
  state?: { terminated?: { exitCode: number; finishedAt?: string } };
}

const statuses = (p: KubeObject): ContainerStatus[] => [...(p.status?.initContainerStatuses ?? []), ...(p.status?.containerStatuses ?? [])];

export const isSucceeded = (p: KubeObject): boolean => p.status?.phase === 'Succeeded';
export const isFailed = (p: KubeObject): boolean => p.status?.phase === 'Failed';

/** When a finished pod finished: its last container's exit, else its last condition change, else its creation. */
export function finishTime(p: KubeObject): number {
  let t = 0;
  for (const s of statuses(p)) t = Math.max(t, Date.parse(s.state?.terminated?.finishedAt ?? '') || 0);
  if (!t) for (const c of p.status?.conditions ?? []) t = Math.max(t, Date.parse(c.lastTransitionTime ?? '') || 0);
  return t || Date.parse(p.metadata.creationTimestamp ?? '') || 0;
}

/** Container restarts of a pod (restartPolicy OnFailure counts them against backoffLimit). */
export function restarts(p: KubeObject): number {
  return statuses(p).reduce((n, s) => n + (s.restartCount ?? 0), 0);
}

/** The pod's completion index (Indexed Jobs), or undefined if it has none or it is not a number in [0, completions). */
export function completionIndex(p: KubeObject, completions: number): number | undefined {
  const v = p.metadata.annotations?.[jobLabels.completionIndex] ?? p.metadata.labels?.[jobLabels.completionIndex];
  if (v === undefined || !/^\d+$/.test(v)) return undefined;
  const n = Number(v);
  return n < completions ? n : undefined;
}

/** "0-2,4,6-7", as status.completedIndexes. */
export function formatIndexes(indexes: Iterable<number>): string {
  const sorted = [...new Set(indexes)].sort((a, b) => a - b);
  const out: string[] = [];
  for (let i = 0; i < sorted.length; ) {
    let j = i;
    while (j + 1 < sorted.length && sorted[j + 1] === sorted[j] + 1) j++;
    out.push(j > i ? `${sorted[i]}-${sorted[j]}` : String(sorted[i]));
    i = j + 1;
  }
  return out.join(',');
}

export function parseIndexes(s: string | undefined, completions: number): Set<number> {
  const out = new Set<number>();
  for (const part of (s ?? '').split(',')) {
    const m = /^(\d+)(?:-(\d+))?$/.exec(part.trim());
    if (!m) continue;
    for (let i = Number(m[1]); i <= Number(m[2] ?? m[1]) && i < completions; i++) out.add(i);
  }
  return out;
}

export interface PolicyMatch {
  action: 'FailJob' | 'Ignore' | 'Count' | 'FailIndex';
  message: string;
}

/** The first podFailurePolicy rule that matches a failed pod, with Kubernetes' message for FailJob. */
export function matchPodFailurePolicy(policy: any, p: KubeObject): PolicyMatch | undefined {
  const rules: any[] = policy?.rules ?? [];
  const key = `${p.metadata.namespace}/${p.metadata.name}`;
  for (const [i, r] of rules.entries()) {
    if (r.onExitCodes) {
      const { containerName, operator, values } = r.onExitCodes;
      const vals = new Set<number>(values ?? []);
      for (const s of statuses(p)) {
        const code = s.state?.terminated?.exitCode;
        if (code === undefined || code === 0) continue;
        if (containerName && s.name !== containerName) continue;
        if ((operator === 'In') === vals.has(code)) {
          return { action: r.action, message: `Container ${s.name} for pod ${key} failed with exit code ${code} matching ${r.action} rule at index ${i}` };
        }
      }
    } else if (r.onPodConditions) {
      for (const want of r.onPodConditions) {
        const c = (p.status?.conditions ?? []).find((x: { type: string }) => x.type === want.type);
        if (c && c.status === (want.status ?? 'True')) return { action: r.action, message: `Pod ${key} has condition ${want.type} matching ${r.action} rule at index ${i}` };
      }
    }
  }
  return undefined;
}

/** The back-off delay after n consecutive failures (n >= 1): 10 s, 20 s, 40 s... at most 6 min. */
export function backoffDelay(failures: number): number {
  if (failures <= 0) return 0;
  return Math.min(BACKOFF_BASE_MS * 2 ** Math.min(failures - 1, 30), BACKOFF_MAX_MS);
}

/**
 * How long the Job must still wait before creating a pod: failures counted
 * since the last success, the delay measured from the newest failure.
 */
export function backoffRemaining(failedFinishTimes: number[], lastSuccess: number, now: number): number {
  const after = failedFinishTimes.filter((t) => t > lastSuccess);
  if (!after.length) return 0;
  const last = Math.max(...after);
  return Math.max(0, last + backoffDelay(after.length) - now);
}
