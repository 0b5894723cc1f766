"""Out-of-sample errors of the performance model, for its error bands (:mod:`.bands`).

Leave one source out: the cases are grouped by source (:func:`source_group`: an MLPerf
round's submitter, a repository, a paper), and each group is predicted by the model
fitted (:func:`arbiter.perf.fitting.fit`, the shipped procedure unchanged) on every other
group. MLPerf rounds after v4.1 (:func:`held_out`) are in no fit: they are predicted by
the shipped parameters, which never saw them. Cases the model cannot predict are left out
as in validation. Needs SciPy (the fit), like ``scripts/fit_perf.py``; :mod:`.cross_validation`
reports the same residuals by platform, chip and kind.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from urllib.parse import urlparse

from arbiter.domain.accelerator import Accelerator
from arbiter.perf.bands import Residual, band_kind_of_case
from arbiter.perf.cases import BenchmarkCase
from arbiter.perf.efficiency import Efficiency
from arbiter.perf.predict import Unpredictable, predict
from arbiter.perf.validation import question_for

LAST_FITTED_ROUND = (4, 1)
_ROUND = re.compile(r"(?:inference|training)_results_v(\d+)\.(\d+)|mlp(?:inf|train)-v(\d+)\.(\d+)")
_MLPERF = re.compile(
    r"mlcommons/((?:inference|training)_results_v[\d.]+)/tree/[^/]+/"
    r"(?:(?:closed|open|preview)/)?([^/]+)"
)


def mlperf_round(case: BenchmarkCase) -> tuple[int, int] | None:
    """The MLPerf round ``(major, minor)`` a case comes from, or None."""
    m = _ROUND.search(case.source) or _ROUND.search(case.case_id)
    if m is None:
        return None
    major, minor = (g for g in m.groups() if g is not None)
    return int(major), int(minor)


def held_out(case: BenchmarkCase) -> bool:
    """An MLPerf round after v4.1: the out-of-sample check, never fitted."""
    found = mlperf_round(case)
    return found is not None and found > LAST_FITTED_ROUND


def _mlperf_group(case: BenchmarkCase) -> str | None:
    """``<results repository> <submitter>`` of an MLPerf case, else None."""
    m = _MLPERF.search(case.source)
    return None if m is None else f"{m.group(1)} {m.group(2)}"


def source_group(case: BenchmarkCase) -> str:
    """The source a case is left out with: one published document.

    ``<results repository> <submitter>`` for MLPerf (a submitter's results of one round);
    for a file in a GitHub repository, the repository and at most the first three folders
    of the file's path, whatever the commit
    (``github.com/aws-neuron/aws-neuron-sdk/general/benchmarks/trn1``: the tables of one
    performance page; ``.../training/trillium/Llama3.1-8B-MaxText``: one recipe at every
    slice size); else the page's host and path (a paper, a vendor's performance page, a
    blog post). A vendor's pages of different chips or workloads are different sources;
    :func:`publisher_group` is the coarser grouping, by repository or site."""
    mlperf = _mlperf_group(case)
    if mlperf is not None:
        return mlperf
    url = urlparse(case.source)
    parts = [p for p in url.path.split("/") if p]
    if url.netloc.endswith("github.com") and len(parts) > 4 and parts[2] in ("blob", "tree"):
        folder = parts[4:-1] if parts[2] == "blob" else parts[4:]
        return "/".join(["github.com", parts[0], parts[1], *folder[:3]])
    return "/".join([url.netloc, *parts]) if url.netloc else case.source


def publisher_group(case: BenchmarkCase) -> str:
    """The coarser source: an MLPerf round's submitter, else the repository (host and first
    two path parts) or the site (``intel.com``) that published it."""
    mlperf = _mlperf_group(case)
    if mlperf is not None:
        return mlperf
    url = urlparse(case.source)
    if not url.netloc:
        return case.source
    if url.netloc.endswith("github.com"):
        parts = [p for p in url.path.split("/") if p][:2]
        return "/".join([url.netloc, *parts])
    return url.netloc


GROUPINGS: dict[str, Callable[[BenchmarkCase], str]] = {
    "document": source_group,
    "publisher": publisher_group,
}


def _residuals(
    cases: Iterable[BenchmarkCase],
    accelerators: Mapping[str, Accelerator],
    eff: Efficiency,
    grouping: Callable[[BenchmarkCase], str] = source_group,
) -> list[Residual]:
    out = []
    for case in cases:
        try:
            question = question_for(case, accelerators)
            value = predict(question, eff)
        except Unpredictable:
            continue
        out.append(
            Residual(
                case_id=case.case_id,
                group=grouping(case),
                platform=question.accelerator.platform.value,
                kind=band_kind_of_case(case.kind.value),
                predicted=value,
                published=case.value,
                accelerator=question.accelerator.name,
            )
        )
    return out


def fold_residuals(
    cases: Sequence[BenchmarkCase],
    accelerators: Mapping[str, Accelerator],
    group: str,
    start: Efficiency | None = None,
    grouping: Callable[[BenchmarkCase], str] = source_group,
) -> list[Residual]:
    """The cases of source ``group`` predicted by the model fitted without it (and
    without any held-out round), the fit started from ``start`` when given."""
    from arbiter.perf.fitting import fit  # noqa: PLC0415 - SciPy, loaded on use

    train = [c for c in cases if not held_out(c) and grouping(c) != group]
    test = [c for c in cases if not held_out(c) and grouping(c) == group]
    eff = fit(train, accelerators, source=f"all but {group}", start=start).efficiency
    return _residuals(test, accelerators, eff, grouping)


def groups_of(
    cases: Iterable[BenchmarkCase], grouping: Callable[[BenchmarkCase], str] = source_group
) -> list[str]:
    """The source groups of the fitted cases, sorted."""
    return sorted({grouping(c) for c in cases if not held_out(c)})


def out_of_sample_residuals(
    cases: Sequence[BenchmarkCase],
    accelerators: Mapping[str, Accelerator],
    shipped: Efficiency,
    run_folds: Callable[[list[str]], list[list[Residual]]] | None = None,
    grouping: Callable[[BenchmarkCase], str] = source_group,
) -> list[Residual]:
    """Every predictable case's out-of-sample residual, in case order. ``run_folds`` maps
    the groups to their :func:`fold_residuals` (a process pool in the build script);
    by default they run one after the other."""
    groups = groups_of(cases, grouping)
    if run_folds is None:
        folds = [fold_residuals(cases, accelerators, g, grouping=grouping) for g in groups]
    else:
        folds = run_folds(groups)
    found = {r.case_id: r for fold in folds for r in fold}
    held = [c for c in cases if held_out(c)]
    found.update({r.case_id: r for r in _residuals(held, accelerators, shipped, grouping)})
    return [found[c.case_id] for c in cases if c.case_id in found]
