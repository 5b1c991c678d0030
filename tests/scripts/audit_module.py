"""The programs of scripts/ loaded as modules (scripts/ is not a package; some names have dashes)."""

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

SCRIPTS = Path(__file__).resolve().parents[2] / "scripts"
PATH = SCRIPTS / "audit.py"


def load_script(file_name: str) -> ModuleType:
    name = "kefu_script_" + file_name.removesuffix(".py").replace("-", "_")
    spec = importlib.util.spec_from_file_location(name, SCRIPTS / file_name)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up while the class is made
    spec.loader.exec_module(module)
    return module


audit = load_script("audit.py")
