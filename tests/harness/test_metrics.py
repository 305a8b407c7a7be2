"""metrics.tsv: what a run writes reads back, and the published entries' TSVs read as they were
written (stanford-futuredata/dawn-bench-entries: byte-order marks, `hours` before `epoch`, CRLF,
fractional epochs), while a cell that is not a finite number names its line."""
from __future__ import annotations

import pytest
from hypothesis import given, strategies as st

from repro.harness.metrics import MetricsRow, parse, to_text

fractions = st.one_of(st.none(), st.floats(0, 1, allow_nan=False))


@given(st.lists(st.tuples(st.integers(1, 10_000), st.floats(0, 1e4, allow_nan=False), fractions, fractions),
                min_size=1, max_size=20))
def test_what_a_run_writes_reads_back(rows):
    written = [MetricsRow(epoch, hours, top1, top5) for epoch, hours, top1, top5 in rows]
    back = parse(to_text(written))
    assert [r.epoch for r in back] == [r.epoch for r in written]
    for got, wrote in zip(back, written):
        assert got.hours == pytest.approx(wrote.hours, abs=1e-8)
        for key in ("top1", "top5"):
            if getattr(wrote, key) is None:
                # a column the file has for other rows is empty here; one it lacks is None too
                assert getattr(got, key) is None
            else:
                assert getattr(got, key) == pytest.approx(getattr(wrote, key), abs=1e-6)


def test_a_published_tsv_with_a_bom_crlf_and_hours_first_reads_by_column_name():
    text = "\ufeffhours\tepoch\ttop1Accuracy\ttop5Accuracy\r\n0.5\t1\t60\t92.9\r\n0.9\t2\t70\t93.0\r\n"
    assert parse(text) == [MetricsRow(1, 0.5, 0.6, 0.929), MetricsRow(2, 0.9, 0.7, 0.93)]


def test_fractional_epochs_are_kept_as_logged():
    rows = parse("epoch\thours\ttop1Accuracy\n1.00096\t0.09\t41.3\n2.0\t0.18\t50\n")
    assert [r.epoch for r in rows] == [1.00096, 2]
    assert type(rows[1].epoch) is int


@pytest.mark.parametrize("line", ["1\tinf\t95", "1\tnan\t95", "1\t0.1\tNaN", "1\t0.1\t-inf", "nan\t0.1\t95",
                                  "1\t-0.1\t95", "1", "1\tabc\t95"])
def test_a_row_that_is_not_finite_numbers_names_its_line(line):
    with pytest.raises(ValueError, match=r"TSV line 3 is not a row of finite numbers"):
        parse(f"epoch\thours\ttop1Accuracy\n1\t0.05\t50\n{line}\n")


def test_a_header_without_epoch_and_hours_is_refused():
    with pytest.raises(ValueError, match="lacks the epoch and hours columns"):
        parse("step\ttime\ttop1Accuracy\n1\t0.1\t50\n")
    assert parse("") == [] and parse("\ufeff\n\n") == []
