#!/usr/bin/env bash
# Adds every public symbol the PublicAPI analyzer reports as undeclared (RS0016) to the project's
# PublicAPI.Unshipped.txt, and drops entries it reports as removed (RS0017). Review the diff afterwards.
# Usage: eng/update-public-api.sh [path/to/Project.csproj]   (default: every project under src/)
set -euo pipefail
cd "$(dirname "$0")/.."
projects=("$@")
if [ ${#projects[@]} -eq 0 ]; then mapfile -t projects < <(ls src/*/*.csproj); fi
for proj in "${projects[@]}"; do
  dir=$(dirname "$proj")
  log=$(mktemp)
  dotnet build "$proj" --no-incremental -p:TreatWarningsAsErrors=false > "$log" 2>&1 || true
  python3 - "$log" "$dir" <<'PY'
import re, sys
log, folder = sys.argv[1], sys.argv[2]
text = open(log, encoding="utf-8").read()
added = set(m.group(1) for m in re.finditer(r"RS0016: Symbol '(.+?)' is not part of the declared public API", text))
removed = set(m.group(1) for m in re.finditer(r"RS0017: Symbol '(.+?)' is part of the declared API, but is either not public or could not be found", text))
path = f"{folder}/PublicAPI.Unshipped.txt"
lines = [l.rstrip("\n") for l in open(path, encoding="utf-8")]
header = [l for l in lines if l.startswith("#")] or ["#nullable enable"]
body = set(l for l in lines if l and not l.startswith("#"))
body = (body | added) - removed
open(path, "w", encoding="utf-8").write("\n".join(header + sorted(body, key=str.lower)) + "\n")
print(f"{path}: +{len(added)} -{len(removed)}")
PY
  rm -f "$log"
done
