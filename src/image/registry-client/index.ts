// The registry client: talks the OCI distribution API to any registry (pull
// and push of manifests and blobs, auth, resume). Engine code imports from here.
export { RegistryClient, type RegistryAuth, type RequestOptions } from './client.js';
export { parseChallenges, type AuthChallenge } from './challenge.js';
export {
  setInsecureRegistries,
  insecureRegistries,
  isInsecureRegistry,
  apiHostOf,
  authKeyOf,
  domainOfServerAddress,
  DOCKER_HUB_AUTH_KEY,
} from './hosts.js';
export {
  getManifest,
  putManifest,
  isIndex,
  parsePlatform,
  formatPlatform,
  selectPlatform,
  parseImageManifest,
  MANIFEST_ACCEPT,
  type FetchedManifest,
  type PlatformWanted,
} from './manifests.js';
export { downloadBlob, partialPathOf, type DownloadOptions } from './blob-download.js';
export { pushBlob, blobExists, type BlobSource, type PushBlobOptions, type PushBlobResult } from './blob-upload.js';
export { byteReporter, eachLimited, progressBar, shortDigest, type ProgressMessage, type ProgressSink } from './progress.js';
export { describeErrorBody } from './registry-error.js';
export { readBody } from './http-request.js';
