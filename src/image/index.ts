/** The image and rootfs API `hostscope run` uses (docs/images.md). */
export { buildBusyboxRootfs, defaultBusyboxRootfs, type BusyboxRootfs, type BusyboxOptions, type CacheOptions } from './busybox.js';
export { unpackImage, readImageConfig, resolveManifest, listRefs, parseOciImageRef, type ImageConfig, type UnpackResult, type UnpackOptions } from './oci.js';
export { ImageError, isImageError, type ImageErrorCode } from './errors.js';
export type { IdMapping, ExtractStats } from './extract.js';
