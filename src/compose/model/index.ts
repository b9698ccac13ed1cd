// The Compose loader's public face: what src/compose/project and the CLI import.

export { loadProject } from './load-project.js';
export { renderConfig } from './render-config.js';
export { dependencyOrder, stopOrder } from './dependency-order.js';
export { parseDuration, formatDuration, parseSize } from './units.js';
export type * from './project-types.js';
