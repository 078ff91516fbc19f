"""Every command that changes an offer: the state machine and its transitions
(``transitions``: send, accept, decline, revise, expire, ...), creating offers and reading
them for ``show``/``list`` (``offers``, ``intake``), the approval commands (``approval_flow``:
submit, approve, reject, status, inbox), ``send`` (``delivery``, ``mailer``) and ``--push`` /
the merge driver (``sync``). May import ``letters``, ``policy``, ``approvals``, ``store``
and ``core``; never ``checks``, ``reports``, ``setup`` or the CLI (a caller that wants checks
run on a draft passes them in).
"""

PUSH_ATTEMPTS = 12
"""Attempts before ``--push`` gives up (``sync.run_and_push``; every command's
``--push-retries`` default). Here, not in ``sync``, so that ``--help`` imports nothing heavy."""
