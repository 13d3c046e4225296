"""Regenerate the Python modules for every `.proto` under `protos/`.

Run from anywhere: `python -m protos.generate`. Paths are given relative to
the repository root so the generated imports read `from protos.vigil.v1 …`,
which is what makes the modules importable as `protos.…`.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def proto_files() -> list[Path]:
    return sorted((ROOT / "protos").rglob("*.proto"))


def generate(out_dir: Path = ROOT) -> None:
    """Write `*_pb2.py`, `*_pb2.pyi` and `*_pb2_grpc.py` under `out_dir`."""
    from grpc_tools import protoc  # build-time dependency only

    sources = [str(p.relative_to(ROOT)) for p in proto_files()]
    args = [
        "grpc_tools.protoc",
        f"-I{ROOT}",
        f"--python_out={out_dir}",
        f"--pyi_out={out_dir}",
        f"--grpc_python_out={out_dir}",
        *sources,
    ]
    if protoc.main(args) != 0:
        raise SystemExit(f"protoc failed for {', '.join(sources)}")


if __name__ == "__main__":
    generate()
    sys.exit(0)
