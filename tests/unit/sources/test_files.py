import gzip

import pytest

from insight_hub.sources import files


def test_discover_sorts_and_stays_inside_landing(tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "x_2.csv").write_text("h\n1\n")
    (tmp_path / "a" / "x_1.csv").write_text("h\n1\n")
    outside = tmp_path.parent / f"{tmp_path.name}_outside.csv"
    outside.write_text("h\n")
    (tmp_path / "a" / "x_3.csv").symlink_to(outside)
    found = files.discover(tmp_path, "a/x_*.csv")
    assert [p.name for p in found] == ["x_1.csv", "x_2.csv"]


def test_missing_landing_folder_is_a_clear_error(tmp_path):
    with pytest.raises(files.SourceFileError, match="landing folder .*nope does not exist"):
        files.discover(tmp_path / "nope", "*.csv")


def test_bom_is_removed_and_header_read(tmp_path):
    path = tmp_path / "bom.csv"
    path.write_bytes(b"\xef\xbb\xbfid,name\n1,A\n")
    assert files.csv_header(path, ",", "utf-8") == ["id", "name"]
    assert b"".join(files.csv_body_chunks(path, "utf-8")) == b"id,name\n1,A\n"


def test_gzip_csv_is_read_through(tmp_path):
    path = tmp_path / "x.csv.gz"
    with gzip.open(path, "wb") as fh:
        fh.write(b"a;b\n1;2\n")
    assert files.csv_header(path, ";", "utf-8") == ["a", "b"]


def test_corrupt_gzip_names_the_file(tmp_path):
    path = tmp_path / "broken.csv.gz"
    path.write_bytes(b"this is not gzip")
    with pytest.raises(files.SourceFileError, match="cannot read .*broken.csv.gz"):
        files.csv_header(path, ",", "utf-8")


def test_checksum_identifies_content_not_name(tmp_path):
    a, b = tmp_path / "a.csv", tmp_path / "b.csv"
    a.write_text("x\n1\n")
    b.write_text("x\n1\n")
    assert files.checksum(a) == files.checksum(b)
    b.write_text("x\n2\n")
    assert files.checksum(a) != files.checksum(b)


def test_jsonl_records_flag_lines_that_are_not_objects(tmp_path):
    path = tmp_path / "r.jsonl"
    path.write_text('{"a": 1}\n\nnot json\n[1, 2]\n{"a": {"b": true}}\n')
    records = list(files.jsonl_records(path, "utf-8"))
    assert [(n, r is not None) for n, _, r in records] == [(1, True), (3, False), (4, False), (5, True)]
    assert files.dig(records[-1][2], "a.b") == "true"
    assert files.dig(records[0][2], "a") == "1"
    assert files.dig(records[0][2], "missing.path") is None
