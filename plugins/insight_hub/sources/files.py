"""File sources: find files in the landing folder and stream their records.

CSV files are streamed to PostgreSQL byte for byte (COPY parses them), so a
file is never held in memory whole; JSON Lines are parsed a line at a time.
Either kind may be gzip-compressed (`.gz`).
"""

from __future__ import annotations

import codecs
import csv
import gzip
import hashlib
import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import IO

CHUNK = 1 << 20

# Python's csv module refuses fields over 128 KiB; PostgreSQL takes a text value up to 1 GB. Records are
# read field by field only when COPY cannot take the file whole, and an oversized field must then reach
# the same size check (and quarantine) as it would through COPY, not stop the batch.
csv.field_size_limit(1 << 30)


class SourceFileError(RuntimeError):
    """A landing folder or file cannot be used; the message names it."""


def discover(landing: Path, pattern: str) -> list[Path]:
    """Files under `landing` matching `pattern`, in name order; never anything outside `landing`."""
    landing = Path(landing)
    if not landing.is_dir():
        raise SourceFileError(
            f"landing folder {landing} does not exist (set INSIGHT_HUB_LANDING_DIR or run demo-data)"
        )
    root = landing.resolve()
    found = []
    for path in sorted(landing.glob(pattern)):
        resolved = path.resolve()
        if path.is_file() and resolved.is_relative_to(root):
            found.append(path)
    return found


def open_binary(path: Path) -> IO[bytes]:
    try:
        return gzip.open(path, "rb") if path.suffix == ".gz" else path.open("rb")
    except OSError as exc:
        raise SourceFileError(f"cannot read {path}: {exc.strerror or exc}") from exc


def checksum(path: Path) -> str:
    """SHA-256 of the file's bytes as stored: the identity of a batch."""
    digest = hashlib.sha256()
    try:
        with path.open("rb") as fh:
            for block in iter(lambda: fh.read(CHUNK), b""):
                digest.update(block)
    except OSError as exc:
        raise SourceFileError(f"cannot read {path}: {exc.strerror or exc}") from exc
    return digest.hexdigest()


def _decoded(raw: IO[bytes], encoding: str, **kwargs) -> io.TextIOWrapper:
    """Text over a binary stream; for UTF-8, utf-8-sig drops a byte-order mark that would otherwise
    stick to the first column name."""
    name = python_encoding(encoding)
    return io.TextIOWrapper(raw, encoding="utf_8_sig" if name == "utf_8" else name, **kwargs)


def _skip_lines(stream: IO, lines: int) -> None:
    for _ in range(lines):
        if not stream.readline():
            return


def csv_header(path: Path, delimiter: str, encoding: str, header_row: int = 1) -> list[str]:
    with open_binary(path) as raw:
        text = _decoded(raw, encoding, newline="")
        try:
            _skip_lines(text, header_row - 1)
            header = next(csv.reader(text, delimiter=delimiter))
        except StopIteration:
            raise SourceFileError(f"{path} is empty: no header row") from None
        except UnicodeDecodeError as exc:
            raise SourceFileError(f"{path}: header is not valid {encoding}: {exc.reason}") from exc
        except OSError as exc:
            raise SourceFileError(f"cannot read {path}: {exc}") from exc
    return [h.strip() for h in header]


def csv_body_chunks(path: Path, encoding: str, header_row: int = 1) -> Iterator[bytes]:
    """The file's bytes from the header line on, a UTF-8 byte-order mark removed, in bounded chunks."""
    with open_binary(path) as raw:
        _skip_lines(raw, header_row - 1)
        first = header_row == 1
        for block in iter(lambda: raw.read(CHUNK), b""):
            if first and python_encoding(encoding) == "utf_8" and block.startswith(codecs.BOM_UTF8):
                block = block[len(codecs.BOM_UTF8) :]
            first = False
            yield block


def csv_records(
    path: Path, delimiter: str, encoding: str, header_row: int = 1
) -> Iterator[tuple[int, list[str]]]:
    """(line where the record starts, fields) for each data record after the header."""
    with open_binary(path) as raw:
        text = _decoded(raw, encoding, errors="replace", newline="")
        _skip_lines(text, header_row - 1)
        reader = csv.reader(text, delimiter=delimiter)
        next(reader, None)
        start = reader.line_num + 1
        for fields in reader:
            yield start + header_row - 1, fields
            start = reader.line_num + 1


def jsonl_records(path: Path, encoding: str) -> Iterator[tuple[int, str, dict | None]]:
    """(line number, raw line, parsed object or None when the line is not a JSON object)."""
    with open_binary(path) as raw:
        text = _decoded(raw, encoding, errors="replace")
        for number, line in enumerate(text, start=1):
            if not line.strip():
                continue
            try:
                value = json.loads(line)
            except json.JSONDecodeError:
                yield number, line.rstrip("\n"), None
                continue
            yield number, line.rstrip("\n"), value if isinstance(value, dict) else None


def parquet_records(path: Path, columns: list[str], batch_rows: int = 50_000) -> Iterator[dict]:
    """Rows of a Parquet file as dicts, a record batch at a time (never the whole file in memory)."""
    import pyarrow.parquet as pq

    try:
        parquet = pq.ParquetFile(path)
    except (OSError, ValueError) as exc:
        raise SourceFileError(f"cannot read {path} as Parquet: {exc}") from exc
    present = [c for c in columns if c in parquet.schema_arrow.names]
    for batch in parquet.iter_batches(batch_size=batch_rows, columns=present):
        yield from batch.to_pylist()


def dig(record: dict, dotted: str) -> str | None:
    """Value at a dotted path, as text the way PostgreSQL reads it; None when absent or null."""
    if dotted in record:
        value: object = record[dotted]
        return None if value is None else _text(value)
    value = record
    for part in dotted.split("."):
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    if value is None:
        return None
    return _text(value)


def _text(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list):
        return json.dumps(value, default=str)
    if hasattr(value, "isoformat"):
        return value.isoformat()
    return str(value)


def python_encoding(name: str) -> str:
    return codecs.lookup(name).name.replace("-", "_") if name else "utf_8"
