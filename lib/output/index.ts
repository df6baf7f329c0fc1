// The output layer: bundles, the change plan, the topology, the roll-out files, and how files are written.
export * from './bundle-writer';
export * from './change-plan';
export * from './files';
export * from './operator-files';
export * from './rollout';
export * from './synth-record';
export * from './topology';
