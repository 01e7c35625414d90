#!/usr/bin/env bash
# The builder pattern's glue (npm run bench): build the build image, copy the
# artefacts out of a container made from it, build the runtime image from them.
# Usage: bench/builder/build.sh <repository root> <artefact dir> <tag prefix> [docker build args...]
set -euo pipefail
root=$1 out=$2 tag=$3
shift 3
docker build -q "$@" -f "$root/bench/builder/api.build.Dockerfile" -t "$tag-build" "$root" >/dev/null
container=$(docker create "$tag-build")
trap 'docker rm -f "$container" >/dev/null' EXIT
rm -rf "$out" && mkdir -p "$out"
docker cp "$container:/out/." "$out/"
docker build -q -f "$root/bench/builder/api.runtime.Dockerfile" -t "$tag-runtime" "$out" >/dev/null
