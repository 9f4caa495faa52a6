# Run argv[3:] on a new pty, as a terminal user would, following the steps in argv[2] (JSON):
#   {"wait": TEXT}     until the output (since the last wait) holds TEXT
#   {"send": TEXT}     type TEXT (\r is Enter, \x03 is Ctrl-C)
#   {"proc": ARGV0NUL} until a host process's /proc/PID/cmdline starts with it (a command is running)
# argv[1] is ROWSxCOLS. Prints the raw output (repr), the steps done and the exit status. No timing
# is asserted: 120 s is a cap for the whole run.
import fcntl, json, os, pty, select, struct, sys, termios, time

rows, cols = (int(x) for x in sys.argv[1].split('x'))
steps = json.loads(sys.argv[2])
pid, fd = pty.fork()
if pid == 0:
    os.execvp(sys.argv[3], sys.argv[3:])
fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack('HHHH', rows, cols, 0, 0))

def running(prefix):
    for p in os.listdir('/proc'):
        if p.isdigit():
            try:
                with open('/proc/%s/cmdline' % p, 'rb') as f:
                    if f.read(4096).startswith(prefix.encode()):
                        return True
            except OSError:
                pass
    return False

out, mark, done, t0, eof = b'', 0, 0, time.time(), False
while time.time() - t0 < 120 and not eof:
    r, _, _ = select.select([fd], [], [], 0.1)
    if r:
        try:
            d = os.read(fd, 4096)
        except OSError:
            d = b''
        if not d:
            eof = True
        out += d
    while done < len(steps):
        s = steps[done]
        if 'wait' in s:
            i = out.find(s['wait'].encode(), mark)
            if i < 0:
                break
            mark = i + len(s['wait'])
        elif 'proc' in s:
            if not running(s['proc']):
                break
        elif 'send' in s:
            os.write(fd, s['send'].encode())
        done += 1
if not eof:
    os.kill(pid, 9)
_, st = os.waitpid(pid, 0)
print(repr(out))
print('steps %d/%d' % (done, len(steps)))
print('status %d' % os.waitstatus_to_exitcode(st))
