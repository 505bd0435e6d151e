"""Reads the FileDescriptorProtos that the official livekit wheel embeds in its *_pb2.py modules
and writes them as one serialized google.protobuf.FileDescriptorSet to stdout.

The modules are parsed, never imported: no Python protobuf runtime is needed.
Usage: python3 extract.py WHEEL > descriptors.pb
"""
import ast
import sys
import zipfile


def varint(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def descriptors(source):
    for node in ast.walk(ast.parse(source)):
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                and node.func.attr == "AddSerializedFile" and node.args
                and isinstance(node.args[0], ast.Constant)
                and isinstance(node.args[0].value, bytes)):
            yield node.args[0].value


def main():
    out = bytearray()
    count = 0
    with zipfile.ZipFile(sys.argv[1]) as whl:
        for name in sorted(whl.namelist()):
            if name.startswith("livekit/rtc/_proto/") and name.endswith("_pb2.py"):
                for fd in descriptors(whl.read(name).decode("utf-8")):
                    out += b"\x0a" + varint(len(fd)) + fd  # FileDescriptorSet.file = 1
                    count += 1
    if count == 0:
        sys.exit("no embedded descriptors found in " + sys.argv[1])
    sys.stdout.buffer.write(bytes(out))


if __name__ == "__main__":
    main()
