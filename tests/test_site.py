"""``mfbench publish``: the static site built from the committed result folders and from small
made-up ones (empty, failed only, a single run), read as HTML; the browser checks are in
``test_site_browser.py``."""

from __future__ import annotations

import atexit
import contextlib
import functools
import json
import re
import shutil
import tempfile
from html import escape
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest
from harness_helpers import assert_one_line_error, run_cli

from suite import protocol
from suite import results as results_io
from suite.analysis.folder import analyse
from suite.analysis.growth import fit
from suite.models.base import Contest
from suite.site import build, layout, provenance, publish, sources
from suite.site.html import Cell, Table, render_table, sentence
from suite.wording import Strong, markdown

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "results"
#: What the committed site may weigh at most (the issue's "under ~15 MB").
MAX_SITE_BYTES = 15_000_000


def published_folders() -> list[Path]:
    """The committed folders the test site publishes: the default set (``discover``), but
    one tuning folder for the ten per-fold searches, whose pages are alike (each page costs
    the build and the browser test about 3 s)."""
    found = sources.discover(Path("results"))
    tuning = [folder for folder in found if sources.kind(REPO / folder) == "tuning"]
    return [folder for folder in found if folder not in tuning[1:]]


@functools.cache
def committed_site() -> Path:
    """The site of the committed folders (``published_folders``), its claims judged from
    them, built once per test session (also by ``test_site_browser.py``)."""
    out = Path(tempfile.mkdtemp(prefix="mfbench-site-")) / "site"
    atexit.register(shutil.rmtree, out.parent, True)
    with contextlib.chdir(REPO):
        lines = publish(published_folders(), out)
    (out.parent / "lines.txt").write_text("\n".join(lines), encoding="utf-8")
    return out


@pytest.fixture(scope="module")
def site() -> Path:
    return committed_site()


def read(site: Path, name: str) -> str:
    return (site / name).read_text(encoding="utf-8")


class Links(HTMLParser):
    """Every tag's src/href, and the rows of each table by id."""

    def __init__(self) -> None:
        super().__init__()
        self.refs: list[tuple[str, str, str]] = []  # (tag, attribute, value)
        self.rows: dict[str, int] = {}
        self.headers: dict[str, list[str]] = {}
        self._table: str | None = None
        self._in_body = False
        self._in_th = False

    def handle_starttag(self, tag: str, attrs: list) -> None:
        found = dict(attrs)
        for name in ("src", "href"):
            if name in found:
                self.refs.append((tag, name, found[name] or ""))
        if tag == "table" and "id" in found:
            self._table = found["id"]
            self.rows[self._table], self.headers[self._table] = 0, []
        elif tag == "tbody":
            self._in_body = True
        elif tag == "tr" and self._in_body and self._table:
            self.rows[self._table] += 1
        elif tag == "th":
            self._in_th = True

    def handle_endtag(self, tag: str) -> None:
        if tag == "tbody":
            self._in_body = False
        elif tag == "table":
            self._table = None
        elif tag == "th":
            self._in_th = False

    def handle_data(self, data: str) -> None:
        if self._in_th and self._table and data.strip():
            self.headers[self._table].append(data.strip())


def parsed(site: Path, name: str) -> Links:
    links = Links()
    links.feed(read(site, name))
    return links


# -- which folders --------------------------------------------------------------------------------


def test_default_folders_are_results_and_the_folders_under_it_but_runs(tmp_path):
    found = [p.relative_to(REPO).as_posix() for p in sources.discover(RESULTS)]
    assert found[0] == "results"
    for name in ("speed", "scaling", "scaling-large", "features", "ci"):
        assert f"results/{name}" in found
    (tmp_path / "runs" / "x").mkdir(parents=True)
    shutil.copy(RESULTS / "speed" / "results.csv", tmp_path / "runs" / "x")
    shutil.copy(RESULTS / "speed" / "results.csv", tmp_path / "runs")
    (tmp_path / "notes").mkdir()
    shutil.copytree(RESULTS / "speed", tmp_path / "speed")
    assert sources.discover(tmp_path) == [tmp_path / "speed"]


# -- the index ----------------------------------------------------------------------------------


