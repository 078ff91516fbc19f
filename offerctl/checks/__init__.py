"""``offerctl check``: the check context (``context``), the registry of every check
(``registry``), one module per family of checks (``offer``, ``approvals``, ``letters``,
``trust``), which files a run reads and under which policy (``selection``), the runner
(``runner``: cache, parallel workers, history) and the finding reporters (``reporters``).
May import ``lifecycle`` and everything below it; not ``reports``, ``setup`` or the CLI.
"""
