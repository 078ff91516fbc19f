"""Confidential offers: encrypted fields per reader group, erasure by destroying keys.

A pure core (no printing, no git): ``values`` (one encrypted value), ``document`` (a whole
file, SOPS-compatible), ``keys`` (age/ssh keys, identity discovery), ``keystore`` (erasure
keys), ``digest`` (keyed approval digests), ``config`` (the ``privacy:`` section and who
reads an offer). docs/privacy.md has the design and the trust model.
"""
