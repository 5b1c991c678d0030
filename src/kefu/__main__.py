"""``python -m kefu``: the ``kefu`` command without the console script (deploy/kefu-start uses it
when KEFU_PYTHON names the interpreter)."""

from kefu.cli import app

app(prog_name="kefu")
