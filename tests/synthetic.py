"""Generate a synthetic corpus of realistic Harness files (deterministic for a seed).

Pipelines with CI stages on Kubernetes, VM pools, Cloud and Docker runtimes, step groups, parallel steps,
service dependencies, images in every form (tagged, untagged, latest, pinned, retired-registry, expressions),
connectors (some on the retired registry), comments, 2- and 4-space indentation, and some non-Harness YAML.
"""

from __future__ import annotations

import argparse
import os
import random

IMAGES = [
    "golang:1.22", "alpine", "maven:latest", "node:20-alpine", "python:3.12-slim",
    "app.harness.io/registry/harness/ci-addon:1.16.4", "plugins/docker", "plugins/kaniko:1.10.1",
    "registry.example.com:5000/team/builder:2.3", "<+pipeline.variables.image>",
    "alpine:3.20@sha256:" + "ab" * 32, "us-docker.pkg.dev/proj/repo/tool:1.0", "bitnami/kubectl",
]


def _step(rng: random.Random, i: int, ind: str, depth: int) -> list[str]:
    pad = ind * depth
    lines = [f"{pad}- step:", f"{pad}{ind}  type: {rng.choice(['Run', 'Plugin', 'Background', 'Run'])}",
             f"{pad}{ind}  name: step {i}", f"{pad}{ind}  identifier: step_{i}", f"{pad}{ind}  spec:"]
    s = pad + ind + "  " + ind
    lines.append(f"{s}connectorRef: account.dockerhub")
    lines.append(f"{s}image: {rng.choice(IMAGES)}")
    if rng.random() < 0.7:
        lines.append(f"{s}shell: Sh")
        lines.append(f"{s}command: |-")
        for j in range(rng.randint(2, 12)):
            lines.append(f"{s}{ind}# build phase {j}" if j % 4 == 0 else f"{s}{ind}make target-{j} ARGS='--verbose --jobs=4'")
    if rng.random() < 0.4:
        lines.append(f"{s}envVariables:")
        for j in range(rng.randint(1, 6)):
            lines.append(f"{s}{ind}VAR_{j}: <+pipeline.variables.v{j}>")
    if rng.random() < 0.3:
        lines.append(f"{s}resources:")
        lines.append(f"{s}{ind}limits:")
        lines.append(f"{s}{ind}{ind}memory: 2Gi")
        lines.append(f"{s}{ind}{ind}cpu: \"1\"")
    return lines


def _infra(rng: random.Random, ind: str, pad: str) -> list[str]:
    kind = rng.choice(["k8s", "k8s", "vm", "cloud", "docker"])
    if kind == "k8s":
        out = [f"{pad}infrastructure:", f"{pad}{ind}type: KubernetesDirect", f"{pad}{ind}spec:",
               f"{pad}{ind}{ind}connectorRef: account.k8s", f"{pad}{ind}{ind}namespace: ci",
               f"{pad}{ind}{ind}automountServiceAccountToken: true", f"{pad}{ind}{ind}nodeSelector: {{}}",
               f"{pad}{ind}{ind}os: Linux"]
        if rng.random() < 0.5:
            out.append(f"{pad}{ind}{ind}harnessImageConnectorRef: account.harnessImageMirror")
        return out
    if kind == "vm":
        return [f"{pad}infrastructure:", f"{pad}{ind}type: VM", f"{pad}{ind}spec:", f"{pad}{ind}{ind}type: Pool",
                f"{pad}{ind}{ind}spec:", f"{pad}{ind}{ind}{ind}poolName: linux-pool", f"{pad}{ind}{ind}{ind}os: Linux"]
    if kind == "docker":
        return [f"{pad}runtime:", f"{pad}{ind}type: Docker", f"{pad}{ind}spec: {{}}"]
    return [f"{pad}platform:", f"{pad}{ind}os: Linux", f"{pad}{ind}arch: Amd64",
            f"{pad}runtime:", f"{pad}{ind}type: Cloud", f"{pad}{ind}spec: {{}}"]


