"""The repository on disk: the git wrapper (the only module that runs git), finding the
repository and its configuration (``repo``), the only YAML code (``yamlio``: strict reading,
line numbers, round-trip writing, atomic writes), the JSON Schemas, reading offer and policy
files (``loader``), the clause library's front matter (``clauses``), atomic edits of one
offer file (``edit``) and the ``check`` result cache. May import ``core`` only.
"""
