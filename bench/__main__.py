"""Run every bench (or the named ones), each in a fresh interpreter.

    python -m bench [rating api ...]

Each bench prints its figures; its last line reads `bench <name>: <value> <unit>`.
"""

from __future__ import annotations

import pkgutil
import subprocess
import sys
from pathlib import Path

# Arguments a bench gets when run from here: bench.api keeps its 10M-CDR database
# between runs (the load takes about 2.5 minutes, the measurement 1.5).
ARGUMENTS = {"api": ["--reuse"]}


def benches() -> list[str]:
    here = Path(__file__).parent
    return sorted(m.name for m in pkgutil.iter_modules([str(here)]) if not m.name.startswith("_"))


def main(argv: list[str]) -> int:
    known = benches()
    chosen = argv or known
    unknown = sorted(set(chosen) - set(known))
    if unknown:
        print(f"unknown bench {', '.join(unknown)}; there are: {', '.join(known)}",
              file=sys.stderr)
        return 2
    failed = []
    for name in chosen:
        print(f"== bench.{name}", flush=True)
        if subprocess.run([sys.executable, "-m", f"bench.{name}", *ARGUMENTS.get(name, [])],
                          check=False).returncode:
            failed.append(name)
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
