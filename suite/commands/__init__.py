"""The ``mfbench`` commands, one module each (asv-style): its arguments (``add``) and ``main``.

``suite.cli`` builds the parser from ``COMMANDS`` and dispatches; a command's module reads
top to bottom in one screen, and its workflow lives with its domain (the gate in
``suite.regress``, the search in ``suite.tuning``).
"""

from __future__ import annotations

#: The commands, in the order ``mfbench --help`` lists them: modules of this package.
COMMANDS = ("data", "run", "report", "check", "tune", "compare", "publish", "list")
