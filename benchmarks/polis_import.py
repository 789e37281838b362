"""Time Polis import (parse + bulk insert) and export on the real exports in ../shared/polis-opendata.

Run from the repository root: `PYTHONPATH=. python benchmarks/polis_import.py [FOLDER ...]`. Prints one line per
conversation: vote events, seconds to read, to write into a fresh SQLite database, and to export.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

from sqlmodel import Session

from app import create_app
from assembly.migrate import upgrade
from assembly.polis.export import export_files
from assembly.polis.read import read_export
from assembly.polis.write import slug_for, write_export

DEFAULT = Path(__file__).resolve().parent.parent.parent / "shared" / "polis-opendata"


def main(folders: list[Path]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        app = create_app({"DATABASE_URL": f"sqlite:///{tmp}/bench.db", "SECRET_KEY": "bench"})
        engine = app.extensions["assembly_engine"]
        upgrade(engine)
        print(f"{'conversation':32} {'events':>7} {'read s':>7} {'write s':>7} {'export s':>8} {'events/s':>9}")
        for folder in folders:
            with Session(engine, expire_on_commit=False) as db:
                t0 = time.perf_counter()
                export = read_export(folder)
                t1 = time.perf_counter()
                assembly = write_export(db, export, slug_for(folder.name))
                t2 = time.perf_counter()
                export_files(db, assembly)
                t3 = time.perf_counter()
            n = len(export.votes)
            print(f"{folder.name:32} {n:7d} {t1 - t0:7.2f} {t2 - t1:7.2f} {t3 - t2:8.2f} {n / (t2 - t0):9.0f}")


if __name__ == "__main__":
    args = [Path(a) for a in sys.argv[1:]] or sorted(p for p in DEFAULT.iterdir() if p.is_dir())
    main(args)
