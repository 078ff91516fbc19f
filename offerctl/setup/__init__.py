"""Setting a repository up: ``offerctl init`` (``scaffold``, from the shipped starter kit),
the CI workflow (``ci``) and the CODEOWNERS file (``codeowners``). May import ``lifecycle``
and everything below it; not ``checks``, ``reports`` or the CLI.
"""
