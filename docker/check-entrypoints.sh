#!/usr/bin/env bash
# Checks, without Docker, that each image's ENTRYPOINT starts the right program: for every docker/*/Dockerfile,
# reads its ENTRYPOINT (exec form, a JSON array starting with "java"), rewrites the in-image paths to the repository's
# build output using the Dockerfile's own COPY lines (e.g. /opt/triggerbot/lib/* -> processor/target/lib/*), appends
# --help, runs it with a time limit and requires exit code 0 and a usage text.
#
# Needs the jars built first (./mvnw -B -DskipTests package, or ./mvnw -B verify) and python3 (to read the
# Dockerfiles). Usage: docker/check-entrypoints.sh [Dockerfile...]   (default: every docker/*/Dockerfile)
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
java="${JAVA_HOME:+$JAVA_HOME/bin/}java"
time_limit="${CHECK_ENTRYPOINTS_TIMEOUT:-60}"

if [ $# -gt 0 ]; then
  dockerfiles=("$@")
else
  dockerfiles=("$root"/docker/*/Dockerfile)
fi
if [ ! -f "${dockerfiles[0]}" ]; then
  echo "check-entrypoints: no Dockerfile found" >&2
  exit 1
fi

# Prints the rewritten arguments of one Dockerfile's ENTRYPOINT after "java", one a line, or exits 1 saying why.
rewrite() {
  python3 - "$root" "$1" <<'PY'
import json, os, shlex, sys

root, dockerfile = sys.argv[1], sys.argv[2]

def fail(message):
    sys.stderr.write(f"check-entrypoints: {dockerfile}: {message}\n")
    sys.exit(1)

# Instructions: comment lines dropped, backslash continuations joined.
instructions, current = [], ""
with open(dockerfile, encoding="utf-8") as f:
    for raw in f:
        line = raw.rstrip("\n")
        if line.lstrip().startswith("#"):
            continue
        if line.rstrip().endswith("\\"):
            current += line.rstrip()[:-1] + " "
            continue
        current += line
        if current.strip():
            instructions.append(current.strip())
        current = ""
if current.strip():
    instructions.append(current.strip())

copies, entrypoint = [], None  # copies: (in-image path, repository path, is a directory)
for instruction in instructions:
    keyword, _, rest = instruction.partition(" ")
    keyword, rest = keyword.upper(), rest.strip()
    if keyword == "ENTRYPOINT":  # the last one wins, as in Docker
        try:
            entrypoint = json.loads(rest)
        except ValueError:
            fail(f"ENTRYPOINT is not in exec form (a JSON array): {rest}")
        if not isinstance(entrypoint, list) or not entrypoint or not all(isinstance(a, str) for a in entrypoint):
            fail(f"ENTRYPOINT must be a non-empty JSON array of strings: {rest}")
    elif keyword in ("COPY", "ADD"):
        words = json.loads(rest) if rest.startswith("[") else shlex.split(rest)
        flags = [w for w in words if w.startswith("--")]
        paths = [w for w in words if not w.startswith("--")]
        if any(flag.startswith("--from") for flag in flags):
            continue  # from another stage or image: nothing of the repository
        if len(paths) < 2:
            fail(f"cannot read: {instruction}")
        *sources, dest = paths
        if not dest.startswith("/"):
            fail(f"use absolute COPY destinations, so that in-image paths can be mapped back: {instruction}")
        for source in sources:
            local = os.path.join(root, source)
            if not os.path.exists(local):
                fail(f"{keyword} source {source} does not exist: build the jars first (./mvnw -B -DskipTests package)")
            is_dir = os.path.isdir(local)
            if dest.endswith("/") and not is_dir:
                target = dest + os.path.basename(source.rstrip("/"))
            else:
                target = dest
            copies.append((target.rstrip("/"), local.rstrip("/"), is_dir))

if entrypoint is None:
    fail("no ENTRYPOINT")
if entrypoint[0] != "java":
    fail(f'ENTRYPOINT must start with "java", not "{entrypoint[0]}"')

def to_local(piece):
    # The longest in-image path that is this piece or a directory above it.
    for target, local, is_dir in sorted(copies, key=lambda c: len(c[0]), reverse=True):
        if piece == target:
            return local
        if is_dir and piece.startswith(target + "/"):
            return local + piece[len(target):]
    if piece.startswith("/"):
        fail(f"{piece} is not copied into the image by any COPY line")
    return piece

command = []
for arg in entrypoint[1:]:
    if "\n" in arg:
        fail(f"an ENTRYPOINT argument holds a line break: {arg!r}")
    # Class paths are ':'-separated; other arguments (-XX:..., class names) have no piece starting with '/'.
    pieces = [to_local(p) for p in arg.split(":")]
    for piece in pieces:
        if piece.startswith("/"):
            base = piece[:-2] if piece.endswith("/*") else piece
            if not os.path.exists(base):
                fail(f"{piece} does not exist: build the jars first (./mvnw -B -DskipTests package)")
    command.append(":".join(pieces))
sys.stdout.write("".join(arg + "\n" for arg in command))
PY
}

# No TRIGGERBOT_* variables from the caller: the check must not depend on them.
unset_triggerbot=()
for variable in $(compgen -e); do
  if [[ "$variable" == TRIGGERBOT_* ]]; then
    unset_triggerbot+=(-u "$variable")
  fi
done

failures=0
for dockerfile in "${dockerfiles[@]}"; do
  name="${dockerfile#"$root"/}"
  if ! rewritten="$(rewrite "$dockerfile")"; then
    failures=$((failures + 1))
    continue
  fi
  mapfile -t args <<<"$rewritten"
  echo "check-entrypoints: $name: java ${args[*]} --help"
  set +e
  output="$(env "${unset_triggerbot[@]}" timeout "$time_limit" "$java" "${args[@]}" --help </dev/null 2>&1)"
  status=$?
  set -e
  if [ "$status" -ne 0 ]; then
    if [ "$status" -eq 124 ]; then
      echo "check-entrypoints: $name: no exit within ${time_limit}s" >&2
    fi
    echo "check-entrypoints: $name: FAILED, exit code $status; output:" >&2
    printf '%s\n' "$output" | head -n 40 >&2
    failures=$((failures + 1))
  elif ! printf '%s\n' "$output" | grep -qi 'usage'; then
    echo "check-entrypoints: $name: FAILED, exit code 0 but no usage text; output:" >&2
    printf '%s\n' "$output" | head -n 40 >&2
    failures=$((failures + 1))
  else
    echo "check-entrypoints: $name: ok ($(printf '%s\n' "$output" | grep -i -m 1 'usage'))"
  fi
done

if [ "$failures" -gt 0 ]; then
  echo "check-entrypoints: $failures of ${#dockerfiles[@]} Dockerfile(s) failed" >&2
  exit 1
fi
echo "check-entrypoints: all ${#dockerfiles[@]} entrypoints answer --help"
