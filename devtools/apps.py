"""Import the Chalice apps in one process (tests, benchmarks). Every app has its own
top-level ``chalicelib``, so each is imported with its folder first on sys.path and its
chalicelib modules set aside afterwards (the app keeps its references to them)."""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Mapping
from pathlib import Path
from types import ModuleType

REPO = Path(__file__).resolve().parent.parent
_loaded: dict[str, ModuleType] = {}
_chalicelibs: dict[str, dict[str, ModuleType]] = {}


def _is_chalicelib(name: str) -> bool:
    return name == "chalicelib" or name.startswith("chalicelib.")


def load_app(name: str) -> ModuleType:
    """The module ``<name>/app.py`` (imported once per process)."""
    if name in _loaded:
        return _loaded[name]
    app_dir = REPO / name
    for key in [k for k in sys.modules if _is_chalicelib(k)]:
        del sys.modules[key]
    sys.path.insert(0, str(app_dir))
    try:
        spec = importlib.util.spec_from_file_location(f"{name}_app", app_dir / "app.py")
        if spec is None or spec.loader is None:
            raise ImportError(f"cannot load {app_dir / 'app.py'}")
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
    finally:
        sys.path.remove(str(app_dir))
        _chalicelibs[name] = {k: sys.modules.pop(k) for k in list(sys.modules) if _is_chalicelib(k)}
    _loaded[name] = module
    return module


def app_module(app: str, dotted: str) -> ModuleType:
    """A module of an app's own chalicelib, e.g. ``app_module("post_api", "chalicelib.posts.store")``."""
    load_app(app)
    return _chalicelibs[app][dotted]


def role_environment(role: str, environ: Mapping[str, str]) -> dict[str, str]:
    """``environ`` without the keys and secrets ``role`` (a key of ``keys.NEEDED_BY``) does not
    use: each app process gets only its own, as each function's role on AWS reads only its own."""
    from blog_shared import keys

    withheld = set(keys.ALL) - set(keys.NEEDED_BY[role])
    return {name: value for name, value in environ.items() if name.removesuffix("_ARN") not in withheld}
