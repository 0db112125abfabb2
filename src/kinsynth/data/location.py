"""What a ``data.path`` setting names: the one reading every command and run reader shares.

- unset (``null``; also ``None`` or an empty string, which is how a command line that does not
  write ``null`` spells it) is the data set embedded in the package;
- ``~`` is the user's home directory;
- a relative path is relative to the directory the run started in (``start``: a run directory's
  recorded ``hydra.runtime.cwd``), or else to the current directory.

So ``train.py``, ``generate.py check=true``, resuming, ``skip_finished``, the sweep report and
``dbtl.py step=propose`` agree on which file a run read, whatever directory they run from.
Only pathlib is imported: the command line checks this before torch loads.
"""

from __future__ import annotations

from pathlib import Path

from kinsynth.data.default import DEFAULT_DATA_PATH

#: the spellings of "no file given" that reach us: Hydra reads ``null`` as None; ``None`` and
#: ``''`` arrive as strings
UNSET = (None, "", "None", "null")


def is_unset(value: object) -> bool:
    """Whether ``value`` gives no file (a command's default, or its one-line refusal, applies)."""
    return isinstance(value, str | type(None)) and value in UNSET


def data_file(value: str | Path | None, start: str | Path | None = None) -> Path:
    """The file ``data.path=value`` names: the embedded data set when unset (see the module).

    A relative path stays relative when ``start`` is None, so messages show it as it was given.
    """
    if is_unset(value):
        return DEFAULT_DATA_PATH
    path = Path(str(value)).expanduser()
    return path if start is None or path.is_absolute() else Path(start) / path


def is_embedded(value: str | Path | None) -> bool:
    """Whether ``data.path=value`` is the embedded data set (its simulator is then the oracle)."""
    return data_file(value).resolve() == DEFAULT_DATA_PATH.resolve()