def test_index_opens_with_the_claims_table_and_links_every_folder(site):
    html = read(site, "index.html")
    links = parsed(site, "index.html")
    assert html.index('id="claims"') < html.index('id="folders"')
    assert links.rows["table-claims"] == len(protocol.load().claims)
    assert links.headers["table-claims"][:3] == ["claim", "verdict", "deciding figures, 95% CI"]
    summary = json.loads((RESULTS / "summary.json").read_text(encoding="utf-8"))
    for claim in summary["claims"]:  # the README's claims, judged by the same analysis
        assert f"<strong>{claim['verdict']}</strong>" in html.replace("&#x27;", "'")
        for said in claim["said"]:
            assert escape(said) in html
    evidence = {value for tag, _, value in links.refs if tag == "a"}
    assert {"results-speed.html", "results.html"} <= evidence
    with contextlib.chdir(REPO):
        runs = [f for f in published_folders() if sources.kind(f) == "runs"]
    assert links.rows["table-evidence"] == len(runs)
    pages = sorted(p.name for p in site.glob("*.html") if p.name != "index.html")
    with contextlib.chdir(REPO):
        assert len(pages) == len(published_folders())
    for page in pages:
        assert page in evidence, f"index does not link {page}"


def test_without_run_folders_the_index_says_no_claims_were_judged(tmp_path):
    (tmp_path / "empty").mkdir()
    publish([tmp_path / "empty"], tmp_path / "site")
    html = read(tmp_path / "site", "index.html")
    assert "No claims were judged" in html
    assert 'id="table-claims"' not in html


# -- a run folder's page ------------------------------------------------------------------------


def test_a_run_folder_page_has_its_verdict_tables_figures_and_provenance(site):
    html = read(site, "results.html")
    links = parsed(site, "results.html")
    report = (RESULTS / "REPORT.md").read_text(encoding="utf-8")
    verdict = report.split("## Verdict\n\n")[1].split("\n\n")[0]  # what REPORT.md says
    first = verdict.split("**ml-100k.** ", 1)[1][:80]
    assert first in html.replace("<strong>", "**").replace("</strong>", "**")
    assert "table-claims" not in links.rows  # the default suite's folder decides no claim
    claims_page = parsed(site, "results-claims-1m.html")  # a deciding folder lists its own
    assert claims_page.rows["table-claims"] >= 2  # claims 3 and 4
    assert ("table-targets" in links.rows) == ("## Targets" in report)  # as REPORT.md has them
    results, _ = results_io.load(RESULTS)
    for number, dataset in enumerate(dict.fromkeys(results["dataset"]), 1):
        headers = links.headers[f"table-data-{number}"]
        assert headers[:3] == ["contender", "backend", "runs"]
        assert {"RMSE ± std", "NDCG@10 ± std", "fit s [min–max]", "ratings/s", "peak MB"} <= set(
            headers
        )
        ok = results[(results["dataset"] == dataset) & (results["status"] == "ok")]
        assert links.rows[f"table-data-{number}"] == ok.groupby(["label", "backend"]).ngroups
    assert links.rows["table-runs"] == len(results)
    assert "commit" in links.headers["table-runs"] and "data digest" in links.headers["table-runs"]
    # provenance: every session's commit (each run's from the session it started in)
    env = json.loads((RESULTS / "env.json").read_text(encoding="utf-8"))
    sessions = provenance.sessions(env)
    assert links.rows["table-load"] == len(sessions) >= 1
    commits = set(provenance.run_commits(results, env).str[:10])
    assert commits and all(commit in html for commit in commits)
    assert env["cpu"] in html  # the machine the runs were measured on
    if len(commits) > 1:
        assert "resumed on other code" in html  # the environment's caveat
    figures = json.loads(re.search(r'id="figures">(.*?)</script>', html, re.S).group(1))
    ids = {item["target_id"] for item in figures}
    assert ids == set(re.findall(r'<div id="([^"]+)" class="plot"', html))
    assert {"data-1-pareto-rating", "data-1-pareto-ranking", "data-1-epoch-time"} <= ids
    assert {"data-1-convergence-rmse", "data-1-convergence-ndcg_at_10"} <= ids
    for name in ("results.csv", "curves.csv", "env.json"):
        assert (site / "data" / "results" / name).read_bytes() == (RESULTS / name).read_bytes()


def test_a_folder_page_shows_its_targets_and_the_speed_findings_of_its_report(site):
    html = read(site, "results-cpu-targets.html")
    links = parsed(site, "results-cpu-targets.html")
    assert links.rows["table-targets"] == 5  # every target of suite/targets.toml
    report = (RESULTS / "cpu-targets" / "REPORT.md").read_text(encoding="utf-8")
    same_model = next(line for line in report.splitlines() if "Same model, trained two" in line)
    plain = same_model.removeprefix("- ").replace("**", "")
    shown = re.sub(r"<[^>]+>", "", html).replace("&#x27;", "'")
    assert plain in shown  # the report's sentence, every number with it


