/**
 * Every failure to read the kernel's files is one of a few kinds. The kind decides what the
 * callers do: a vanished process is counted and skipped, a denied field is shown as `-`, a
 * missing file (the kernel lacks it) is simply absent, a parse failure is shown as `?`.
 * NOT_SUPPORTED: a live-only call (an fd, an nsfs ioctl) asked of a host dump.
 */
export type ProcErrorCode = 'PROCESS_GONE' | 'PERMISSION_DENIED' | 'NOT_FOUND' | 'PARSE' | 'IO' | 'NOT_SUPPORTED';

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
    default:
      return 'IO';
  }
}
