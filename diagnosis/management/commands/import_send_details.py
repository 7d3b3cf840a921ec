"""`manage.py import_send_details FILE [--encoding E] [--timezone Z] [--batch-size N]`.

Stores the rows of a Send Details CSV export (Huawei Cloud SMS console) as status
reports; see `diagnosis.delivery.send_details` for the columns it understands.
"""

from __future__ import annotations

import argparse
import codecs
from functools import partial
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from diagnosis.cases import matching
from diagnosis.delivery.send_details import (
    MissingColumns,
    SendDetailsError,
    import_send_details,
    parse_zone,
)

CHUNK = 1 << 16


def positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError("must be at least 1")
    return value


class Command(BaseCommand):
    help = "Import a Send Details CSV export as status reports. Importing a file again is safe."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path, help="The exported CSV file.")
        parser.add_argument(
            "--encoding",
            default="utf-8-sig",
            help="The file's text encoding (default utf-8-sig; gb18030 for files saved on Chinese systems).",
        )
        parser.add_argument(
            "--timezone",
            default="UTC",
            help="Time zone of times written without an offset, e.g. Asia/Shanghai (default UTC).",
        )
        parser.add_argument(
            "--batch-size", type=positive_int, default=2000, help="Rows stored per transaction."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        path: Path = options["file"]
        encoding: str = options["encoding"]
        try:
            codecs.lookup(encoding)
            parse_zone(options["timezone"])
        except LookupError:
            raise CommandError(f"Unknown encoding {encoding!r}.") from None
        except SendDetailsError as exc:
            raise CommandError(str(exc)) from None
        check_decodes(path, encoding)
        try:
            with path.open(encoding=encoding, newline="") as handle:
                summary = import_send_details(
                    handle,
                    batch_size=options["batch_size"],
                    timezone_name=options["timezone"],
                    resume=matching.reports_arrived,
                )
        except OSError as exc:
            raise CommandError(f"Cannot read {path}: {exc.strerror or exc}.") from None
        except UnicodeDecodeError as exc:
            raise CommandError(undecodable(path, encoding, exc.reason)) from None
        except MissingColumns as exc:
            hint = "Other names can be added with the SEND_DETAILS_COLUMNS setting."
            raise CommandError(f"{path}: {exc} {hint}") from None
        except SendDetailsError as exc:
            raise CommandError(f"{path}: {exc}") from None
        self.stdout.write(str(summary))


def check_decodes(path: Path, encoding: str) -> None:
    """Read the whole file once before importing, so a bad byte stops it before anything is stored."""
    decoder = codecs.getincrementaldecoder(encoding)()
    line = 1
    try:
        with path.open("rb") as handle:
            for chunk in iter(partial(handle.read, CHUNK), b""):
                line += decoder.decode(chunk).count("\n")
            decoder.decode(b"", final=True)
    except FileNotFoundError:
        raise CommandError(f"No such file: {path}") from None
    except OSError as exc:
        raise CommandError(f"Cannot read {path}: {exc.strerror or exc}.") from None
    except UnicodeDecodeError as exc:
        line += exc.object[: exc.start].count(b"\n")
        raise CommandError(undecodable(path, encoding, f"line {line}: {exc.reason}")) from None


def undecodable(path: Path, encoding: str, detail: str) -> str:
    return (
        f"{path} is not {encoding} text ({detail}). Pass the file's encoding, "
        "e.g. --encoding gb18030 for a file saved by Excel on a Chinese system."
    )