def pipeline(rng: random.Random, n: int) -> str:
    ind = rng.choice(["  ", "  ", "    "])
    lines = [f"# generated pipeline {n}", "pipeline:", f"{ind}name: pipeline {n}", f"{ind}identifier: p_{n}",
             f"{ind}projectIdentifier: proj", f"{ind}orgIdentifier: default", f"{ind}tags: {{}}", f"{ind}stages:"]
    step_no = 0
    for s in range(rng.randint(2, 6)):
        p = ind * 2
        lines += [f"{p}- stage:", f"{p}{ind}  name: stage {s}", f"{p}{ind}  identifier: stage_{s}",
                  f"{p}{ind}  description: \"\"", f"{p}{ind}  type: CI", f"{p}{ind}  spec:"]
        sp = p + ind + "  " + ind
        lines.append(f"{sp}cloneCodebase: true")
        lines += _infra(rng, ind, sp)
        lines += [f"{sp}execution:", f"{sp}{ind}steps:"]
        depth = len(sp + ind + ind) // len(ind)  # the items of `steps:`, in whole indents
        for _ in range(rng.randint(3, 12)):
            step_no += 1
            lines += _step(rng, step_no, ind, depth)
        if rng.random() < 0.3:
            g = ind * depth  # a step group is one more item of the same list
            lines += [f"{g}- stepGroup:", f"{g}{ind}  name: group", f"{g}{ind}  identifier: group_{s}",
                      f"{g}{ind}  stepGroupInfra:", f"{g}{ind}  {ind}type: KubernetesDirect",
                      f"{g}{ind}  {ind}spec:", f"{g}{ind}  {ind}{ind}connectorRef: account.k8s",
                      f"{g}{ind}  {ind}{ind}namespace: ci", f"{g}{ind}  steps:"]
            for _ in range(rng.randint(1, 4)):
                step_no += 1
                lines += _step(rng, step_no, ind, len(g + ind + "  " + ind) // len(ind))
    lines += [f"{ind}properties:", f"{ind}{ind}ci:", f"{ind}{ind}{ind}codebase:",
              f"{ind}{ind}{ind}{ind}connectorRef: account.github", f"{ind}{ind}{ind}{ind}build: <+input>"]
    return "\n".join(lines) + "\n"


def connector(rng: random.Random, n: int) -> str:
    url = rng.choice(["https://app.harness.io/registry", "https://registry.hub.docker.com",
                      "https://us-docker.pkg.dev/gar-prod-setup/harness-public", "https://index.docker.io/v2/"])
    ident = "harnessImage" if n % 50 == 0 else f"docker_{n}"
    return (f"connector:\n  name: docker {n}\n  identifier: {ident}\n  type: DockerRegistry\n  spec:\n"
            f"    dockerRegistryUrl: {url}\n    providerType: {rng.choice(['DockerHub', 'Other'])}\n"
            f"    auth:\n      type: Anonymous\n    executeOnDelegate: {rng.choice(['true', 'false'])}\n")


def kubernetes(rng: random.Random, n: int) -> str:
    return (f"apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: app-{n}\nspec:\n  replicas: 2\n"
            f"  template:\n    spec:\n      containers:\n        - name: app\n          image: app:{n}\n")


def generate(out: str, files: int, seed: int = 1) -> tuple[int, int]:
    rng = random.Random(seed)
    total = 0
    for n in range(files):
        r = n % 20
        if r == 0:
            rel, text = f".harness/connectors/docker_{n}.yaml", connector(rng, n)
        elif r == 1:
            rel, text = f"k8s/deploy_{n}.yaml", kubernetes(rng, n)
        else:
            rel, text = f".harness/orgs/default/projects/proj/pipelines/p_{n}.yaml", pipeline(rng, n)
        path = os.path.join(out, rel)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
        total += len(text.encode())
    return files, total


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("out")
    parser.add_argument("--files", type=int, default=2000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    n, size = generate(args.out, args.files, args.seed)
    print(f"{n} files, {size / 1e6:.1f} MB in {args.out}")
