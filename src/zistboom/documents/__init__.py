"""Verifiable documents (ZB-STD-008): the shared formats (VC-JWT, status lists, trusted time,
the QR, the PDF, verification), the agencies' issuer service and the documents hub."""
