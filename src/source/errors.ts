/**
 * Every failure to read the kernel's files is one of a few kinds. The kind decides what the
 * callers do: a vanished process is counted and skipped, a denied field is shown as `-`, a
 * missing file (the kernel lacks it) is simply absent, a parse failure is shown as `?`.
 * NOT_SUPPORTED: a live-only call (an fd, an nsfs ioctl) asked of a host dump.
 * TOO_BIG: the file is longer than its size cap (src/source/bounded.ts); UNSAFE: refused
 * without reading — not a regular file (a FIFO would block), or a path or symlink that leads
 * outside the source's root. Both are shown as `?` with the reason.
 */
export type ProcErrorCode = 'PROCESS_GONE' | 'PERMISSION_DENIED' | 'NOT_FOUND' | 'PARSE' | 'IO' | 'NOT_SUPPORTED' | 'TOO_BIG' | 'UNSAFE';

export class ProcError extends Error {
  readonly code: ProcErrorCode;
  readonly path: string;
  readonly errno: string | undefined;

  constructor(code: ProcErrorCode, path: string, message: string, errno?: string) {
    super(message);
    this.name = 'ProcError';
    this.code = code;
    this.path = path;
    this.errno = errno;
  }
}

export function isProcError(e: unknown): e is ProcError {
  return e instanceof ProcError;
}

/** Node's `code` of an fs error, e.g. ENOENT. */
export function errnoOf(e: unknown): string | undefined {
  if (typeof e === 'object' && e !== null && 'code' in e && typeof (e as { code: unknown }).code === 'string') {
    return (e as { code: string }).code;
  }
  return undefined;
}

/**
 * classifyProcErrno for a dump's files: a file missing from a process directory the dump holds was
 * not captured (the capture records what it could not read in errors.json, the process was
 * there), so ENOENT is "not available from this source", never "the process exited".
 */
export function classifyDumpProcErrno(errno: string | undefined): ProcErrorCode {
  return errno === 'ENOENT' ? 'NOT_SUPPORTED' : classifyProcErrno(errno);
}

/**
 * Classify an errno met under /proc/<pid>/. ENOENT and ESRCH mean the process went away
 * (or is a zombie: EINVAL on mountinfo); EACCES/EPERM mean we may not look.
 */
export function classifyProcErrno(errno: string | undefined): ProcErrorCode {
  switch (errno) {
    case 'ENOENT':
    case 'ESRCH':
    case 'EINVAL':
      return 'PROCESS_GONE';
    case 'EACCES':
    case 'EPERM':
    case 'EREDACTED': // a dump that left the file out on purpose (scripts/capture.ts)
      return 'PERMISSION_DENIED';
    case 'ELOOP': // a dump's symlink loop: refused, the process is not gone
    case 'ENXIO': // a dump's unix socket (or a device without a driver): not a file
      return 'UNSAFE';
    default:
      return 'IO';
  }
}
