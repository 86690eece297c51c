#!/usr/bin/env bash
# Builds every service image (bridge, buildapi-sim, processor, trigger-sink) with podman from the repository's
# Dockerfiles, tagged as docker-compose.yml names them (triggerbot/<service>:local). With --check it verifies
# each one from its own filesystem (docker/check-image.py), then runs them together as docker-compose.yml wires
# them and checks the pipeline's outcome (docker/run-stack.py). Ends with one line:
#   images: N built, N checked, N failed
# and exits 0 only when nothing failed.
#
# The base image is the Dockerfiles' build argument BASE_IMAGE:
#   - by default the public one they name (eclipse-temurin:17-jre-noble), pulled from its registry;
#   - with --check, or --debian-base, a local Debian bookworm base made with mmdebstrap (minbase,
#     openjdk-17-jre-headless, curl), imported with `podman import` and kept in podman's storage: it is made again
#     only when its recipe below changes, or with --refresh-base (to take Debian's security updates);
#   - with --base IMAGE, that image.
#
# Needs: the jars (./mvnw -B -DskipTests package, or verify), podman, and for the Debian base mmdebstrap and root;
# --check also python3 with python3-yaml (docker-compose's own dependency), unshare, chroot and ip.
# Builds use --isolation chroot: RUN steps then need no OCI runtime, which cannot create containers on machines
# whose cgroups it does not support (as on the CI machine); override with PODMAN_ISOLATION=oci.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

