"""What Python `cryptography` reads in certificates about Active Directory mapping: one JSON line per file.

Independent of certkit: the SAN's user principal names (otherName 1.3.6.1.4.1.311.20.2.3), URIs and e-mail
addresses, the SID security extension (1.3.6.1.4.1.311.25.2, its DER walked here by hand), the extended key
usages, and every extension's criticality by OID.

usage: python3 ad_facts.py CERT.pem...
"""

import json
import sys

from cryptography import x509
from cryptography.x509.oid import ExtensionOID

UPN = "1.3.6.1.4.1.311.20.2.3"
SID_EXTENSION = "1.3.6.1.4.1.311.25.2"
SID_VALUE = "1.3.6.1.4.1.311.25.2.1"


def tlv(data, at=0):
    """(tag, content, next offset) of the DER value at `at`."""
    tag = data[at]
    length = data[at + 1]
    at += 2
    if length & 0x80:
        count = length & 0x7F
        length = int.from_bytes(data[at : at + count], "big")
        at += count
    return tag, data[at : at + length], at + length


def oid_text(content):
    arcs, value = [], 0
    for byte in content:
        value = (value << 7) | (byte & 0x7F)
        if not byte & 0x80:
            if not arcs:
                first = min(value // 40, 2)
                arcs += [first, value - 40 * first]
            else:
                arcs.append(value)
            value = 0
    return ".".join(str(a) for a in arcs)


def utf8_of(value):
    """The text of a UTF8String, with or without the [0] EXPLICIT wrapper around it."""
    tag, content, _ = tlv(value)
    if tag == 0xA0:
        tag, content, _ = tlv(content)
    assert tag == 0x0C, f"a UPN must be a UTF8String, found tag {tag:#x}"
    return content.decode("utf-8")


def sid_of(value):
    """SEQUENCE { [0] { OID 1.3.6.1.4.1.311.25.2.1, [0] { OCTET STRING sid } } }."""
    tag, names, end = tlv(value)
    assert tag == 0x30 and end == len(value), "the SID extension is one SEQUENCE"
    tag, other_name, _ = tlv(names)
    assert tag == 0xA0, "an otherName"
    tag, oid, at = tlv(other_name)
    assert tag == 0x06 and oid_text(oid) == SID_VALUE, oid_text(oid)
    tag, explicit, _ = tlv(other_name, at)
    assert tag == 0xA0, "[0] EXPLICIT"
    tag, sid, _ = tlv(explicit)
    assert tag == 0x04, "an OCTET STRING"
    return sid.decode("ascii")


for path in sys.argv[1:]:
    with open(path, "rb") as f:
        cert = x509.load_pem_x509_certificate(f.read())
    facts = {"upns": [], "uris": [], "emails": [], "ekus": [], "sid_extension": None}
    facts["critical"] = {ext.oid.dotted_string: ext.critical for ext in cert.extensions}
    try:
        san = cert.extensions.get_extension_for_oid(ExtensionOID.SUBJECT_ALTERNATIVE_NAME).value
        for name in san:
            if isinstance(name, x509.OtherName) and name.type_id.dotted_string == UPN:
                facts["upns"].append(utf8_of(name.value))
            elif isinstance(name, x509.UniformResourceIdentifier):
                facts["uris"].append(name.value)
            elif isinstance(name, x509.RFC822Name):
                facts["emails"].append(name.value)
    except x509.ExtensionNotFound:
        pass
    try:
        eku = cert.extensions.get_extension_for_oid(ExtensionOID.EXTENDED_KEY_USAGE).value
        facts["ekus"] = [oid.dotted_string for oid in eku]
    except x509.ExtensionNotFound:
        pass
    for ext in cert.extensions:
        if ext.oid.dotted_string == SID_EXTENSION:
            facts["sid_extension"] = sid_of(ext.value.value)
    print(json.dumps(facts))
