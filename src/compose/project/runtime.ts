// What every compose operation works with: the engine, where progress goes,
// and how registry credentials are found. The CLI builds one per command.
import type { EngineClient } from './engine-client.js';
import type { Progress } from './progress.js';
import type { RegistryAuth } from './service-images.js';

export interface Runtime {
  engine: EngineClient;
  progress: Progress;
  auth: RegistryAuth;
}
