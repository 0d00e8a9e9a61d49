"""Whether what an issuer sends (a document, a status list) is signed by that member: the
VC-JWT's signature with its ``x5c`` leaf, and that leaf a ``doc`` certificate of an instance CA
the global configuration lists, naming the member, valid and not revoked at the time that
counts (a document's trusted time of issue; for a status list, now)."""

from __future__ import annotations

from datetime import datetime

from zistboom.core.crypto import x509
from zistboom.core.errors import CryptoError, DocumentError
from zistboom.documents import vc
from zistboom.documents.hub.sources import Sources


def check_signed_by(envelope: vc.VcJwt, member: str, sources: Sources, *, at: datetime) -> None:
    """:class:`DocumentError` naming what does not hold."""
    vc.verify_signature(envelope)
    cas = sources.ca_certificates()
    if not cas:
        raise DocumentError(
            "the hub holds no global configuration, so no instance CA to check the signer's "
            "certificate against; try again once it has refreshed",
            field="certificate",
        )
    refusals: list[str] = []
    for ca in cas:
        try:
            x509.verify_certificate(envelope.leaf, ca, at=at, kind="doc", identity=member)
        except CryptoError as error:
            refusals.append(error.detail)
            continue
        revoked = sources.revoked_at(envelope.leaf.serial_number)
        if revoked is not None and revoked <= at:
            raise DocumentError(
                f"the signer's certificate (serial {envelope.leaf.serial_number:x}) was revoked "
                f"at {revoked.isoformat()}, before {at.isoformat()}",
                field="certificate",
            )
        return
    telling = next((r for r in refusals if "not issued by the instance CA" not in r), refusals[0])
    raise DocumentError(f"the signer's certificate is refused: {telling}", field="certificate")
