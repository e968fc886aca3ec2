"""Runs a program with its standard error (and input) on a pseudo-terminal, as a user's
terminal would be, and its standard output on a pipe, so that a test can see both what
a person watching the terminal saw and what was printed as the result.

Usage: terminal.py PROGRAM [ARGS...]

Prints one JSON object: {"code": exit code (-signal if killed), "stdout": ...,
"terminal": every byte written to the terminal, escape sequences included}.
The terminal is 120 columns by 40 rows. Exits 3 if the program runs over 150 seconds.
"""

import fcntl
import json
import os
import select
import struct
import subprocess
import sys
import termios
import time

TIMEOUT = 150.0


def main():
    if len(sys.argv) < 2:
        sys.stderr.write(__doc__)
        return 2
    master, slave = os.openpty()
    # Rows, columns: programs size their output from this.
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 120, 0, 0))
    child = subprocess.Popen(
        sys.argv[1:],
        stdin=slave,
        stdout=subprocess.PIPE,
        stderr=slave,
        start_new_session=True,
    )
    os.close(slave)
    out, term = bytearray(), bytearray()
    open_fds = {child.stdout.fileno(): out, master: term}
    deadline = time.monotonic() + TIMEOUT
    while open_fds:
        left = deadline - time.monotonic()
        if left <= 0:
            child.kill()
            child.wait()
            sys.stderr.write("terminal.py: the program ran over %ss\n" % TIMEOUT)
            return 3
        ready, _, _ = select.select(list(open_fds), [], [], min(left, 1.0))
        for fd in ready:
            try:
                chunk = os.read(fd, 65536)
            except OSError:
                # A pty master reads EIO once the last writer has closed it.
                chunk = b""
            if chunk:
                open_fds[fd].extend(chunk)
            else:
                del open_fds[fd]
    code = child.wait()
    json.dump(
        {
            "code": code,
            "stdout": out.decode("utf-8", "replace"),
            "terminal": term.decode("utf-8", "replace"),
        },
        sys.stdout,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
