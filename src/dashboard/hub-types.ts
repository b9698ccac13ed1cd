// The registry ("hub") listing as the dashboard's server sends it and its page
// reads it: one definition for both sides (types only, so the page's bundle
// takes nothing from the server's code).

export interface HubTag {
  tag: string;
  digest?: string;
  mediaType?: string;
  /** Manifest, config and layers as stored (compressed): what a pull downloads. Undefined for an index. */
  size?: number;
  /** Platforms of an index (multi-arch image). */
  platforms?: string[];
  /** The registry's Last-Modified for the tag (tug's registry: the tag's last push). */
  pushed?: string;
  error?: string;
}

export interface HubRepository {
  name: string;
  tags: HubTag[];
  error?: string;
}

export interface HubListing {
  registry: string;
  repositories: HubRepository[];
  /** More repositories or tags exist than were listed. */
  truncated: boolean;
}