def test_a_folder_without_report_gets_its_verdict_from_its_runs(site):
    html = read(site, "results-ci.html")
    assert not (RESULTS / "ci" / "REPORT.md").exists()
    assert "<strong>ml-100k.</strong>" in html


def test_data_digests_show_where_records_have_them(tmp_path):
    folder = tmp_path / "runs"
    folder.mkdir()
    write_runs(folder, ["ok", "ok"], data_digest="ab" * 32, git_commit="f" * 40)
    publish([folder], tmp_path / "site")
    html = read(tmp_path / "site", "runs.html")
    assert "abababababab" in html and "ffffffffff" in html


def test_cost_growth_is_shown_with_the_fitted_slopes_where_a_folder_has_planted_sizes(site):
    html = read(site, "results-scaling.html")
    assert 'id="growth"' in html and "growth-epoch_s_median" in html
    found = analyse(RESULTS / "scaling").growth
    assert found
    group = found[0].rows
    slope = np.polyfit(np.log10(group["n_train"]), np.log10(group["epoch_s_median"]), 1)[0]
    assert fit(group, "epoch_s_median").slope == pytest.approx(slope)
    assert f"slope {slope:.2f}" in html
    assert 'id="growth"' not in read(site, "results-speed.html")  # one size: no growth


def test_figures_are_interactive_bokeh_figures(tmp_path):
    from bokeh.models import HoverTool, Legend, LogScale

    from suite.site import figures

    found = analyse(RESULTS)
    data = next(d for d in found.datasets if d.dataset == "ml-100k")
    runs = data.runs
    pareto = figures.pareto("p", data.pareto[Contest.RATING])
    assert isinstance(pareto.model.x_scale, LogScale)
    legend = pareto.model.select_one(Legend)
    assert legend.click_policy == "hide"
    names = [item.label.value for item in legend.items]
    assert "torch-biased-mf" in names and "Pareto frontier" in names
    assert any(name.startswith("bias-only (floor)") for name in names)
    hover = pareto.model.select_one(HoverTool)
    assert "@tip" in hover.tooltips
    tips = [r.data_source.data["tip"][0] for r in hover.renderers]
    numba = next(tip for tip in tips if tip.startswith("<b>numba-sgd</b>"))
    factors = {json.loads(p)["factors"] for p in runs[runs["model"] == "numba-sgd"]["params"]}
    shown = f"factors={factors.pop()}" if len(factors) == 1 else "factors=varies"  # per-fold tuning
    assert "settings: " in numba and shown in numba
    assert "folds 0–4 × seeds 0" in numba
    assert "off scale" in pareto.caption.lower() and "torch-mf-seed" in pareto.caption


# -- a tuning folder's page ---------------------------------------------------------------------


def test_a_tuning_folder_page_shows_the_trials_table_and_plot(tmp_path, capsys):
    searches = tmp_path / "tuning"
    for fold in (0, 1):  # a folder of per-fold searches, as the committed settings came from
        argv = ["tune", "--dataset", "synthetic-seed-2017", "--split", "kfold", "--folds", "3"]
        argv += ["--fold", fold, "--model", "torch-biased-mf,implicit-bpr", "--trials", "2"]
        argv += ["--max-epochs", "3", "--out", searches / f"fold-{fold}"]
        code, _, err = run_cli(argv, capsys)
        assert code == 0, err
    found = sources.discover(tmp_path)
    assert found == [searches / "fold-0", searches / "fold-1"]
    assert {sources.kind(folder) for folder in found} == {"tuning"}
    with contextlib.chdir(tmp_path):
        publish([Path("tuning/fold-1")], tmp_path / "site")
    links = parsed(tmp_path / "site", "tuning-fold-1.html")
    html = read(tmp_path / "site", "tuning-fold-1.html")
    trials = sources.trials(searches / "fold-1" / "trials.csv")
    assert len(trials) == 4
    assert links.rows["table-trials"] == len(trials)
    assert links.rows["table-winners"] == trials["model"].nunique() == 2
    assert "trials-rating" in html and "trials-ranking" in html
    assert "training part of fold 1" in html  # the protocol its settings.toml records


