"""The layers drawn in README's Architecture section hold: pyproject's import-linter contract.

``make lint`` runs the same check; this keeps it in the suite a contributor runs most.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

import kinsynth

PYPROJECT = Path(__file__).resolve().parents[1] / "pyproject.toml"


def test_every_package_imports_only_from_the_layers_below_it(capsys):
    cli = pytest.importorskip("importlinter.cli", reason="import-linter: pip install -e .[test]")
    # the package the contract reads is the one under test, not another installed copy
    assert Path(kinsynth.__file__).resolve().parents[2] == PYPROJECT.parent
    # import-linter configures logging with disable_existing_loggers, which would silence every
    # logger created before it for the rest of this process (and the tests that read their
    # records): the loggers are put back as they were
    loggers = [lg for lg in logging.root.manager.loggerDict.values()
               if isinstance(lg, logging.Logger)]
    disabled = [lg.disabled for lg in loggers]
    root_level = logging.root.level
    try:
        status = cli.lint_imports(config_filename=str(PYPROJECT), no_cache=True, no_logo=True)
    finally:
        for logger, was in zip(loggers, disabled, strict=True):
            logger.disabled = was
        logging.root.setLevel(root_level)
    assert status == 0, capsys.readouterr().out
