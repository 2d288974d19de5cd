#!/bin/sh
# The image checks by hand, as a user would write them without the harness: each image in
# turn asked what the seed's workflow asked (the kernel's machine, the userland's
# architecture, the Rust toolchain) and a hello world made, built and run by cargo.
# `nox -s bench` times this whole script as the by-hand peer, right after plain buildx has
# built the images (devtools/bench_pairs.py).
#
# Usage: bench_by_hand.sh PLATFORM IMAGE [PLATFORM IMAGE ...]
set -eu
if [ "$#" -eq 0 ] || [ $(($# % 2)) -ne 0 ]; then
    echo "usage: $0 PLATFORM IMAGE [PLATFORM IMAGE ...]" >&2
    exit 2
fi
while [ "$#" -ge 2 ]; do
    platform=$1
    image=$2
    shift 2
    echo "== $platform $image"
    # One container per image, as a user's workflow step would run it. The crate goes in a
    # fresh directory (the image's working directory may not be writable), without git.
    # shellcheck disable=SC2016  # expanded in the container, not here
    docker run --rm --platform "$platform" "$image" sh -c '
        set -eu
        uname -m
        dpkg --print-architecture
        rustc -vV
        cd "$(mktemp -d)"
        cargo new --quiet --vcs none hello
        cd hello
        cargo build --quiet
        ./target/debug/hello'
done