# -- offline and light ----------------------------------------------------------------------------


def test_every_script_and_style_is_in_the_site(site):
    pages = sorted(site.glob("*.html"))
    assert pages
    for page in pages:
        for tag, _, value in parsed(site, page.name).refs:
            if tag in ("script", "link", "img", "iframe"):
                assert not re.match(r"(https?:)?//", value), f"{page.name}: {tag} {value}"
                assert (site / value).is_file(), f"{page.name}: {value} is not in the site"
            elif tag == "a" and not re.match(r"(https?:|#)", value):
                assert (site / value.split("#")[0]).is_file(), f"{page.name}: broken {value}"
        html = page.read_text(encoding="utf-8")
        assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:)?//[^"']*\.(js|css)""", html)
        assert "@import" not in html and "fonts.googleapis" not in html
    for asset in ("site.css", "site.js"):
        text = (site / "assets" / asset).read_text(encoding="utf-8")
        assert "http:" not in text and "https:" not in text and "@import" not in text
        assert "url(" not in text


def test_the_site_of_todays_results_is_light(site):
    size = sum(path.stat().st_size for path in site.rglob("*") if path.is_file())
    assert size < MAX_SITE_BYTES, f"{size / 1e6:.1f} MB"


def test_publish_says_one_line_per_folder(site):
    lines = (site.parent / "lines.txt").read_text(encoding="utf-8").splitlines()
    with contextlib.chdir(REPO):
        assert len(lines) == len(published_folders()) + 1
    assert lines[0].startswith("results -> results.html: ")
    assert lines[-1].startswith("site: ") and "MB" in lines[-1]


# -- small folders and bad input ------------------------------------------------------------------


def record(run_id: str, status: str, seed: int, **values) -> dict:
    base = {
        "run_id": run_id,
        "dataset": "toy",
        "split": "holdout",
        "fold": 0,
        "seed": seed,
        "model": "torch-biased-mf",
        "backend": "cpu",
        "n_threads": 1,
        "params": {"factors": 8, "epochs": 3, "seed": seed},
        "status": status,
        "reason": "" if status == "ok" else "RuntimeError: boom",
        "n_users": 10,
        "n_items": 20,
        "n_train": 80,
        "n_test": 20,
        "started_at": "2026-01-01T00:00:00Z",
        "config": "test",
    }
    if status == "ok":
        base.update(
            epochs=3,
            rmse=0.9 + seed / 100,
            mae=0.7,
            precision_at_10=0.1,
            recall_at_10=0.1,
            ndcg_at_10=0.2,
            map_at_10=0.1,
            fit_s=0.5,
            predict_s=0.01,
            epoch_s_median=0.1,
            ratings_per_s=480.0,
            ratings_processed=240,
            peak_rss_mb=100.0,
            peak_gpu_mb=None,
        )
    base.update(values)
    return base


def write_runs(folder: Path, statuses: list[str], **values) -> None:
    records = [record(f"r{n}", s, n, **values) for n, s in enumerate(statuses)]
    results_io.append(folder / results_io.RESULTS_FILE, records)
    curves = [
        {
            "run_id": r["run_id"],
            "epoch": e,
            "elapsed_s": 0.1 * e,
            "epoch_s": 0.1,
            "train_loss": 1.0 / e,
            "test_rmse": 1.0 - e / 100,
            "test_ndcg_at_10": 0.1 * e,
        }
        for r in records
        if r["status"] == "ok"
        for e in (1, 2, 3)
    ]
    results_io.append(folder / results_io.CURVES_FILE, curves)


def test_empty_failed_only_and_single_run_folders_still_publish(tmp_path, capsys):
    empty, failed, single = (tmp_path / name for name in ("empty", "failed", "single"))
    for folder in (empty, failed, single):
        folder.mkdir()
    write_runs(failed, ["failed", "failed"])
    write_runs(single, ["ok"])
    code, out, err = run_cli(["publish", empty, failed, single, "--out", tmp_path / "site"], capsys)
    assert code == 0, err
    lines = out.splitlines()
    assert len(lines) == 4, out
    assert "empty folder" in lines[0] and "empty.html" in lines[0]
    assert "no successful run (2 failed)" in lines[1]
    assert "a single successful run" in lines[2]
    site = tmp_path / "site"
    assert "holds no results" in read(site, "empty.html")
    failed_html = read(site, "failed.html")
    assert "No successful runs" in failed_html and "RuntimeError: boom" in failed_html
    assert parsed(site, "failed.html").rows["table-runs"] == 2
    single_html = read(site, "single.html")
    assert parsed(site, "single.html").rows["table-data-1"] == 1
    assert "single run" in single_html  # the computed verdict says it cannot test


