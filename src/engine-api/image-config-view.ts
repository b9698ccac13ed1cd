// An image's config and container_config as image inspect shows them on dockerd
// 20.10: Go's container.Config with every always-present field (zero values
// included) in dockerd's order, and the omitempty ones only when set. An image
// without a container_config (anything not committed or built by the classic
// builder) gets the zero Config, as dockerd answers: docker-compose 1.29.2 reads
// ContainerConfig.Volumes on every recreate and fails with KeyError without it.
import type { OciContainerConfig } from '../oci/image-spec.js';

const omitEmpty = ['ExposedPorts', 'Healthcheck', 'ArgsEscaped', 'NetworkDisabled', 'MacAddress', 'StopSignal', 'StopTimeout', 'Shell'] as const;

export function containerConfigView(c: OciContainerConfig | Record<string, unknown> | undefined): Record<string, unknown> {
  const src = (c ?? {}) as Record<string, unknown>;
  const pick = <T>(k: string, zero: T): unknown => (src[k] === undefined ? zero : src[k]);
  const view: Record<string, unknown> = {
    Hostname: pick('Hostname', ''),
    Domainname: pick('Domainname', ''),
    User: pick('User', ''),
    AttachStdin: pick('AttachStdin', false),
    AttachStdout: pick('AttachStdout', false),
    AttachStderr: pick('AttachStderr', false),
    ...(src.ExposedPorts ? { ExposedPorts: src.ExposedPorts } : {}),
    Tty: pick('Tty', false),
    OpenStdin: pick('OpenStdin', false),
    StdinOnce: pick('StdinOnce', false),
    Env: pick('Env', null),
    Cmd: pick('Cmd', null),
    ...(src.Healthcheck ? { Healthcheck: src.Healthcheck } : {}),
    ...(src.ArgsEscaped ? { ArgsEscaped: src.ArgsEscaped } : {}),
    Image: pick('Image', ''),
    Volumes: pick('Volumes', null),
    WorkingDir: pick('WorkingDir', ''),
    Entrypoint: pick('Entrypoint', null),
    ...(src.NetworkDisabled ? { NetworkDisabled: src.NetworkDisabled } : {}),
    ...(src.MacAddress ? { MacAddress: src.MacAddress } : {}),
    OnBuild: pick('OnBuild', null),
    Labels: pick('Labels', null),
    ...(src.StopSignal ? { StopSignal: src.StopSignal } : {}),
    ...(src.StopTimeout !== undefined && src.StopTimeout !== null ? { StopTimeout: src.StopTimeout } : {}),
    ...(src.Shell ? { Shell: src.Shell } : {}),
  };
  // Anything else the config carries (a field a newer writer added) stays visible.
  for (const [k, v] of Object.entries(src)) if (!(k in view) && !(omitEmpty as readonly string[]).includes(k) && v !== undefined) view[k] = v;
  return view;
}

/** Go's RFC3339Nano: the fraction without trailing zeros ('...:45Z', '...:45.5Z'). */
export function goTime(iso: string): string {
  return iso.replace(/\.(\d*?)0+Z$/, (_m, digits: string) => (digits ? `.${digits}Z` : 'Z'));
}
