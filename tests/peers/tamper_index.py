"""Changes a CA's index (index.sqlite) the way an intruder who can write the CA folder but has no CA key would,
with Python's own sqlite3 module. Each change keeps the index self-consistent where it can (the row's columns
and its stored record agree), so only the log can tell.

usage: tamper_index.py INDEX hide-revocation SERIAL
       tamper_index.py INDEX swap FIELD SERIAL_A SERIAL_B    (FIELD: thumbprint or serial)
       tamper_index.py INDEX set SERIAL COLUMN VALUE          (a raw column of certs, integer VALUE)
       tamper_index.py INDEX garbage
"""
import json
import os
import sqlite3
import sys

path, action, args = sys.argv[1], sys.argv[2], sys.argv[3:]

if action == "garbage":
    with open(path, "r+b") as f:
        size = f.seek(0, os.SEEK_END)
        f.seek(0)
        f.write(os.urandom(max(size, 4096)))
    sys.exit(0)

db = sqlite3.connect(path)


def line_of(serial):
    row = db.execute("SELECT line FROM certs WHERE serial = ?", (serial,)).fetchone()
    if row is None:
        sys.exit(f"tamper_index: serial {serial} is not in the index")
    return row[0]


def set_record_field(line, field, value):
    (text,) = db.execute("SELECT json FROM records WHERE line = ?", (line,)).fetchone()
    record = json.loads(text)
    record[field] = value
    db.execute("UPDATE records SET json = ? WHERE line = ?", (json.dumps(record, separators=(",", ":")), line))


if action == "hide-revocation":
    changed = db.execute(
        "UPDATE certs SET revoked_line = NULL, revoked_at = NULL, reason = NULL WHERE serial = ?", (args[0],)
    ).rowcount
    assert changed == 1, "no such revoked certificate"
elif action == "swap":
    field, a, b = args
    la, lb = line_of(a), line_of(b)
    va = db.execute(f"SELECT {field} FROM certs WHERE line = ?", (la,)).fetchone()[0]
    vb = db.execute(f"SELECT {field} FROM certs WHERE line = ?", (lb,)).fetchone()[0]
    db.execute(f"UPDATE certs SET {field} = 'swapping' WHERE line = ?", (la,))
    db.execute(f"UPDATE certs SET {field} = ? WHERE line = ?", (va, lb))
    db.execute(f"UPDATE certs SET {field} = ? WHERE line = ?", (vb, la))
    set_record_field(la, field, vb)
    set_record_field(lb, field, va)
elif action == "set":
    serial, column, value = args
    db.execute(f"UPDATE certs SET {column} = ? WHERE line = ?", (int(value), line_of(serial)))
else:
    sys.exit(f"tamper_index: unknown action {action}")
db.commit()
db.close()
