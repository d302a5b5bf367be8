"""spmkit: model sales incentive compensation plans on historical sales, to the cent."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("spmkit")
except PackageNotFoundError:  # pragma: no cover - running from a source tree
    __version__ = "0.0.0"

__all__ = ["__version__"]
