"""Plays the custodians of a key ceremony on a real pseudo-terminal (Python's pty): runs a certkit command,
reads what the terminal shows and answers its prompts.

usage: ceremony.py backup OUT.json CMD...    each custodian presses Enter, reads the share off the screen,
                                             presses Enter, and types back the two words asked for (the first
                                             time one custodian types a wrong word, to see the share shown
                                             again); writes the shares seen, one list per custodian, to OUT.json
       ceremony.py restore SHARES.json CMD...  types the shares one at a time, the first one with a typo first
                                             (to see it refused with a hint), then a share given twice

Prints everything the terminal showed (escape sequences removed) to stdout; exits with the command's code.
"""
import json
import os
import pty
import re
import select
import sys
import time

mode, data_file, command = sys.argv[1], sys.argv[2], sys.argv[3:]
pid, fd = pty.fork()
if pid == 0:
    os.execvp(command[0], command)

screen = ""  # everything shown since the last answer
shown = ""  # everything shown


def read_until(pattern, timeout=30):
    global screen, shown
    deadline = time.time() + timeout
    while True:
        plain = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", screen)
        match = re.search(pattern, plain)
        if match:
            return match, plain
        left = deadline - time.time()
        if left <= 0:
            sys.exit(f"ceremony: timed out waiting for {pattern!r}; the screen shows:\n{plain}")
        ready, _, _ = select.select([fd], [], [], left)
        if ready:
            try:
                chunk = os.read(fd, 65536).decode("utf-8", "replace")
            except OSError:
                chunk = ""
            if not chunk:
                sys.exit(f"ceremony: the command ended while waiting for {pattern!r}:\n{plain}")
            screen += chunk
            shown += chunk


# A prompt for a word that waits for input (the terminal also redraws answered prompts, with their answer).
PROMPT = r"word (\d+) of your share: *$"


def answer(text):
    global screen
    screen = ""
    os.write(fd, (text + "\r").encode())


if mode == "backup":
    shares = []
    mistake_made = False
    while True:
        match, _ = read_until(r"Custodian (\d+) of (\d+): make sure nobody else|Backed up the CA key")
        if match.group(0).startswith("Backed up"):
            break
        answer("")
        while True:
            _, plain = read_until(r"Press Enter when it is written down")
            words = re.findall(r"\b\d+\. ([a-z]+)", plain)
            answer("")
            match, _ = read_until(PROMPT)
            first = int(match.group(1))
            answer("wrongword" if not mistake_made else words[first - 1])
            match, _ = read_until(PROMPT)
            answer(words[int(match.group(1)) - 1])
            if not mistake_made:
                mistake_made = True
                read_until(r"not what the share says; press Enter and it is shown again")
                # The message stays until it is read: nothing clears the screen before Enter.
                time.sleep(0.5)
                ready, _, _ = select.select([fd], [], [], 0)
                if ready:
                    screen += os.read(fd, 65536).decode("utf-8", "replace")
                if "\x1b[2J" in screen.split("not what the share says")[-1]:
                    sys.exit("ceremony: the screen was cleared before the custodian could read the message")
                answer("")
                continue
            break
        shares.append(" ".join(words))
    with open(data_file, "w") as f:
        json.dump(shares, f)
elif mode == "restore":
    with open(data_file) as f:
        shares = json.load(f)
    first = shares[0].split(" ")
    typo = list(first)
    typo[5] = typo[5][:-1] + ("x" if typo[5][-1] != "x" else "y")
    read_until(r"Share 1 \(")
    answer(" ".join(typo))
    read_until(r"Not taken: .*Try again")
    read_until(r"Share 1 \(")
    answer(shares[0])
    read_until(r"Share 2 \(")
    answer(shares[0])
    read_until(r"given twice")
    for share in shares[1:]:
        read_until(r"Share \d+ \(")
        answer(share)
else:
    sys.exit(f"ceremony: unknown mode {mode}")

# The rest of the output, then the exit code.
while True:
    ready, _, _ = select.select([fd], [], [], 30)
    if not ready:
        break
    try:
        chunk = os.read(fd, 65536).decode("utf-8", "replace")
    except OSError:
        break
    if not chunk:
        break
    shown += chunk
_, status = os.waitpid(pid, 0)
print(re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", shown))
sys.exit(os.waitstatus_to_exitcode(status))
