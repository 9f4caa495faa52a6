/**
 * Every failure to read the kernel's files is one of a few kinds. The kind decides what the
 * callers do: a vanished process is counted and skipped, a denied field is shown as `-`, a
 * missing file (the kernel lacks it) is simply absent, a parse failure is shown as `?`.
 */
export type ProcErrorCode = 'PROCESS_GONE' | 'PERMISSION_DENIED' | 'NOT_FOUND' | 'PARSE' | 'IO';

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

/** A file's text did not have the shape its man page promises. */
export class ParseError extends ProcError {
  readonly line: number | undefined;
  readonly text: string | undefined;

  constructor(path: string, detail: string, line?: number, text?: string) {
    const where = line === undefined ? path : `line ${line} of ${path}`;
    super('PARSE', path, `cannot parse ${where}: ${detail}`);
    this.name = 'ParseError';
    this.line = line;
    this.text = text;
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

const STRERROR: Record<string, string> = {
  EPERM: 'Operation not permitted',
  ENOENT: 'No such file or directory',
  ESRCH: 'No such process',
  EINTR: 'Interrupted system call',
  EIO: 'Input/output error',
  E2BIG: 'Argument list too long',
  ENOEXEC: 'Exec format error',
  EBADF: 'Bad file descriptor',
  EAGAIN: 'Resource temporarily unavailable',
  ENOMEM: 'Cannot allocate memory',
  EACCES: 'Permission denied',
  EBUSY: 'Device or resource busy',
  EEXIST: 'File exists',
  ENODEV: 'No such device',
  ENOTDIR: 'Not a directory',
  EISDIR: 'Is a directory',
  EINVAL: 'Invalid argument',
  EMFILE: 'Too many open files',
  ENOTTY: 'Inappropriate ioctl for device',
  ENOSPC: 'No space left on device',
  EROFS: 'Read-only file system',
  ENOSYS: 'Function not implemented',
  EUSERS: 'Too many users',
  ECANCELED: 'Operation canceled',
  ENOTSUP: 'Operation not supported',
  EOPNOTSUPP: 'Operation not supported',
};

/** Human words for an errno name, as strerror(3) prints them. */
export function strerror(errno: string | undefined): string {
  return (errno && STRERROR[errno]) ?? errno ?? 'unknown error';
}