def test_publishing_again_replaces_the_site_and_nothing_else(tmp_path):
    folder = tmp_path / "single"
    folder.mkdir()
    write_runs(folder, ["ok", "ok"])
    out = tmp_path / "site"
    publish([folder], out)
    (out / "stale.html").write_text("old", encoding="utf-8")
    publish([folder], out)
    assert not (out / "stale.html").exists() and (out / "single.html").is_file()
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]


def test_bad_input_is_one_line_and_exit_2(tmp_path, capsys):
    assert_one_line_error(
        ["publish", tmp_path / "nowhere", "--out", tmp_path / "site"], capsys, "nowhere", "no such"
    )
    blocker = tmp_path / "file.txt"
    blocker.write_text("x", encoding="utf-8")
    folder = tmp_path / "single"
    folder.mkdir()
    write_runs(folder, ["ok"])
    assert_one_line_error(
        ["publish", folder, "--out", blocker / "site"], capsys, "--out", "is a file"
    )
    assert_one_line_error(["publish", folder, "--out", blocker], capsys, "--out", "is a file")
    (tmp_path / "mine").mkdir()
    (tmp_path / "mine" / "notes.txt").write_text("keep me", encoding="utf-8")
    assert_one_line_error(
        ["publish", folder, "--out", tmp_path / "mine"], capsys, "not a site mfbench wrote"
    )
    assert (tmp_path / "mine" / "notes.txt").read_text(encoding="utf-8") == "keep me"
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "results.csv").write_text("run_id\nx\n", encoding="utf-8")
    assert_one_line_error(["publish", broken, "--out", tmp_path / "s"], capsys, "broken")
    assert not (tmp_path / "s").exists()


def test_default_is_the_results_folder_of_the_working_folder(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert_one_line_error(["publish"], capsys, "results", "no such folder")
    shutil.copytree(RESULTS / "ci", tmp_path / "results" / "ci")  # the smallest committed one
    (tmp_path / "results" / "runs").mkdir()
    code, out, err = run_cli(["publish"], capsys)
    assert code == 0, err
    assert "results/ci -> results-ci.html" in out
    assert (tmp_path / "site" / "results-ci.html").is_file()
    assert 'id="table-claims"' in read(tmp_path / "site", "index.html")  # judged from results/ci
    assert build.MARKER in {p.name for p in (tmp_path / "site").iterdir()}


# -- the HTML builders --------------------------------------------------------------------------


def test_a_sentence_is_escaped_and_its_bold_fragments_drawn_without_parsing_markup():
    said = ("Best: ", Strong("a<script>"), ", **not bold** & <b>")
    assert sentence(said) == (
        "Best: <strong>a&lt;script&gt;</strong>, **not bold** &amp; &lt;b&gt;"
    )
    assert markdown(said) == "Best: **a<script>**, **not bold** & <b>"


def test_tables_carry_sort_keys():
    table = Table(
        ["a", "b"], [[Cell("x<1", "x"), Cell("2.5", 2.5)], [Cell("", ""), Cell("", None)]]
    )
    html = render_table(table, "t")
    assert 'data-sort="2.5" data-type="n" class="num"' in html
    assert 'data-sort="" data-type="n"' in html  # a missing number sorts last
    assert "x&lt;1" in html and 'data-table="t"' in html


def test_the_tuning_searches_share_one_drop_down_named_after_the_page_on_their_own() -> None:
    links = [
        ("index.html", "index"),
        ("results.html", "results"),
        ("results-tuning-fold-0.html", "results/tuning/fold-0"),
        ("results-tuning-fold-1.html", "results/tuning/fold-1"),
    ]
    front = layout._navigation(links, "index.html")
    assert front.count("<details>") == 1 and "<summary>results/tuning (2)</summary>" in front
    assert front.index('href="results.html"') < front.index("<details>")
    assert '<a href="results-tuning-fold-1.html">fold-1</a>' in front  # inside the drop-down
    own = layout._navigation(links, "results-tuning-fold-1.html")
    assert '<summary class="current">results/tuning/fold-1</summary>' in own
    assert 'aria-current="page">fold-1</a>' in own
    assert "<details>" not in layout._navigation(links[:2], "index.html")
