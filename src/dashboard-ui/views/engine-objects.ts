// Engine → images (with their layers and sizes), volumes and networks.
import { html } from 'htm/preact';
import { useEffect, useState } from 'preact/hooks';
import { call, get, bytes, ago, ApiError } from '../api.js';
import { Action, ErrorBox, Loading } from '../widgets/common.js';

function useGet<T>(path: string, deps: unknown[] = []): { value?: T; error?: ApiError; reload: () => void } {
  const [state, setState] = useState<{ value?: T; error?: ApiError }>({});
  const [n, setN] = useState(0);
  useEffect(() => {
    get<T>(path)
      .then((value) => setState({ value }))
      .catch((error: ApiError) => setState({ error }));
  }, [path, n, ...deps]);
  return { ...state, reload: () => setN((x) => x + 1) };
}

function Layers({ id }: { id: string }) {
  const h = useGet<{ CreatedBy: string; Size: number; Created: number }[]>(`/api/engine/images/${encodeURIComponent(id)}/history`);
  if (h.error) return html`<${ErrorBox} error=${h.error} what="the image history" />`;
  if (!h.value) return html`<div class="muted">loading…</div>`;
  return html`<table class="layers"><thead><tr><th>size</th><th>created</th><th>created by</th></tr></thead><tbody>${h.value.map((l) => html`<tr><td>${bytes(l.Size)}</td><td>${ago(l.Created)}</td><td class="mono">${l.CreatedBy}</td></tr>`)}</tbody></table>`;
}

export function ImagesView() {
  const list = useGet<{ Id: string; RepoTags: string[] | null; Size: number; Created: number }[]>('/api/engine/images/json');
  const [open, setOpen] = useState<string | undefined>();
  return html`<section><h2>Images</h2>
    <${ErrorBox} error=${list.error} what="images" /><${Loading} loaded=${!!list.value || !!list.error} />
    <table class="list" id="images"><thead><tr><th>tags</th><th>id</th><th>size</th><th>created</th><th></th></tr></thead><tbody>
    ${(list.value ?? []).map(
      (i) => html`<tr><td class="mono">${(i.RepoTags ?? ['<none>']).join(', ')}</td><td class="mono">${i.Id.replace('sha256:', '').slice(0, 12)}</td><td>${bytes(i.Size)}</td><td>${ago(i.Created)}</td>
        <td><button onClick=${() => setOpen(open === i.Id ? undefined : i.Id)}>${open === i.Id ? 'hide layers' : 'layers'}</button> <${Action} label="remove" kind="danger" confirm="Remove this image?" run=${async () => { await call('DELETE', `/api/engine/images/${encodeURIComponent(i.Id)}`); list.reload(); }} /></td></tr>
        ${open === i.Id ? html`<tr><td colspan="5"><${Layers} id=${i.Id} /></td></tr>` : null}`,
    )}</tbody></table></section>`;
}

export function VolumesView() {
  const list = useGet<{ Volumes: { Name: string; Driver: string; Mountpoint: string; CreatedAt?: string; Labels?: Record<string, string> }[] }>('/api/engine/volumes');
  return html`<section><h2>Volumes</h2>
    <${ErrorBox} error=${list.error} what="volumes" /><${Loading} loaded=${!!list.value || !!list.error} />
    <table class="list" id="volumes"><thead><tr><th>name</th><th>driver</th><th>mountpoint</th><th>created</th><th></th></tr></thead><tbody>
    ${(list.value?.Volumes ?? []).map((v) => html`<tr><td class="mono">${v.Name}</td><td>${v.Driver}</td><td class="mono">${v.Mountpoint}</td><td>${ago(v.CreatedAt)}</td><td><${Action} label="remove" kind="danger" confirm="Remove this volume?" run=${async () => { await call('DELETE', `/api/engine/volumes/${encodeURIComponent(v.Name)}`); list.reload(); }} /></td></tr>`)}
    </tbody></table></section>`;
}

export function NetworksView() {
  const list = useGet<{ Id: string; Name: string; Driver: string; IPAM?: { Config?: { Subnet?: string; Gateway?: string }[] }; Containers?: Record<string, { Name: string; IPv4Address: string }> }[]>('/api/engine/networks');
  return html`<section><h2>Networks</h2>
    <${ErrorBox} error=${list.error} what="networks" /><${Loading} loaded=${!!list.value || !!list.error} />
    <table class="list" id="networks"><thead><tr><th>name</th><th>driver</th><th>subnet</th><th>gateway</th><th>containers</th></tr></thead><tbody>
    ${(list.value ?? []).map((n) => html`<tr><td class="mono">${n.Name}</td><td>${n.Driver}</td><td>${n.IPAM?.Config?.map((c) => c.Subnet).join(', ')}</td><td>${n.IPAM?.Config?.map((c) => c.Gateway).join(', ')}</td><td>${Object.values(n.Containers ?? {}).map((c) => `${c.Name} ${c.IPv4Address}`).join(', ') || '—'}</td></tr>`)}
    </tbody></table></section>`;
}
