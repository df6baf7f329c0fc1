// The model layer: the definition, its defaults and validation, and the resolved model every later phase reads.
export * from './addons';
export * from './cluster-model';
export * from './constants';
export * from './defaults';
export * from './fixed-settings';
export * from './definition';
export * from './images';
export * from './ipv4';
export * from './quantity';
export * from './release-checksums';
export * from './releases';
export * from './validation';
