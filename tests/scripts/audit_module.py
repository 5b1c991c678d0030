"""scripts/audit.py loaded as a module (scripts/ is not a package)."""

import importlib.util
import sys
from pathlib import Path

PATH = Path(__file__).resolve().parents[2] / "scripts" / "audit.py"
_spec = importlib.util.spec_from_file_location("kefu_audit_script", PATH)
assert _spec is not None and _spec.loader is not None
audit = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = audit  # dataclasses look their module up while the class is made
_spec.loader.exec_module(audit)
