"""Runs the README's tutorial as a user would: every `$ COMMAND` line of the ```console blocks under
"## Tutorial", in order, in one folder, each on a real pseudo-terminal (Python's pty) that types the passwords
at certkit's prompts. Then checks that what the README shows under each command is what the command printed:
every shown line, in order, with thumbprints, serials, hashes, dates and day counts taken as placeholders
(they differ on every run).

usage: tutorial.py README.md WORKDIR
Exits 0 when every command succeeded and printed what the README shows; else prints what differs, exit 1.
Prints a JSON summary (commands run, prompts answered) on the last line of stdout.
"""
import json
import os
import pty
import re
import select
import sys
import termios
import time

readme, workdir = sys.argv[1], sys.argv[2]
PASSWORDS = {"CA key password": "tutorial-ca-password", "key file password": "tutorial-key-password",
             "PFX password": "tutorial-pfx-password"}

text = open(readme, encoding="utf-8").read()
section = text.split("\n## Tutorial", 1)[1].split("\n## ", 1)[0]
steps = []  # (command, shown lines)
for block in re.findall(r"```console\n(.*?)```", section, re.S):
    for line in block.splitlines():
        if line.startswith("$ "):
            steps.append((line[2:], []))
        elif steps:
            steps[-1][1].append(line)
if len(steps) < 8:
    sys.exit(f"tutorial: only {len(steps)} commands found under ## Tutorial")


def run(command):
    """Runs `command` with bash on a pty; answers password prompts; returns (exit code, what it showed, prompts)."""
    pid, fd = pty.fork()
    if pid == 0:
        os.chdir(workdir)
        os.execvp("bash", ["bash", "-c", command])
    shown, pending, answered = "", "", []
    deadline = time.time() + 60
    while True:
        if time.time() > deadline:
            os.kill(pid, 9)
            os.waitpid(pid, 0)
            plain = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", shown).replace("\r", "")
            return -1, plain + "\n(killed after 60 s: a prompt the tutorial does not answer?)", answered
        ready, _, _ = select.select([fd], [], [], 1)
        if not ready:
            continue
        try:
            chunk = os.read(fd, 65536).decode("utf-8", "replace")
        except OSError:
            break
        if not chunk:
            break
        shown += chunk
        pending += chunk
        plain = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", pending)
        last = plain.replace("\r", "\n").rstrip("\n").split("\n")[-1]
        if last.rstrip().endswith(":"):
            for kind, password in PASSWORDS.items():
                if kind in last:
                    # Typed only once the prompt has turned echo off, as a person types after the prompt
                    # appears: typed earlier, the password would be echoed and read by the wrong reader.
                    settle = time.time() + 5
                    while termios.tcgetattr(fd)[3] & termios.ECHO and time.time() < settle:
                        time.sleep(0.02)
                    os.write(fd, (password + "\r").encode())
                    answered.append(last.strip())
                    pending = ""
                    break
    _, status = os.waitpid(pid, 0)
    plain = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", shown).replace("\r", "")
    return os.waitstatus_to_exitcode(status), plain, answered


def normal(line):
    line = re.sub(r"\b[0-9a-f]{64}\b", "<HASH>", line)
    line = re.sub(r"\b[0-9A-F]{40}\b", "<THUMBPRINT>", line)
    line = re.sub(r"\b[0-9A-F]{32}\b", "<SERIAL>", line)
    line = re.sub(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", "<TIME>", line)
    line = re.sub(r"\b\d+ (more )?days\b", "<DAYS>", line)
    return line.rstrip()


problems, prompts, per_command = [], 0, []
for command, shown in steps:
    code, output, answered = run(command)
    prompts += len(answered)
    per_command.append({"command": command, "prompts": answered})
    if code != 0:
        problems.append(f"$ {command}\n  exit {code}:\n{output}")
        break
    actual = [normal(l) for l in output.splitlines()]
    at = 0
    for line in (normal(l) for l in shown):
        if not line or line == "...":
            continue
        while at < len(actual) and actual[at] != line:
            at += 1
        if at == len(actual):
            problems.append(f"$ {command}\n  the README shows {line!r}, which the command did not print (in that "
                            f"order); it printed:\n" + "\n".join(actual))
            break
        at += 1
if problems:
    print("\n\n".join(problems))
    sys.exit(1)
print(json.dumps({"commands": len(steps), "prompts_answered": prompts, "steps": per_command}))
