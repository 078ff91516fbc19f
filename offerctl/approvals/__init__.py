"""What an approval is: the digest of the fields it covers, whether it still holds after a
change (tolerance, the approved version recovered from events or git history), and its SSH
signature (``binding``). Pure record logic, used by routing, the approval commands and the
trust checks. May import ``store`` and ``core``; the commands that add approvals (submit,
approve, reject) live in ``lifecycle.approval_flow``.
"""
