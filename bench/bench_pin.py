"""Pins per second against a local registry (Debian's docker-registry on 127.0.0.1), with and without the lockfile.

    python3 bench/bench_pin.py [--images 200] [--files 100]

Pushes N small images straight through the registry's upload API, writes files referencing them, then times
`pipelint pin` three ways: cold (every digest from the registry), warm (every digest from pipelint.lock), and
--offline. Needs `docker-registry` on PATH (apt-get install docker-registry).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import pathlib
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests"))
from registries import Registry


def upload(host: str, repo: str, tag: str, n: int) -> str:
    def put_blob(data: bytes) -> str:
        digest = "sha256:" + hashlib.sha256(data).hexdigest()
        start = urllib.request.Request(f"http://{host}/v2/{repo}/blobs/uploads/", method="POST")
        with urllib.request.urlopen(start) as resp:
            location = resp.headers["Location"]
        sep = "&" if "?" in location else "?"
        url = location if location.startswith("http") else f"http://{host}{location}"
        req = urllib.request.Request(f"{url}{sep}digest={digest}", data=data, method="PUT",
                                     headers={"Content-Type": "application/octet-stream"})
        urllib.request.urlopen(req).close()
        return digest

    config = json.dumps({"architecture": "amd64", "os": "linux", "rootfs": {"type": "layers", "diff_ids": []},
                         "n": n}).encode()
    manifest = json.dumps({"schemaVersion": 2, "mediaType": "application/vnd.oci.image.manifest.v1+json",
                           "config": {"mediaType": "application/vnd.oci.image.config.v1+json",
                                      "digest": put_blob(config), "size": len(config)}, "layers": []}).encode()
    req = urllib.request.Request(f"http://{host}/v2/{repo}/manifests/{tag}", data=manifest, method="PUT",
                                 headers={"Content-Type": "application/vnd.oci.image.manifest.v1+json"})
    urllib.request.urlopen(req).close()
    return "sha256:" + hashlib.sha256(manifest).hexdigest()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--images", type=int, default=200)
    parser.add_argument("--files", type=int, default=100)
    args = parser.parse_args()
    pipelint = shutil.which("pipelint", path=os.path.dirname(sys.executable)) or shutil.which("pipelint")
    root = tempfile.mkdtemp(prefix="pipelint-bench-pin-")
    os.makedirs(os.path.join(root, "reg"))
    reg = Registry(__import__("pathlib").Path(root, "reg"))
    try:
        for i in range(args.images):
            upload(reg.host, f"bench/img{i}", "1.0", i)
        tree = os.path.join(root, "tree", ".harness")
        os.makedirs(tree)
        per_file = max(1, args.images // args.files)
        for f in range(args.files):
            steps = "".join(
                f"              - step: {{type: Run, identifier: s{j}, spec: {{image: {reg.host}/bench/img{(f * per_file + j) % args.images}:1.0}}}}\n"
                for j in range(per_file))
            with open(os.path.join(tree, f"p{f}.yaml"), "w") as fh:
                fh.write(f"pipeline:\n  name: p{f}\n  identifier: p{f}\n  stages:\n    - stage:\n        identifier: s\n"
                         f"        type: CI\n        spec:\n          execution:\n            steps:\n{steps}")
        pristine = {os.path.join(tree, n): pathlib.Path(tree, n).read_bytes() for n in os.listdir(tree)}
        refs = sum(p.count(b"image:") for p in pristine.values())

        def timed(*extra):
            for path, data in pristine.items():
                with open(path, "wb") as fh:
                    fh.write(data)
            start = time.perf_counter()
            subprocess.run([pipelint, "pin", ".harness", "--isolated", *extra], cwd=os.path.join(root, "tree"),
                           check=True, capture_output=True)
            return time.perf_counter() - start

        cold = timed()
        warm = timed()
        offline = timed("--offline")
        print(f"{args.images} images in {args.files} files ({refs} references), registry {reg.host}, "
              f"{os.cpu_count()} cores")
        print(f"{'run':<34}{'seconds':>9}{'pins/s':>9}")
        for name, t in (("cold (registry, 8 at a time)", cold), ("warm (pipelint.lock)", warm),
                        ("--offline (pipelint.lock only)", offline)):
            print(f"{name:<34}{t:>9.2f}{refs / t:>9.0f}")
    finally:
        reg.stop()
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
