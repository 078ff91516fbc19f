"""The approval policy: who must approve an offer, against which pay band, in which order.

Owns ``policies/`` (routing rules in CEL, pay bands, approvers and roles): ``load`` reads and
compiles them once (``load_policy_set``), ``routing`` decides which rules an offer triggers
and whether the approvals on file still hold, ``bands`` and ``approvers`` parse their files,
``cel`` loads the CEL runtime lazily. May import ``approvals``, ``store`` and ``core``; never
letters, lifecycle, checks, reports or the CLI.
"""
