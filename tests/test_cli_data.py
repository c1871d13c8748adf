"""``mfbench data``: output, and one-line errors with exit code 2."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from suite.cli import main


def test_info_on_a_file(tmp_path: Path, capsys) -> None:
    path = tmp_path / "u.data"
    path.write_text("1\t10\t4\t881250949\n2\t10\t3\t881250950\n2\t11\t5\t891717742\n")
    assert main(["data", "info", str(path)]) == 0
    out = capsys.readouterr().out
    assert "ratings" in out and "1997-12-04 .. 1998-04-04" in out and "density" in out
    assert "rating histogram" in out


def test_info_on_a_synthetic_name(capsys) -> None:
    assert main(["data", "info", "synthetic-seed-2017"]) == 0
    assert "10,000" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["data", "info", "nonsense"], "unknown data set 'nonsense'"),
        (["data", "info", "{bad}"], "bad.data:2: expected 4 fields"),
        (["data", "info", "{bad}", "--format", "json"], "--format 'json': unknown format"),
        (["data", "fetch", "ml-3k"], "unknown data set 'ml-3k'; choose from"),
        (["data", "frobnicate"], "invalid choice: 'frobnicate'"),
    ],
)
def test_errors_are_one_line_with_exit_2(tmp_path: Path, capsys, argv, message) -> None:
    bad = tmp_path / "bad.data"
    bad.write_text("1\t2\t3\t4\n1\t2\n")
    argv = [a.replace("{bad}", str(bad)) for a in argv]
    with pytest.raises(SystemExit) as exit_info:
        raise SystemExit(main(argv))
    assert exit_info.value.code == 2
    err = capsys.readouterr().err.strip()
    assert message in err and len(err.splitlines()) == 1 and "Traceback" not in err


def test_python_dash_m_suite_works() -> None:
    done = subprocess.run([sys.executable, "-m", "suite", "--help"], capture_output=True, text=True)
    assert done.returncode == 0 and "data" in done.stdout
