"""What Python `cryptography` reads in certificates issued by a profile file: one JSON line per file.

Independent of certkit: the subject's attributes, the extended key usages, the key usage bits, the certificate
policies with their CPS URIs and user notices, the OCSP responders and CRL distribution points, and every
extension's criticality by OID.

usage: python3 profile_facts.py CERT.pem...
"""

import json
import sys

from cryptography import x509
from cryptography.x509.oid import ExtensionOID, AuthorityInformationAccessOID


def ext(cert, oid):
    try:
        return cert.extensions.get_extension_for_oid(oid).value
    except x509.ExtensionNotFound:
        return None


def facts(path):
    with open(path, "rb") as f:
        cert = x509.load_pem_x509_certificate(f.read())
    subject = [[a.oid.dotted_string, a.value] for a in cert.subject]
    eku = ext(cert, ExtensionOID.EXTENDED_KEY_USAGE)
    ku = ext(cert, ExtensionOID.KEY_USAGE)
    usages = []
    if ku is not None:
        for name in ["digital_signature", "content_commitment", "key_encipherment", "data_encipherment"]:
            if getattr(ku, name):
                usages.append(name)
        if ku.key_agreement:
            usages.append("key_agreement")
    policies = []
    for policy in ext(cert, ExtensionOID.CERTIFICATE_POLICIES) or []:
        entry = {"oid": policy.policy_identifier.dotted_string, "cps": [], "notices": []}
        for qualifier in policy.policy_qualifiers or []:
            if isinstance(qualifier, str):
                entry["cps"].append(qualifier)
            else:
                entry["notices"].append(qualifier.explicit_text)
        policies.append(entry)
    aia = ext(cert, ExtensionOID.AUTHORITY_INFORMATION_ACCESS) or []
    ocsp = [d.access_location.value for d in aia if d.access_method == AuthorityInformationAccessOID.OCSP]
    issuers = [d.access_location.value for d in aia if d.access_method == AuthorityInformationAccessOID.CA_ISSUERS]
    crl = []
    for point in ext(cert, ExtensionOID.CRL_DISTRIBUTION_POINTS) or []:
        crl += [name.value for name in point.full_name or []]
    return {
        "subject": subject,
        "ekus": [oid.dotted_string for oid in eku] if eku is not None else [],
        "key_usage": usages,
        "policies": policies,
        "ocsp": ocsp,
        "ca_issuers": issuers,
        "crl": crl,
        "critical": {e.oid.dotted_string: e.critical for e in cert.extensions},
    }


for path in sys.argv[1:]:
    print(json.dumps(facts(path)))
