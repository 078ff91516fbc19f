"""Core values every layer shares: the exit-code errors, the immutable offer and finding
values (``model``), money formatting, business days and the one clock (``clock``: every
"now" and "today" comes from here, pinnable with ``OFFERCTL_NOW``). Imports nothing from
offerctl but the package version; everything may import it.
"""
