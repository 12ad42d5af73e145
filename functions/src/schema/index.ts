export * from './common.js';
export * from './jobs.js';
export * from './integrations.js';
export * from './events.js';
export * from './requests.js';
export * from './metrics.js';
export * from './credentials.js';
