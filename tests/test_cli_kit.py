"""The shared CLI style: --format/-o writes real files whose types survive the round trip, list options split one
way, and SeeknalErrors become messages with their exit code (never a traceback)."""

from __future__ import annotations

import datetime as dt
import decimal
import json

import click
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner
from hypothesis import given, settings
from hypothesis import strategies as st

from seeknal_sqlmesh import cli_kit
from seeknal_sqlmesh.errors import CheckFailed, SeeknalError

SAMPLE = pa.table(
    {
        "day": pa.array([dt.date(2024, 1, 1), dt.date(2024, 2, 29), None], pa.date32()),
        "at": pa.array([dt.datetime(2024, 1, 1, 12, 30), None, dt.datetime(2023, 12, 31, 23, 59, 59)], pa.timestamp("us")),
        "n": pa.array([1, -2, 3_000_000_000], pa.int64()),
        "x": pa.array([0.1, 13599.06, None], pa.float64()),
        "amount": pa.array([decimal.Decimal("1.10"), decimal.Decimal("-3.00"), None], pa.decimal128(10, 2)),
        "name": pa.array(["a", "b,c", 'quote "q"'], pa.string()),
    }
)


def test_parquet_keeps_every_type(tmp_path):
    out = tmp_path / "r.parquet"
    assert cli_kit.emit(SAMPLE, None, out, metadata={"seeknal": "yes"}) == "parquet"
    back = pq.read_table(out)
    assert back.schema.remove_metadata() == SAMPLE.schema
    assert back.to_pylist() == SAMPLE.to_pylist()
    assert back.schema.metadata[b"seeknal"] == b"yes"


def test_csv_reads_back_with_dates_as_dates(tmp_path):
    out = tmp_path / "r.csv"
    cli_kit.emit(SAMPLE, None, out)
    frame = pd.read_csv(out, parse_dates=["day", "at"])
    assert list(frame.columns) == SAMPLE.column_names
    assert frame["day"].dt.date.tolist()[:2] == [dt.date(2024, 1, 1), dt.date(2024, 2, 29)]
    assert frame["n"].dtype == "int64" and frame["n"].tolist() == [1, -2, 3_000_000_000]
    assert frame["name"].tolist() == ["a", "b,c", 'quote "q"']
    assert "2024-01-01," in out.read_text()  # a date, not a timestamp


def test_json_writes_dates_as_dates_and_numbers_as_numbers(tmp_path):
    out = tmp_path / "r.json"
    cli_kit.emit(SAMPLE, None, out)
    rows = json.loads(out.read_text())
    assert rows[0] == {"day": "2024-01-01", "at": "2024-01-01T12:30:00", "n": 1, "x": 0.1, "amount": 1.1, "name": "a"}
    assert rows[2]["x"] is None and rows[1]["amount"] == -3
    frame = pd.read_json(out, convert_dates=["day"])
    assert frame["n"].dtype == "int64"


def test_format_flag_wins_over_the_extension_and_unknown_extensions_are_refused(tmp_path):
    out = tmp_path / "r.txt"
    cli_kit.emit(SAMPLE, "csv", out)
    assert out.read_text().splitlines()[0] == "day,at,n,x,amount,name"
    with pytest.raises(SeeknalError, match="cannot tell the format"):
        cli_kit.emit(SAMPLE, None, tmp_path / "r.xlsx")
    with pytest.raises(SeeknalError, match="not printed"):
        cli_kit.emit(SAMPLE, "parquet", None)


def test_a_failed_write_leaves_no_file(tmp_path):
    out = tmp_path / "r.parquet"
    with pytest.raises(pa.ArrowInvalid):
        cli_kit.emit(pd.DataFrame({"mixed": [1, "a"]}), None, out)
    assert not out.exists() and list(tmp_path.iterdir()) == []


def test_written_files_follow_the_umask(tmp_path):
    import os

    out = tmp_path / "r.csv"
    old = os.umask(0o022)
    try:
        cli_kit.emit(SAMPLE, None, out)
    finally:
        os.umask(old)
    assert out.stat().st_mode & 0o777 == 0o644


def test_plain_table_when_not_a_terminal(capsys):
    cli_kit.emit(SAMPLE, "table", None)
    text = capsys.readouterr().out
    lines = text.splitlines()
    assert lines[0].split() == SAMPLE.column_names
    assert "─" not in text and "│" not in text  # no box drawing in pipes and files
    assert "3000000000" in text and "2024-02-29" in text


@given(st.lists(st.text(max_size=8), max_size=6), st.integers(min_value=1, max_value=3))
@settings(max_examples=200, deadline=None)
def test_split_list_is_the_same_for_one_option_or_many(items, chunks):
    joined = ",".join(items)
    size = max(1, len(items) // chunks)
    repeated = [",".join(items[i : i + size]) for i in range(0, len(items), size)]
    expected = []
    for item in items:
        for part in item.split(","):
            if part.strip() and part.strip() not in expected:
                expected.append(part.strip())
    assert cli_kit.split_list(joined) == expected
    assert cli_kit.split_list(repeated) == expected


def test_seeknal_errors_become_messages_with_their_exit_code():
    @click.group(cls=cli_kit.SeeknalGroup)
    def root() -> None:
        pass

    @root.command()
    @click.option("--fail", type=click.Choice(["input", "check", "bug"]))
    def run(fail: str) -> None:
        if fail == "input":
            raise SeeknalError("metric 'revnue' is unknown", "did you mean revenue?")
        if fail == "check":
            raise CheckFailed("2 audits failed")
        raise RuntimeError("a bug")

    runner = CliRunner()
    bad = runner.invoke(root, ["run", "--fail", "input"])
    assert bad.exit_code == 2
    assert bad.output == "error: metric 'revnue' is unknown\n  hint: did you mean revenue?\n"
    check = runner.invoke(root, ["run", "--fail", "check"])
    assert check.exit_code == 1 and "error: 2 audits failed" in check.output
    bug = runner.invoke(root, ["run", "--fail", "bug"])
    assert isinstance(bug.exception, RuntimeError)  # bugs are not dressed up as user errors


def test_project_option_refuses_a_folder_that_is_neither_project(tmp_path):
    @click.group(cls=cli_kit.SeeknalGroup)
    def root() -> None:
        pass

    @root.command()
    @cli_kit.project_option
    def show(project) -> None:
        click.echo(project.translated)

    result = CliRunner().invoke(root, ["show", "-p", str(tmp_path)])
    assert result.exit_code == 2
    assert result.output.startswith(f"error: {tmp_path.resolve()} is neither a Seeknal project")


def test_repeated_column_names_are_kept_apart(tmp_path):
    table = pa.Table.from_arrays([pa.array([1]), pa.array([2]), pa.array(["x"])], names=["a", "a", "b"])
    out = tmp_path / "r.json"
    cli_kit.emit(table, None, out)
    assert json.loads(out.read_text()) == [{"a": 1, "a_2": 2, "b": "x"}]
    cli_kit.emit(table, "csv", tmp_path / "r.csv")
    assert (tmp_path / "r.csv").read_text().splitlines() == ["a,a_2,b", "1,2,x"]
