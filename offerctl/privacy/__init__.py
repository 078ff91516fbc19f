"""Confidential offers: encrypted fields per reader group, erasure by destroying keys.

A pure core (no printing): ``values`` (one encrypted value), ``document`` (a whole file,
SOPS-compatible), ``keys`` (age/ssh keys, identity discovery), ``keystore`` (erasure keys),
``digest`` (keyed approval digests), ``config`` (the ``privacy:`` section and who reads an
offer), ``erasure`` (erasure, retention, keyless coverage checks). Glue to the repository:
``session`` (the one accessor that opens and seals offers), ``gitstore`` (the key store on
``refs/offerctl/keys``, through ``offerctl.git``), ``rtyaml`` (sealed values into the
round-trip YAML). docs/privacy.md has the design and the trust model.
"""
