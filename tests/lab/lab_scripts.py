"""The lab's helper programs live in lab/ as scripts; load them as modules to test their logic without Docker."""

from __future__ import annotations

import importlib.machinery
import importlib.util
import sys
from pathlib import Path
from types import ModuleType

LAB = Path(__file__).resolve().parents[2] / "lab"


def load_script(filename: str) -> ModuleType:
    path = LAB / filename
    name = "lab_" + path.name.replace("-", "_").removesuffix(".py")
    if name in sys.modules:
        return sys.modules[name]
    loader = importlib.machinery.SourceFileLoader(name, str(path))
    spec = importlib.util.spec_from_loader(name, loader)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up while the class is made
    loader.exec_module(module)
    return module
