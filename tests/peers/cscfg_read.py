"""Reads a .cscfg with Python's own XML parser and prints every role's settings and certificates, and the
network configuration (access controls with their rules in file order, endpoint bindings), as JSON, so tests
check certkit's edits with a parser that is not certkit's.

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
network = root.find(f"{NS}NetworkConfiguration")
if network is not None:
    out["#network"] = {
        "access_controls": {
            ac.get("name"): [
                [r.get("action"), r.get("order"), r.get("remoteSubnet"), r.get("description")]
                for r in ac.findall(f"{NS}Rule")
            ]
            for ac in network.iter(f"{NS}AccessControl")
        },
        "endpoint_acls": [
            [e.get("role"), e.get("endPoint"), e.get("accessControl")] for e in network.iter(f"{NS}EndpointAcl")
        ],
    }
print(json.dumps(out))