usage() {
  cat <<'TXT'
usage: docker/build-images.sh [--check] [--debian-base | --base IMAGE] [--refresh-base] [SERVICE...]

Builds triggerbot/SERVICE:local for each SERVICE (default: every docker/*/Dockerfile) with podman.
  --check          build on the local Debian base, verify each image (docker/check-image.py), then run them
                   together as docker-compose.yml wires them (docker/run-stack.py); needs root
  --debian-base    build on the local Debian base (made with mmdebstrap when missing)
  --base IMAGE     build on IMAGE (default: the Dockerfiles' own, eclipse-temurin:17-jre-noble)
  --refresh-base   make the local Debian base again, with today's packages
Exit codes: 0 all built (and checked), 1 an image failed, 2 bad arguments or a missing tool.
TXT
}

check=0
debian_base=0
base=""
refresh_base=0
services=()
while [ $# -gt 0 ]; do
  case "$1" in
    --check) check=1; debian_base=1 ;;
    --debian-base) debian_base=1 ;;
    --base)
      [ $# -ge 2 ] || { echo "build-images: --base needs an image" >&2; exit 2; }
      base="$2"; shift ;;
    --refresh-base) refresh_base=1 ;;
    -h|--help) usage; exit 0 ;;
    -*) echo "build-images: unknown option $1" >&2; usage >&2; exit 2 ;;
    *) services+=("$1") ;;
  esac
  shift
done
if [ -n "$base" ] && [ "$debian_base" -eq 1 ]; then
  echo "build-images: --base cannot be combined with --check or --debian-base, which use the Debian base" >&2
  exit 2
fi
if [ ${#services[@]} -eq 0 ]; then
  for dockerfile in "$root"/docker/*/Dockerfile; do
    services+=("$(basename "$(dirname "$dockerfile")")")
  done
fi
for service in "${services[@]}"; do
  if [ ! -f "$root/docker/$service/Dockerfile" ]; then
    echo "build-images: no docker/$service/Dockerfile" >&2
    exit 2
  fi
  if [ ! -f "$root/$service/target/$service.jar" ] || [ ! -d "$root/$service/target/lib" ]; then
    echo "build-images: $service/target/$service.jar or $service/target/lib/ is missing: build the jars first" \
      "(./mvnw -B -DskipTests package)" >&2
    exit 2
  fi
done

need() {
  if ! command -v "$1" >/dev/null 2>&1; then
    echo "build-images: $1 is missing: $2" >&2
    exit 2
  fi
}
need podman "install it (Debian: apt-get install podman)"
if [ "$debian_base" -eq 1 ] && [ "$(id -u)" -ne 0 ]; then
  echo "build-images: the Debian base and --check need root (mmdebstrap, mounts and chroot)" >&2
  exit 2
fi

seconds_since() { python3 -c 'import sys, time; print(f"{time.time() - float(sys.argv[1]):.1f}")' "$1"; }
human_size() { numfmt --to=si --suffix=B --format='%.1f' "$1"; }

# The local Debian base. Its tag carries a hash of this recipe, so that changing the recipe makes a new base.
mmdebstrap_args=(
  --variant=minbase
  --include=openjdk-17-jre-headless,curl
  # Merged /usr by symlinks, as the usr-is-merged package expects, instead of the usrmerge package, which would
  # pull in Perl (about 47 MB) for a conversion that a new root does not need.
  --hook-dir=/usr/share/mmdebstrap/hooks/merged-usr
  # openjdk's post-install links its man pages into man1, which minbase lacks; the pages themselves are left out.
  --setup-hook='mkdir -p "$1/usr/share/man/man1"'
  --dpkgopt='path-exclude=/usr/share/man/*'
  --dpkgopt='path-exclude=/usr/share/doc/*'
  --dpkgopt='path-include=/usr/share/doc/*/copyright'
  --dpkgopt='path-exclude=/usr/share/locale/*'
  bookworm
)
import_changes=(
  'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'
  # Java 17 takes its default charset from the locale: without LANG it would be ASCII. C.UTF-8 is built into glibc.
  'ENV LANG=C.UTF-8'
  'CMD ["/bin/bash"]'
)
recipe_hash="$(printf '%s\n' "${mmdebstrap_args[@]}" "${import_changes[@]}" | sha256sum | cut -c1-12)"
debian_base_image="localhost/triggerbot-base:bookworm-jre17-$recipe_hash"

make_debian_base() {
  if [ "$refresh_base" -eq 0 ] && podman image exists "$debian_base_image"; then
    echo "build-images: base $debian_base_image (cached, made $(podman image inspect --format '{{.Created}}' \
      "$debian_base_image" | cut -c1-19))"
    return
  fi
  need mmdebstrap "install it (Debian: apt-get install mmdebstrap), or build on another base with --base IMAGE"
  local started work
  started="$(date +%s.%N)"
  work="$(mktemp -d)"
  # Into a file first: a failed mmdebstrap must not leave a half-made base behind an import.
  echo "build-images: making the Debian base with mmdebstrap (about a minute)..."
  if ! mmdebstrap "${mmdebstrap_args[@]}" "$work/base.tar" 2>"$work/mmdebstrap.log"; then
    echo "build-images: FAILED to make the Debian base (mmdebstrap ${mmdebstrap_args[*]}):" >&2
    tail -n 30 "$work/mmdebstrap.log" >&2
    rm -rf "$work"
    return 1
  fi
  local changes=()
  for change in "${import_changes[@]}"; do
    changes+=(--change "$change")
  done
  if ! podman import --quiet "${changes[@]}" "$work/base.tar" "$debian_base_image" >/dev/null; then
    echo "build-images: FAILED to import the Debian base into podman" >&2
    rm -rf "$work"
    return 1
  fi
  rm -rf "$work"
  # Bases of earlier recipes are only taking space now: untag them (their layers stay while an image uses them).
  podman images --format '{{.Repository}}:{{.Tag}}' localhost/triggerbot-base | grep -vxF "$debian_base_image" |
    while read -r old; do podman rmi "$old" >/dev/null 2>&1 || true; done
  echo "build-images: base $debian_base_image made in $(seconds_since "$started") s," \
    "$(human_size "$(podman image inspect --format '{{.Size}}' "$debian_base_image")")"
}

build_args=()
if [ "$debian_base" -eq 1 ]; then
  if ! make_debian_base; then
    echo "images: 0 built, 0 checked, ${#services[@]} failed"
    exit 1
  fi
  build_args=(--build-arg "BASE_IMAGE=$debian_base_image" --pull=never)
elif [ -n "$base" ]; then
  build_args=(--build-arg "BASE_IMAGE=$base")
fi

built=0
checked=0
failed=0
logs="$(mktemp -d)"
trap 'rm -rf "$logs"' EXIT
for service in "${services[@]}"; do
  image="triggerbot/$service:local"
  started="$(date +%s.%N)"
  # --format docker: the OCI format has no HEALTHCHECK, and podman would drop it.
  if ! podman build --isolation "${PODMAN_ISOLATION:-chroot}" --format docker --layers "${build_args[@]}" \
      -f "$root/docker/$service/Dockerfile" -t "$image" "$root" >"$logs/$service.log" 2>&1; then
    echo "build-images: $image FAILED to build; the end of its log:" >&2
    tail -n 30 "$logs/$service.log" >&2
    if grep -q 'short-name .* did not resolve' "$logs/$service.log"; then
      echo "build-images: podman resolves the default base's short name only with unqualified-search-registries" \
        "in /etc/containers/registries.conf; or pass --base with a fully qualified image, or use --debian-base" >&2
    fi
    failed=$((failed + 1))
    continue
  fi
  built=$((built + 1))
  echo "build-images: $image built in $(seconds_since "$started") s," \
    "$(human_size "$(podman image inspect --format '{{.Size}}' "$image")")"
  if [ "$check" -eq 1 ]; then
    if "$root/docker/check-image.py" "$image"; then
      checked=$((checked + 1))
      echo "build-images: $image checked"
    else
      echo "build-images: $image FAILED its check" >&2
      failed=$((failed + 1))
    fi
  fi
done

# The images together, as docker-compose.yml wires them, with embedded brokers in place of Kafka and RabbitMQ:
# every service healthy by its own HEALTHCHECK, and the example feed decided as the replay decides it.
if [ "$check" -eq 1 ] && [ "$failed" -eq 0 ]; then
  if [ "${#services[@]}" -eq "$(ls "$root"/docker/*/Dockerfile | wc -l)" ]; then
    started="$(date +%s.%N)"
    if "$root/docker/run-stack.py"; then
      echo "build-images: the images ran together as docker-compose.yml wires them in $(seconds_since "$started") s"
    else
      echo "build-images: the images FAILED to run together as docker-compose.yml wires them" >&2
      failed=$checked
      checked=0
    fi
  else
    echo "build-images: the images were not run together: that needs every service's image"
  fi
fi

echo "images: $built built, $checked checked, $failed failed"
[ "$failed" -eq 0 ]
