"""The only place in Zistboom that touches raw keys: key files, hashes and signatures (``keys``),
the instance PKI profile (``x509``), RFC 3161 timestamps (``timestamp``) and JWS (``jws``).

Everything else calls these misuse-resistant functions and never imports pyca/cryptography's
hazmat layer itself.
"""
