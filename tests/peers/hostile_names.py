"""Makes files whose names would rewrite a terminal if printed raw, for certkit-export inspect:

  hostile.pem            a certificate whose SAN DNS name and e-mail address carry ESC, CR and BEL
  my cert $(id).pfx      a PFX (AES-256, so Azure Cloud Services refuses it and inspect prints a fix) whose
                         friendlyName carries an ANSI colour sequence; password $PFX_PW

usage: hostile_names.py DIR
"""
import datetime
import os
import sys

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID

out = sys.argv[1]
key = ec.generate_private_key(ec.SECP256R1())
name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "host.example.com")])
now = datetime.datetime.now(datetime.timezone.utc)
cert = (
    x509.CertificateBuilder()
    .subject_name(name)
    .issuer_name(name)
    .public_key(key.public_key())
    .serial_number(x509.random_serial_number())
    .not_valid_before(now)
    .not_valid_after(now + datetime.timedelta(days=30))
    .add_extension(
        x509.SubjectAlternativeName(
            [
                x509.DNSName("host.example.com\x1b[2K\rverdict: all good"),
                x509.RFC822Name("ring\x07@example.com"),
            ]
        ),
        critical=False,
    )
    .sign(key, hashes.SHA256())
)
with open(os.path.join(out, "hostile.pem"), "wb") as f:
    f.write(cert.public_bytes(serialization.Encoding.PEM))
pfx = pkcs12.serialize_key_and_certificates(
    b"\x1b[32mfine\x1b[0m",
    key,
    cert,
    None,
    serialization.BestAvailableEncryption(os.environb[b"PFX_PW"]),
)
with open(os.path.join(out, "my cert $(id).pfx"), "wb") as f:
    f.write(pfx)
