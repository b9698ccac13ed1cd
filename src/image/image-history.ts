// `docker history`: an image's config history as Docker's rows, newest first,
// each non-empty entry paired with the size of the layer it made. Read only.
import type { OciHistory } from '../oci/image-spec.js';
import { ZERO_TIME, type ImageRecord } from './image-record.js';

export interface HistoryEntry {
  Id: string;
  Created: number;
  CreatedBy: string;
  Tags: string[] | null;
  Size: number;
  Comment: string;
}

/** `layerSizes[i]` is the unpacked size of img.layers[i]. */
export function historyOf(img: ImageRecord, layerSizes: number[]): HistoryEntry[] {
  // An image without history (some imports) gets one anonymous row per layer.
  const hist: OciHistory[] = img.config.history && img.config.history.length > 0
    ? img.config.history
    : img.layers.map(() => ({ created: img.config.created, created_by: '' }));
  let layer = 0;
  const out: HistoryEntry[] = hist.map((h) => ({
    Id: '<missing>',
    Created: Math.floor(Date.parse(h.created ?? ZERO_TIME) / 1000) || 0,
    CreatedBy: h.created_by ?? '',
    Tags: null,
    Size: h.empty_layer ? 0 : (layerSizes[layer++] ?? 0),
    Comment: h.comment ?? '',
  }));
  out.reverse();
  if (out[0]) {
    out[0].Id = img.id;
    out[0].Tags = img.repoTags.length > 0 ? [...img.repoTags] : null;
  }
  return out;
}
