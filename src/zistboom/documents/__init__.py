"""Verifiable documents (ZB-STD-008): agencies issue signed documents as W3C Verifiable
Credentials, holders keep them in lockers at the documents hub and share them with consent, and
anyone verifies them, online or offline, in any of their four forms (VC-JWT, QR, signed PDF,
pull link).

The shared formats are pure (no HTTP server, no database) and used by the issuer, the hub and
the CLI alike: ``profile`` (constants and identifiers), ``vc`` (the VC-JWT), ``statuslist``
(Bitstring Status Lists), ``timestamps`` (trusted time from central's TSA), ``qr`` (the offline
QR), ``pdf`` (rendering and PAdES signing) and ``verification`` (the algorithm and its named
checks). The components are ``issuer`` (an agency's issuing service, behind its gateway) and
``hub`` (types, lockers, status lists, shares, the public verification page).
"""
