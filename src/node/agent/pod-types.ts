// The parts of the Pod shape the agent reads (the API types are loose JSON).
import type { KubeObject } from '../../kube/client/kube-client.js';

export interface EnvVar {
  name: string;
  value?: string;
  valueFrom?: {
    configMapKeyRef?: { name: string; key: string; optional?: boolean };
    secretKeyRef?: { name: string; key: string; optional?: boolean };
    fieldRef?: { fieldPath: string };
    resourceFieldRef?: { containerName?: string; resource: string; divisor?: string };
  };
}

export interface Probe {
  exec?: { command: string[] };
  httpGet?: { path?: string; port: number | string; host?: string; scheme?: string; httpHeaders?: Array<{ name: string; value: string }> };
  tcpSocket?: { port: number | string; host?: string };
  initialDelaySeconds?: number;
  periodSeconds?: number;
  timeoutSeconds?: number;
  successThreshold?: number;
  failureThreshold?: number;
}

export interface Handler {
  exec?: { command: string[] };
  httpGet?: Probe['httpGet'];
}

export interface PodContainer {
  name: string;
  image: string;
  command?: string[];
  args?: string[];
  workingDir?: string;
  env?: EnvVar[];
  envFrom?: Array<{ prefix?: string; configMapRef?: { name: string; optional?: boolean }; secretRef?: { name: string; optional?: boolean } }>;
  ports?: Array<{ name?: string; containerPort: number; protocol?: string }>;
  volumeMounts?: Array<{ name: string; mountPath: string; readOnly?: boolean; subPath?: string; subPathExpr?: string }>;
  resources?: { limits?: Record<string, string>; requests?: Record<string, string> };
  securityContext?: SecurityContext;
  imagePullPolicy?: 'Always' | 'IfNotPresent' | 'Never';
  livenessProbe?: Probe;
  readinessProbe?: Probe;
  startupProbe?: Probe;
  lifecycle?: { preStop?: Handler; postStart?: Handler };
  stdin?: boolean;
  stdinOnce?: boolean;
  tty?: boolean;
}

export interface SecurityContext {
  runAsUser?: number;
  runAsGroup?: number;
  runAsNonRoot?: boolean;
  readOnlyRootFilesystem?: boolean;
  privileged?: boolean;
  capabilities?: { add?: string[]; drop?: string[] };
  seccompProfile?: { type: 'RuntimeDefault' | 'Unconfined' | 'Localhost'; localhostProfile?: string };
  /** Pod level only: the group volumes are owned by, added to every container's groups. */
  fsGroup?: number;
  fsGroupChangePolicy?: 'OnRootMismatch' | 'Always';
  supplementalGroups?: number[];
}

export interface PodVolume {
  name: string;
  emptyDir?: { medium?: string; sizeLimit?: string };
  hostPath?: { path: string; type?: string };
  persistentVolumeClaim?: { claimName: string; readOnly?: boolean };
  configMap?: { name: string; items?: Array<{ key: string; path: string }>; optional?: boolean; defaultMode?: number };
  secret?: { secretName: string; items?: Array<{ key: string; path: string }>; optional?: boolean; defaultMode?: number };
  downwardAPI?: { items: DownwardItem[] };
  projected?: { sources: Array<{ configMap?: PodVolume['configMap']; secret?: { name: string; items?: Array<{ key: string; path: string }>; optional?: boolean }; downwardAPI?: { items: DownwardItem[] }; serviceAccountToken?: ServiceAccountTokenProjection }> };
}

/** A TokenRequest token for the pod's ServiceAccount, written to path (what kube-api-access volumes use). */
export interface ServiceAccountTokenProjection {
  path: string;
  audience?: string;
  expirationSeconds?: number;
}

export interface DownwardItem {
  path: string;
  fieldRef?: { fieldPath: string };
  resourceFieldRef?: { containerName?: string; resource: string; divisor?: string };
}

export interface PodSpec {
  nodeName?: string;
  containers: PodContainer[];
  initContainers?: PodContainer[];
  volumes?: PodVolume[];
  restartPolicy?: 'Always' | 'OnFailure' | 'Never';
  terminationGracePeriodSeconds?: number;
  hostname?: string;
  /** The node's network (and UTS) namespace: no pod IP of its own, the node's address as pod IP. */
  hostNetwork?: boolean;
  hostIPC?: boolean;
  hostPID?: boolean;
  /** One PID namespace for every container of the pod. */
  shareProcessNamespace?: boolean;
  securityContext?: SecurityContext;
  serviceAccountName?: string;
  /** Service variables for the namespace's Services (default true; the master Service's always). */
  enableServiceLinks?: boolean;
}

export interface Pod extends KubeObject {
  spec: PodSpec;
}
