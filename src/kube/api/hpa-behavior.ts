// HorizontalPodAutoscaler spec.behavior and the API's defaults for it
// (SetDefaults_HorizontalPodAutoscalerBehavior): scale-up without a window,
// at most +4 pods or +100% per 15 s (whichever is more); scale-down by at
// most 100% per 15 s, with the controller's 5-minute window unless the
// object sets one.

export interface ScalingPolicy {
  type: 'Pods' | 'Percent';
  value: number;
  periodSeconds: number;
}

export interface ScalingRules {
  stabilizationWindowSeconds?: number;
  selectPolicy?: 'Max' | 'Min' | 'Disabled';
  policies?: ScalingPolicy[];
}

export interface Behavior {
  scaleUp?: ScalingRules;
  scaleDown?: ScalingRules;
}

/** The API's defaults for a given behavior (SetDefaults_HorizontalPodAutoscalerBehavior). */
export function defaultScaleUp(r: ScalingRules | undefined): ScalingRules {
  return {
    stabilizationWindowSeconds: r?.stabilizationWindowSeconds ?? 0,
    selectPolicy: r?.selectPolicy ?? 'Max',
    policies: r?.policies ?? [
      { type: 'Pods', value: 4, periodSeconds: 15 },
      { type: 'Percent', value: 100, periodSeconds: 15 },
    ],
  };
}

export function defaultScaleDown(r: ScalingRules | undefined): ScalingRules {
  return {
    ...(r?.stabilizationWindowSeconds !== undefined ? { stabilizationWindowSeconds: r.stabilizationWindowSeconds } : {}),
    selectPolicy: r?.selectPolicy ?? 'Max',
    policies: r?.policies ?? [{ type: 'Percent', value: 100, periodSeconds: 15 }],
  };
}

