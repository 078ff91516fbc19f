"""Confidential offers, the cryptographic core: encrypted fields per reader group, erasure
by destroying keys (docs/privacy.md). Pure: no printing, no files, no git.

``values`` (one encrypted value), ``document`` (a whole file, SOPS-compatible), ``keys``
(age/ssh keys, identity discovery), ``keystore`` (erasure keys behind a backend), ``digest``
(keyed approval digests), ``config`` (the ``privacy:`` section and who reads an offer),
``erasure`` (erasure, retention, keyless coverage checks). The repository side (opening and
sealing offers, the key store ref, the YAML writer) is in ``offerctl.store``.

May import: ``core`` only (and ``pyrage``, ``cryptography``).
"""
