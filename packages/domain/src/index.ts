export * from './capacity.js';
export * from './errors.js';
export * from './replica-state.js';
export * from './schedule.js';
export * from './scheme.js';
export * from './workflow-ids.js';
export * from './validation.js';
export * from './identifiers.js';
