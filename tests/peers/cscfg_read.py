"""Reads a .cscfg with Python's own XML parser and prints every role's settings and certificates as JSON,
so tests check certkit's edits with a parser that is not certkit's.

usage: cscfg_read.py FILE.cscfg
"""
import json
import sys
import xml.etree.ElementTree as ET

NS = "{http://schemas.microsoft.com/ServiceHosting/2008/10/ServiceConfiguration}"
root = ET.parse(sys.argv[1]).getroot()
out = {}
for role in root.findall(f"{NS}Role"):
    out[role.get("name")] = {
        "settings": {s.get("name"): s.get("value") for s in role.iter(f"{NS}Setting")},
        "certificates": {
            c.get("name"): [c.get("thumbprint"), c.get("thumbprintAlgorithm")] for c in role.iter(f"{NS}Certificate")
        },
    }
print(json.dumps(out))
