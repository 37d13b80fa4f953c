"""Runs XCA's command line (xca --no-gui ...) as a user at a terminal would: XCA asks for its database
password on the terminal even when told not to start its GUI, so this gives it a pseudo-terminal and answers
each "Password:" prompt with $XCA_PW. Exits with XCA's status; prints what XCA printed.

usage: python3 xca.py xca --no-gui --database=FILE ...
"""
import os
import pty
import select
import sys
import termios
import time

pid, fd = pty.fork()
if pid == 0:
    os.execvp(sys.argv[1], sys.argv[1:])
seen = b""
answered = 0
deadline = time.time() + 60
while time.time() < deadline:
    ready, _, _ = select.select([fd], [], [], 1)
    if fd not in ready:
        continue
    try:
        data = os.read(fd, 4096)
    except OSError:
        break
    if not data:
        break
    seen += data
    # One answer per prompt, typed only once XCA reads without echo: it flushes the terminal's input when it
    # turns echo off, so a password typed before that would be lost (and XCA would wait for ever).
    if seen.count(b"Password:") > answered:
        answered += 1
        while time.time() < deadline and termios.tcgetattr(fd)[3] & termios.ECHO:
            time.sleep(0.01)
        time.sleep(0.05)
        os.write(fd, os.environ["XCA_PW"].encode() + b"\n")
else:
    os.kill(pid, 9)
    sys.stdout.write(seen.decode(errors="replace"))
    sys.exit("xca did not finish within 60 seconds")
_, status = os.waitpid(pid, 0)
sys.stdout.write(seen.decode(errors="replace"))
sys.exit(os.waitstatus_to_exitcode(status))
