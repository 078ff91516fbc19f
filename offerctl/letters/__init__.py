"""Offer letters: which template an offer gets and its default clauses (``select``), the
sandboxed Jinja rendering to Markdown, HTML and PDF (``render``), the letter filters for
money, dates and durations (``filters``) and the letter error (``errors``). May import
``policy``, ``approvals``, ``store`` and ``core``; WeasyPrint, Babel and markdown-it are
imported lazily, inside the functions that need them.
"""
