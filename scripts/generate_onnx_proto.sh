#!/usr/bin/env bash
# Regenerates Sources/EmberONNX/Generated/onnx.pb.swift from the ONNX protobuf schema.
#
# The generated file is committed; builds and CI never run this script. Run it by hand
# when moving to a newer ONNX schema or swift-protobuf release. It needs:
#   - protoc (Debian: apt-get install -y protobuf-compiler)
#   - swift-protobuf's protoc-gen-swift plugin, the SAME version as Package.swift's
#     swift-protobuf dependency (1.39.0), built once outside the repository:
#       git clone https://github.com/apple/swift-protobuf /tmp/swift-protobuf
#       cd /tmp/swift-protobuf && git checkout 1.39.0
#       swift build -c release --product protoc-gen-swift
#   - onnx.proto: the plain proto2 schema (not onnx-ml.proto) shipped inside the onnx
#     wheel, e.g. .venv-ref/lib/python3.11/site-packages/onnx/onnx.proto
#
# Usage: scripts/generate_onnx_proto.sh [PATH/TO/onnx.proto] [PATH/TO/protoc-gen-swift]
set -euo pipefail

repo="$(cd "$(dirname "$0")/.." && pwd)"
proto="${1:-$(ls "$repo"/.venv-ref/lib/python3*/site-packages/onnx/onnx.proto 2>/dev/null | head -n 1)}"
plugin="${2:-/tmp/swift-protobuf/.build/release/protoc-gen-swift}"

if [[ -z "$proto" || ! -f "$proto" ]]; then
    echo "generate_onnx_proto.sh: onnx.proto not found (pass its path as the first argument)" >&2
    exit 1
fi
if [[ ! -x "$plugin" ]]; then
    echo "generate_onnx_proto.sh: protoc-gen-swift not found at $plugin (pass its path as the second argument)" >&2
    exit 1
fi
command -v protoc >/dev/null || { echo "generate_onnx_proto.sh: protoc is not installed" >&2; exit 1; }

work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cp "$proto" "$work/onnx.proto"
# Default (internal) visibility: the protobuf types are EmberONNX's implementation detail.
protoc --plugin=protoc-gen-swift="$plugin" --proto_path="$work" --swift_out="$work" "$work/onnx.proto"
mkdir -p "$repo/Sources/EmberONNX/Generated"
mv "$work/onnx.pb.swift" "$repo/Sources/EmberONNX/Generated/onnx.pb.swift"
echo "wrote Sources/EmberONNX/Generated/onnx.pb.swift from $proto ($("$plugin" --version 2>/dev/null || echo protoc-gen-swift))"
