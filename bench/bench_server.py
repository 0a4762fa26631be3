"""`pipelint server`: time from `didChange` to the `publishDiagnostics` that answers it, as an editor waits.

    python3 bench/bench_server.py [--changes 60] [FILE ...]

A real LSP client (pygls's) starts `python -m pipelint server` on stdio, opens each file (by default two real
Harness files of the corpus: a 2.8 KB pipeline and a 26 KB stage template), then sends `--changes` edits one at a
time (a character typed into a name, alternately added and removed, so every version differs) and measures, for
each, the time until the diagnostics for that version arrive; the server's debounce (pipelint.server.DEBOUNCE) is
part of the time, as it is for a person. The figure is the median and the 90th percentile per file, next to the
floor the same run measures: the time to answer a `textDocument/hover` round trip on the same file (the client,
the pipes and the event loop, without a check).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time

from lsprotocol import types as lsp
from pygls.lsp.client import LanguageClient

HERE = os.path.dirname(os.path.abspath(__file__))
CORPUS = os.path.join(HERE, "..", "..", "shared", "corpus")
DEFAULT = [os.path.join(CORPUS, "harness", "terraform-provider-harness", ".harness", "PR.yaml"),
           os.path.join(CORPUS, "harness-community", "solutions-architecture", "fme", "templates", "Stage",
                        "Feature_Flag_Cleanup", "v1.yaml")]


async def measure(path: str, changes: int) -> tuple[int, list[float], list[float], int]:
    client = LanguageClient("bench", "1")
    arrived: dict[int, float] = {}
    counts: dict[int, int] = {}
    event = asyncio.Event()

    @client.feature(lsp.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    def published(params: lsp.PublishDiagnosticsParams):
        if params.version is not None and params.version not in arrived:
            arrived[params.version] = time.perf_counter()
            counts[params.version] = len(params.diagnostics)
            event.set()

    with open(path, encoding="utf-8") as fh:
        text = fh.read()
    with tempfile.TemporaryDirectory(prefix="pipelint-bench-lsp-") as root:
        target = os.path.join(root, os.path.basename(path))
        with open(target, "w", encoding="utf-8") as fh:
            fh.write(text)
        uri = "file://" + target
        await client.start_io(sys.executable, "-m", "pipelint", "server")
        await client.initialize_async(lsp.InitializeParams(
            capabilities=lsp.ClientCapabilities(), root_uri="file://" + root,
            workspace_folders=[lsp.WorkspaceFolder(uri="file://" + root, name="bench")]))
        client.initialized(lsp.InitializedParams())

        async def answered(version: int) -> None:
            while version not in arrived:
                event.clear()
                await asyncio.wait_for(event.wait(), 30)

        client.text_document_did_open(lsp.DidOpenTextDocumentParams(text_document=lsp.TextDocumentItem(
            uri=uri, language_id="yaml", version=1, text=text)))
        await answered(1)
        await asyncio.sleep(0.5)  # the workspace index is built
        line = next(i for i, ln in enumerate(text.splitlines()) if ln.strip().startswith("name:"))
        column = len(text.splitlines()[line])
        latencies, floor = [], []
        for n in range(changes):
            version = n + 2
            if n % 2 == 0:
                change = lsp.TextDocumentContentChangePartial(
                    range=lsp.Range(start=lsp.Position(line=line, character=column),
                                    end=lsp.Position(line=line, character=column)), text="x")
            else:
                change = lsp.TextDocumentContentChangePartial(
                    range=lsp.Range(start=lsp.Position(line=line, character=column),
                                    end=lsp.Position(line=line, character=column + 1)), text="")
            start = time.perf_counter()
            client.text_document_did_change(lsp.DidChangeTextDocumentParams(
                text_document=lsp.VersionedTextDocumentIdentifier(uri=uri, version=version), content_changes=[change]))
            await answered(version)
            latencies.append(arrived[version] - start)
            start = time.perf_counter()
            await client.text_document_hover_async(lsp.HoverParams(
                text_document=lsp.TextDocumentIdentifier(uri=uri), position=lsp.Position(line=0, character=0)))
            floor.append(time.perf_counter() - start)
            await asyncio.sleep(0.05)  # a person's pause between keystrokes
        await client.shutdown_async(None)
        client.exit(None)
        await client.stop()
    return len(text.encode()), latencies, floor, counts[changes + 1]


def p90(values: list[float]) -> float:
    return sorted(values)[int(len(values) * 0.9) - 1]


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("files", nargs="*", default=DEFAULT)
    parser.add_argument("--changes", type=int, default=60)
    args = parser.parse_args()
    from pipelint.app.server import DEBOUNCE

    print(f"didChange -> publishDiagnostics, {args.changes} changes per file, debounce {DEBOUNCE * 1000:.0f} ms "
          f"included; {os.cpu_count()} cores")
    for path in args.files:
        size, latencies, floor, found = await measure(path, args.changes)
        print(f"  {size:>6} bytes ({found} diagnostics): median {statistics.median(latencies) * 1000:5.1f} ms, "
              f"p90 {p90(latencies) * 1000:5.1f} ms; hover round trip {statistics.median(floor) * 1000:4.1f} ms "
              f"({os.path.basename(path)})")


if __name__ == "__main__":
    asyncio.run(main())
