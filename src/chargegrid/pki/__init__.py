"""The CSMS certificate authority: keys, certificates and CSR checks.

``certificates`` and ``csr`` are pure (no clock reads, no I/O: pass ``now``); ``files``
holds the explicit helpers that read and write PEM files.
"""
