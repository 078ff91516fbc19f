"""The repository on disk: the git wrapper (the only module that runs git), finding the
repository and its configuration (``repo``), the only YAML code (``yamlio``: strict reading,
line numbers, round-trip writing, atomic writes), the JSON Schemas, reading offer and policy
files (``loader``), the clause library's front matter (``clauses``), atomic edits of one
offer file (``edit``), the ``check`` result cache, and the repository side of confidential
offers (``privacy``: the one accessor that opens and seals them; ``sealing``: sealed values
into the round-trip YAML; ``keyref``: the erasure key store on ``refs/offerctl/keys``).
May import ``privacy`` and ``core``.
"""
