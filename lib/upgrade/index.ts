export * from './settings';
export * from './skew';
export * from './versions';
export * from './waves';
