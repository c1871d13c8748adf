"""Lines of code count what a contender runs: its classes and the helpers they name."""

from __future__ import annotations

import importlib
import json
import sys
from pathlib import Path

import pytest

from suite import models
from suite.models.base import Contest
from suite.models.code_lines import Definition, code_lines, definitions, lines_of
from suite.models.facts import Facts, recorded

#: torch-ials's solver module.
WMF = "suite.models.torch.wmf"

#: A contender in a module of its own: 7 lines count (2 of ``helper``, 5 of ``Fake``).
FAKE_MODULE = '''
"""A fake contender for the line count."""

from suite.models.base import Contest, Model


def helper(x):
    """Doubled: this docstring does not count."""
    # nor does this comment
    return 2 * x


def unused(x):
    """Not named by the contender: none of its lines count."""
    return x + 1


class Fake(Model):
    """A fake contender.

    Its docstring's lines do not count.
    """

    name = "fake"  # a line with a comment still holds code
    contests = (Contest.RATING,)

    def _fit(self, train, on_epoch):

        # a comment line
        self.value_ = helper(len(train))
'''


@pytest.fixture
def fake(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> type[models.Model]:
    """The ``Fake`` contender of ``FAKE_MODULE``, imported from a temporary folder."""
    name = f"fake_contender_{tmp_path.name.replace('-', '_')}"
    (tmp_path / f"{name}.py").write_text(FAKE_MODULE, encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    importlib.invalidate_caches()
    yield importlib.import_module(name).Fake
    sys.modules.pop(name, None)


def test_a_contender_counts_its_class_and_the_helpers_it_calls_only(fake) -> None:
    home = fake.__module__
    assert set(definitions(fake)) == {Definition(home, "Fake"), Definition(home, "helper")}
    assert code_lines(fake) == 7


def test_torch_als_counts_its_base_class_not_the_whole_trainer_module() -> None:
    from suite.models.torch.base import TorchContender

    torch_als = models.get("torch-als")
    found = definitions(torch_als)
    assert Definition("suite.models.torch.base", "TorchContender") in found
    assert not any(d.module == "suite.models.torch.trainers" for d in found)
    assert code_lines(TorchContender) < code_lines(torch_als) < 542


def test_torch_ials_counts_its_wmf_solvers() -> None:
    torch_ials = models.get("torch-ials")
    found = definitions(torch_ials)
    solvers = [Definition(WMF, name) for name in ("solve_rows", "cg_rows", "pattern_objective")]
    assert set(solvers) <= set(found)
    assert Definition(WMF, "wmf_objective") not in found  # the tests' yardstick, not run
    without_wmf = lines_of(d for d in found if d.module != WMF)
    assert code_lines(torch_ials) == lines_of(found) >= without_wmf + lines_of(solvers)


def test_a_contender_made_in_a_function_counts_its_own_body() -> None:
    class Local(models.Model):
        """Made here: found by its qualified name."""

        name = "local"  # 3 lines: the class line and two attributes
        contests = (Contest.RATING,)

    assert code_lines(Local) == 3


def test_every_registered_contender_has_lines() -> None:
    counts = {name: code_lines(models.get(name)) for name in models.names()}
    assert all(lines > 0 for lines in counts.values()), counts


def test_facts_carry_the_count_and_old_records_read_none() -> None:
    torch_als = models.get("torch-als")
    assert Facts.of(torch_als).code_lines == code_lines(torch_als)
    old = json.loads(Facts.of(torch_als).to_json())
    del old["code_lines"]
    assert Facts.from_json(json.dumps(old)).code_lines is None


def test_the_query_answers_with_the_recorded_count_where_there_is_one() -> None:
    today = code_lines(models.get("torch-als"))
    assert models.code_lines("torch-als") == today
    assert models.code_lines("retired-contender") is None
    with recorded({"torch-als": Facts(contests=("rating",), code_lines=5)}):
        assert models.code_lines("torch-als") == 5
    with recorded({"torch-als": Facts(contests=("rating",))}):  # an older record: no count
        assert models.code_lines("torch-als") == today
