# Run argv[3:] on a new pty of ROWS (argv[1]) x COLS (argv[2]), as a terminal user would: once
# the output holds READY, type "typed-line" and Enter. Prints the raw output (repr) and the exit
# status, so a test sees exactly what reached the terminal. No timing is asserted: 120 s is a cap.
import fcntl, os, pty, select, struct, sys, termios, time

rows, cols = int(sys.argv[1]), int(sys.argv[2])
pid, fd = pty.fork()
if pid == 0:
    os.execvp(sys.argv[3], sys.argv[3:])
fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack('HHHH', rows, cols, 0, 0))
out, sent, t0 = b'', False, time.time()
while time.time() - t0 < 120:
    r, _, _ = select.select([fd], [], [], 0.2)
    if r:
        try:
            d = os.read(fd, 4096)
        except OSError:
            break
        if not d:
            break
        out += d
    if not sent and b'READY' in out:
        os.write(fd, b'typed-line\r')
        sent = True
_, st = os.waitpid(pid, 0)
print(repr(out))
print('status %d' % os.waitstatus_to_exitcode(st))
