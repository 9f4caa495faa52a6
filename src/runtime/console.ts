/**
 * runc's foreground terminal (tty.go, utils_linux.go setupIO): `run` or `exec` without -d and with
 * `process.terminal` and no --console-socket. runc-ts finds the caller's terminal (stderr, stdout,
 * stdin, else /dev/tty — none: runc's "open /dev/tty: no such device or address"), makes a socket
 * pair whose one end the container's init inherits and sends its pty master on, clears ONLCR on
 * the master, sizes the pty like the caller's terminal (again on SIGWINCH), puts the caller's
 * terminal in raw mode, and copies stdin → master → stdout until the container is gone; then the
 * caller's terminal is restored.
 */
import * as fs from 'node:fs';
import type * as Tty from 'node:tty';
import { closeFd, recvFd, socketPair, ttyClearOnlcr, ttySetWinsize } from '../native/index.js';
import { RuntimeError } from './container.js';

/** node:tty on first use: loading it loads node:net and its streams, a cost every `run` paid */
const ttyModule = (): typeof Tty => process.getBuiltinModule('node:tty');

export class ForegroundConsole {
  private master?: Tty.ReadStream;
  private masterFd = -1;
  private raw?: Tty.ReadStream;
  private opened = -1;
  private onWinch?: () => void;
  private onStdin?: (d: Buffer) => void;
  private closed = false;
  private childClosed = false;
  private readonly received: Promise<{ fd: number; name: string }>;

  private constructor(
    private readonly parentFd: number,
    /** the end the init keeps: give it to the plan as consoleSocket { fd } */
    readonly childFd: number,
    private readonly hostFd: number,
    recv: (fd: number) => Promise<{ fd: number; name: string }>,
  ) {
    this.received = recv(parentFd);
    // a rejection is read by attach(); never an unhandled one if the init fails before it sends
    this.received.catch(() => undefined);
  }

  static async open(): Promise<ForegroundConsole> {
    const tty = ttyModule();
    let hostFd = [2, 1, 0].find((fd) => tty.isatty(fd));
    let opened = -1;
    if (hostFd === undefined) {
      try {
        opened = fs.openSync('/dev/tty', fs.constants.O_RDWR | fs.constants.O_NOCTTY);
      } catch (e) {
        const code = (e as NodeJS.ErrnoException).code;
        throw new RuntimeError(`open /dev/tty: ${code === 'ENXIO' ? 'no such device or address' : code === 'ENOENT' ? 'no such file or directory' : (e as Error).message}`);
      }
      hostFd = opened;
    }
    const [a, b] = socketPair();
    // -1: no timeout; recvmsg sees EOF when the init dies before it sends (its end closes)
    const c = new ForegroundConsole(a, b, hostFd, (fd) => recvFd(fd, -1, true));
    c.opened = opened;
    return c;
  }

  /** after the init was forked: our copy of its end must go, or a dead init would never be noticed */
  afterSpawn(): void {
    if (this.childClosed) return;
    this.childClosed = true;
    closeFd(this.childFd);
  }

  private size(): { rows: number; cols: number } | undefined {
    for (const s of [process.stdout, process.stderr] as NodeJS.WriteStream[]) if (s.isTTY && s.rows > 0 && s.columns > 0) return { rows: s.rows, cols: s.columns };
    return undefined;
  }

  /** receive the master and start copying; call once the init reported READY or exec'd */
  async attach(): Promise<void> {
    const { fd } = await this.received;
    this.masterFd = fd;
    ttyClearOnlcr(fd);
    const resize = () => {
      const s = this.size();
      if (s && this.masterFd >= 0) {
        try {
          ttySetWinsize(this.masterFd, s.rows, s.cols);
        } catch {
          /* the container is gone */
        }
      }
    };
    resize();
    this.onWinch = resize;
    process.on('SIGWINCH', resize);
    const tty = ttyModule();
    this.master = new tty.ReadStream(fd);
    this.master.on('data', (d: Buffer) => process.stdout.write(d));
    this.master.on('error', () => undefined); // EIO: every slave fd is closed
    this.master.resume();
    // the caller's terminal in raw mode: keys go to the container's line discipline, not ours
    this.raw = process.stdin.isTTY ? (process.stdin as Tty.ReadStream) : new tty.ReadStream(this.hostFd);
    this.raw.setRawMode(true);
    // libuv's raw mode keeps OPOST|ONLCR (runc's cfmakeraw clears OPOST): the container's pty has
    // already made its \r\n, and a second ONLCR here showed \r\r\n. setRawMode(false) restores
    // the whole termios libuv saved before
    try {
      ttyClearOnlcr(this.hostFd);
    } catch {
      /* the terminal went away */
    }
    this.onStdin = (d: Buffer) => {
      if (!this.closed) this.master?.write(d);
    };
    process.stdin.on('data', this.onStdin);
    process.stdin.on('error', () => undefined);
    process.stdin.resume();
  }

  /** after the container's process exited: what is still buffered in the master reaches stdout (bounded wait) */
  async drain(): Promise<void> {
    const m = this.master;
    if (!m || m.destroyed) return;
    await new Promise<void>((resolve) => {
      const t = setTimeout(resolve, 2000);
      const done = () => {
        clearTimeout(t);
        resolve();
      };
      m.once('end', done);
      m.once('close', done);
      m.once('error', done);
    });
  }

  /** restore the caller's terminal, stop copying, close every fd */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.onWinch) process.off('SIGWINCH', this.onWinch);
    if (this.onStdin) process.stdin.off('data', this.onStdin);
    process.stdin.pause();
    try {
      this.raw?.setRawMode(false);
    } catch {
      /* the terminal went away */
    }
    if (this.raw && this.raw !== process.stdin) this.raw.destroy();
    if (this.master) this.master.destroy();
    else if (this.masterFd >= 0) fs.closeSync(this.masterFd);
    // the receiving thread must be done with our end before it is closed: without the init's end it sees EOF
    this.afterSpawn();
    const got = await this.received.catch(() => undefined);
    if (got && this.masterFd < 0) fs.closeSync(got.fd);
    try {
      closeFd(this.parentFd);
    } catch {
      /* closed */
    }
    if (this.opened >= 0 && this.raw === undefined) fs.closeSync(this.opened);
  }
}
