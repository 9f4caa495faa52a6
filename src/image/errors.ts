/**
 * One error type for everything image and rootfs code refuses: a clear one-line message that
 * names the layout, blob or entry at fault. The CLI prints `hostscope: <message>` and exits 1.
 */
export type ImageErrorCode =
  | 'LAYOUT' // not an OCI layout, missing index.json, bad JSON, unknown ref
  | 'DIGEST' // a blob whose sha256 or size is not what its descriptor says
  | 'TOO_BIG' // a declared size past a cap
  | 'UNSUPPORTED' // zstd, sparse files, a media type we do not read
  | 'CORRUPT' // a bad tar header, truncated data, a gzip error
  | 'UNSAFE' // a path that would leave the target: `..`, absolute names, hard links out of the tree
  | 'EXISTS' // the target exists and is not an empty directory
  | 'BUSYBOX'; // no usable busybox-static

export class ImageError extends Error {
  constructor(
    readonly code: ImageErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'ImageError';
  }
}

export function isImageError(e: unknown): e is ImageError {
  return e instanceof ImageError;
}

/** a byte-exact (latin1) name as readable text for a message; escaping happens at the CLI */
export function shown(name: string): string {
  return Buffer.from(name, 'latin1').toString('utf8');
}
