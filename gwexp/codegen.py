"""Generate the Python gRPC modules in ``gwexp/proto`` from ``protos/``.

Run ``python -m gwexp.codegen`` after changing or replacing the .proto file.
The generated files are committed so that an install needs no code generator;
``tests/test_codegen.py`` fails when they no longer match ``protos/``.
"""

from __future__ import annotations

from pathlib import Path

from grpc_tools import protoc

PROJECT_ROOT = Path(__file__).resolve().parent.parent
PROTO_DIR = PROJECT_ROOT / "protos"
PROTO_FILES = ("mxaccess_gateway.proto",)
# Mapping protos/ onto the package path makes the generated modules import
# each other as ``gwexp.proto.*`` instead of as top-level modules.
PACKAGE_PATH = "gwexp/proto"


def generate(out_root: Path) -> list[Path]:
    """Write the generated modules under ``out_root/gwexp/proto``; return them."""
    (out_root / PACKAGE_PATH).mkdir(parents=True, exist_ok=True)
    include = f"-I{PACKAGE_PATH}={PROTO_DIR}"
    well_known = f"-I{Path(protoc.__file__).parent / '_proto'}"
    sources = [str(PROTO_DIR / name) for name in PROTO_FILES]
    args = [
        "grpc_tools.protoc",
        include,
        well_known,
        f"--python_out={out_root}",
        f"--pyi_out={out_root}",
        f"--grpc_python_out={out_root}",
        *sources,
    ]
    if protoc.main(args) != 0:
        raise RuntimeError(f"protoc failed on {', '.join(sources)}")
    stems = [Path(name).stem for name in PROTO_FILES]
    suffixes = ("_pb2.py", "_pb2.pyi", "_pb2_grpc.py")
    return [out_root / PACKAGE_PATH / f"{s}{x}" for s in stems for x in suffixes]


def main() -> None:
    """Regenerate the committed modules in place."""
    for path in generate(PROJECT_ROOT):
        print(path.relative_to(PROJECT_ROOT))


if __name__ == "__main__":
    main()
