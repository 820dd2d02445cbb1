#!/usr/bin/env bash
# Compiles one XDP C source into a BPF object that keeps .BTF (needed for BTF-defined maps).
# Usage: build-bpf.sh SRC OUT
set -euo pipefail
src=$1
out=$2
multiarch=$(gcc -print-multiarch)
mkdir -p "$(dirname "$out")"
clang -O2 -g -Wall -Werror -target bpf -D__TARGET_ARCH_x86 \
  -I/usr/include/"$multiarch" -I"$(dirname "$src")" -c "$src" -o "$out.tmp"
llvm-strip -g "$out.tmp" 2>/dev/null || llvm-strip-14 -g "$out.tmp"
mv "$out.tmp" "$out"
