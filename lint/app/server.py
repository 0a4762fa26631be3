"""`pipelint server`: a Language Server Protocol server on stdio (pygls), for editors.

The same engine as `check` and `fix`, on the editor's unsaved text:

    didOpen/didChange (debounced)/didSave --> Source from the buffer --> Engine.check_file (keep) -->
    Engine.finish(open file + the workspace index, focus=the file) --> findings --> Diagnostics

Each workspace folder has its engine (the configuration found from the folder, ruff's discovery below it,
custom rules included), rebuilt when a configuration file changes, and an index: every Harness file of the folder
checked once in the background at start (with `$/progress`), as compact reports (what cross-file rules read),
updated when a file is saved or changes on disk. So a connector defined in another file counts for CON002,
CON003, REG003 and REG004 as it does in `check .`.

Code actions are the findings' own fixes, each applied to the buffer and verified alone (`fixer.applied`) before it
is offered; "Fix all safe problems" is `fixer.fix_text` (fix's passes, nothing written); "Suppress CODE on this
line" inserts the comment and is offered only when a re-check shows the finding gone and the data unchanged.
Hover on a diagnostic shows `pipelint rule CODE`. Nothing the files hold can stop the server: a file the parser
rejects is a YML001 diagnostic, a bad configuration one message (and no diagnostics from it), an internal error
one log line.

The message loop never checks anything itself: checking, indexing and code actions run on one worker thread
(`Worker`, so the engine is never used by two threads at once), and the loop stays free to read the next message
(a `$/cancelRequest` stops the code actions being computed for it, between two fixes). Every edit the server
returns is a `documentChanges` edit naming the document's version it was computed on, so a client refuses it
once the person has typed on. Code actions are bounded: at most MAX_QUICK_FIXES fixes verified per request,
within ACTION_SECONDS, and none (nor fix-all) on a buffer over MAX_ACTION_BYTES.
"""

from __future__ import annotations

import asyncio
import logging
import os
import threading
import time
from bisect import bisect_right
from concurrent.futures import ThreadPoolExecutor

from lsprotocol import types as lsp
from pygls.lsp.server import LanguageServer
from pygls.uris import to_fs_path

from pipelint import __version__
from pipelint.app import console
from pipelint.commands import fixer
from pipelint.engine import config as configlib
from pipelint.engine.core import YAML_SUFFIXES
from pipelint.findings import fixplan
from pipelint.findings.finding import Finding
from pipelint.text import source as sourcelib

DEBOUNCE = 0.02  # seconds: changes arriving together (a paste, multi-cursor edits, fast typing) are checked once
MAX_QUICK_FIXES = 20  # fixes verified for one code action request (each re-reads the whole buffer)
ACTION_SECONDS = 2.0  # what one code action request may spend verifying; fixes not reached are not offered
MAX_ACTION_BYTES = 1_000_000  # no code actions (quick fixes, fix-all, suppressions) on a larger buffer
CONFIG_FILES = (".pipelint.toml", "pyproject.toml")
FIX_ALL = "source.fixAll.pipelint"
SEVERITY = {"error": lsp.DiagnosticSeverity.Error, "warning": lsp.DiagnosticSeverity.Warning,
            "info": lsp.DiagnosticSeverity.Information}
log = logging.getLogger("pipelint.server")


class Folder:
    """One workspace folder: its engine (or why there is none) and the index of its files' compact reports."""

    def __init__(self, root: str):
        self.root = root
        self.engine = None
        self.error: str | None = None
        self.index: dict = {}  # absolute path -> FileReport (compact) as last read from disk
        self.errors: list[str] = []  # the last analysis's error lines (check's exit-2 lines)

    def load(self) -> None:
        try:
            self.engine, self.error = console.engine_for(self.root), None
        except configlib.ConfigError as exc:
            self.engine, self.error = None, str(exc)

    def files(self) -> list[str]:
        if self.engine is None:
            return []
        try:
            found, _ = self.engine.discover([self.root])
        except (OSError, configlib.ConfigError) as exc:
            log.warning("pipelint: cannot list %s: %s", self.root, exc)
            return []
        return found

    def index_file(self, path: str) -> None:
        if self.engine is None:
            return
        try:
            src = sourcelib.read(path, self.engine.layer(path).settings.max_file_bytes)
            self.index[path] = self.engine.check_file(src)
        except (sourcelib.ReadError, configlib.ConfigError):
            self.index.pop(path, None)
        except Exception as exc:  # an internal error on one file: the index goes on without it
            log.warning("pipelint: internal error indexing %s: %s: %s", path, type(exc).__name__, exc)
            self.index.pop(path, None)

    def analyse(self, path: str, text: str):
        """(report kept whole, this file's findings) for the buffer's text of `path`."""
        assert self.engine is not None
        data = text.encode("utf-8")
        limit = self.engine.layer(path).settings.max_file_bytes
        if len(data) > limit:  # as `check` treats such a file: not parsed (a node graph costs ~100x the bytes)
            raise sourcelib.ReadError(f"{path}: not checked: {len(data) / 1e6:.1f} MB is over max-file-size "
                                      f"({limit / 1e6:g} MB)")
        src = sourcelib.decode(path, data)
        report = self.engine.check_file(src, keep=True)
        context = {p: r for p, r in self.index.items() if p != path}
        result = self.engine.finish({**context, path: report}, focus=path)
        self.errors = result.errors  # what the configuration could not do on this text (a JSONPath over budget)
        return report, [f for f in result.findings if f.path == path], context


class Lines:
    """Character index <-> LSP position (the client's code units) for one text."""

    def __init__(self, text: str, codec):
        """`text` is the buffer; indexes given and returned are into it without a leading BOM, as the engine's
        Source holds it."""
        self.lead = 1 if text.startswith("\ufeff") else 0
        self.text = text
        self.codec = codec
        self.starts = [0]
        for i, ch in enumerate(text):
            if ch == "\n":
                self.starts.append(i + 1)
        self.lines = [text[s:e] for s, e in zip(self.starts, [*self.starts[1:], len(text)], strict=True)]

    def position(self, index: int) -> lsp.Position:
        index = max(0, min(index + self.lead, len(self.text)))
        line = bisect_right(self.starts, index) - 1
        return self.codec.position_to_client_units(self.lines, lsp.Position(line=line,
                                                                            character=index - self.starts[line]))

    def range(self, start: int, end: int) -> lsp.Range:
        return lsp.Range(start=self.position(start), end=self.position(end))

    def index(self, position: lsp.Position) -> int:
        if position.line >= len(self.starts):
            return len(self.text)
        server = self.codec.position_from_client_units(self.lines, position)
        return max(0, min(self.starts[server.line] + server.character, len(self.text)) - self.lead)


class PipelintServer(LanguageServer):
    def __init__(self):
        super().__init__("pipelint", __version__, text_document_sync_kind=lsp.TextDocumentSyncKind.Incremental)
        self.folders: dict[str, Folder] = {}
        self.pending: dict[str, asyncio.Task] = {}
        self.last: dict[str, tuple] = {}  # uri -> (version, text, report, findings, context)
        self.tasks: set[asyncio.Task] = set()  # running background work (kept referenced until done)
        # the one thread that checks: the engine and the folders' indexes are never used by two threads at once
        self.worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="pipelint-check")
        self.loop: asyncio.AbstractEventLoop | None = None  # the message loop (set once initialized)

    # --- folders ------------------------------------------------------------------------------------
    def setup(self) -> None:
        from pipelint.rules import clear_custom

        clear_custom()  # every folder's custom rules are declared anew
        roots = [to_fs_path(f.uri) for f in (self.workspace.folders or {}).values()]
        if not roots and self.workspace.root_path:
            roots = [self.workspace.root_path]
        self.folders = {}
        for root in roots:
            if root:
                folder = Folder(os.path.abspath(root))
                folder.load()
                if folder.error:
                    self.say(lsp.MessageType.Error, f"pipelint: {folder.error}", show=True)
                self.folders[folder.root] = folder

    def folder_of(self, path: str) -> Folder:
        best = None
        for root, folder in self.folders.items():
            if (path + os.sep).startswith(root.rstrip(os.sep) + os.sep) and (best is None or len(root) > len(best.root)):
                best = folder
        if best is None:  # a file outside every folder: its own directory is its folder
            root = os.path.dirname(path)
            best = self.folders[root] = Folder(root)
            best.load()
        return best

    async def build_index(self) -> None:
        token = "pipelint-index"
        window = self.client_capabilities.window
        progress = bool(window is not None and window.work_done_progress)
        if progress:
            try:
                await self.work_done_progress.create_async(token)
            except Exception:  # the client refused the token: index silently
                progress = False
        jobs = [(folder, path) for folder in list(self.folders.values()) for path in folder.files()]
        if progress:
            self.work_done_progress.begin(token, lsp.WorkDoneProgressBegin(title="pipelint: indexing", percentage=0,
                                                                           message=f"0/{len(jobs)} files"))
        for n, (folder, path) in enumerate(jobs, 1):
            await self.work(folder.index_file, path)  # one file at a time: the editor's requests go in between
            if progress and (n % 20 == 0 or n == len(jobs)):
                self.work_done_progress.report(token, lsp.WorkDoneProgressReport(
                    percentage=n * 100 // max(len(jobs), 1), message=f"{n}/{len(jobs)} files"))
        if progress:
            self.work_done_progress.end(token, lsp.WorkDoneProgressEnd(message=f"{len(jobs)} files indexed"))
        self.last.clear()  # what was said before the index knew the other files
        self.publish_all()

    # --- diagnostics --------------------------------------------------------------------------------
    def snapshot(self, uri: str) -> tuple[str, int | None, str] | None:
        """(uri, version, text) of an open document as the loop sees it now: what the worker analyses."""
        path = to_fs_path(uri)
        if not path or not path.endswith(YAML_SUFFIXES):
            return None
        doc = self.workspace.get_text_document(uri)
        return uri, doc.version, doc.source

    def analyse(self, snap: tuple[str, int | None, str]):
        """(version, text, report, findings, context) for a snapshot (cached per version), or None; runs on the
        worker thread. A file over max-file-size or a bad configuration is None and one log message."""
        uri, version, text = snap
        cached = self.last.get(uri)
        if cached is not None and cached[0] == version and cached[1] == text:
            return cached
        path = os.path.abspath(to_fs_path(uri) or "")
        folder = self.folder_of(path)
        if folder.engine is None:
            return None
        try:
            report, findings, context = folder.analyse(path, text)
        except sourcelib.ReadError as exc:  # said once a version, like check's error line
            self.say(lsp.MessageType.Warning, f"pipelint: {exc}")
            return None
        except Exception as exc:  # an internal error: one log line, the server goes on
            self.say(lsp.MessageType.Error, f"pipelint: internal error on {path}: {type(exc).__name__}: {exc}; "
                                            "please report it")
            return None
        for error in folder.errors:  # said once a version, like check's error lines
            self.say(lsp.MessageType.Warning, f"pipelint: {error}")
        self.last[uri] = found = (version, text, report, findings, context)
        return found

    def say(self, kind: lsp.MessageType, message: str, show: bool = False) -> None:
        """A log message (or, with `show`, a message the editor shows) to the client, from the loop or the worker
        (always sent from the loop)."""
        def send() -> None:
            if show:
                self.window_show_message(lsp.ShowMessageParams(type=kind, message=message))
            else:
                self.window_log_message(lsp.LogMessageParams(type=kind, message=message))

        if self.loop is None or threading.current_thread() is threading.main_thread():
            send()
        else:
            self.loop.call_soon_threadsafe(send)

    async def work(self, fn, *args):
        """`fn(*args)` on the worker thread; the loop goes on meanwhile."""
        return await asyncio.get_running_loop().run_in_executor(self.worker, fn, *args)

    async def publish(self, uri: str) -> None:
        try:
            await self._publish(uri)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # a bug here: one log line, the server goes on
            self.say(lsp.MessageType.Error, f"pipelint: internal error publishing {uri}: {type(exc).__name__}: "
                                            f"{exc}; please report it")

    async def _publish(self, uri: str) -> None:
        snap = self.snapshot(uri)
        if snap is None:
            return
        found = await self.work(self.analyse, snap)
        if uri not in self.workspace.text_documents:
            return  # closed meanwhile
        diagnostics = []
        if found is not None:
            _version, text, _report, findings, _ = found
            lines = Lines(text, self.workspace.position_codec)
            diagnostics = [diagnostic(f, lines) for f in findings]
        self.text_document_publish_diagnostics(lsp.PublishDiagnosticsParams(uri=uri, diagnostics=diagnostics,
                                                                            version=snap[1]))

    def publish_all(self) -> None:
        for uri in list(self.workspace.text_documents):
            self.schedule(uri, 0)

    def schedule(self, uri: str, delay: float = DEBOUNCE) -> None:
        task = self.pending.pop(uri, None)
        if task is not None:
            task.cancel()

        async def later():
            await asyncio.sleep(delay)
            self.pending.pop(uri, None)
            await self.publish(uri)

        self.pending[uri] = self.background(later())

    def reload(self) -> None:
        async def again():
            await self.work(self.setup)
            self.last.clear()
            await self.build_index()

        self.background(again())

    def background(self, work) -> asyncio.Task:
        task = asyncio.ensure_future(work)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)
        return task

    # --- code actions -------------------------------------------------------------------------------
    async def code_actions(self, uri: str, wanted: lsp.Range, only) -> list[lsp.CodeAction]:
        snap = self.snapshot(uri)
        if snap is None:
            return []
        stop = threading.Event()
        try:
            return await self.work(self.actions, snap, wanted, only, stop)
        except asyncio.CancelledError:  # $/cancelRequest: the worker stops at the next fix
            stop.set()
            raise

    def actions(self, snap, wanted: lsp.Range, only, stop: threading.Event | None = None) -> list[lsp.CodeAction]:
        """The code actions for `wanted` in a snapshot (on the worker thread): each fix verified alone, at most
        MAX_QUICK_FIXES of them within ACTION_SECONDS, none on a buffer over MAX_ACTION_BYTES; each edit names
        the snapshot's version."""
        uri, version, _ = snap
        found = self.analyse(snap)
        if found is None:
            return []
        _, text, report, findings, context = found
        if len(text) > MAX_ACTION_BYTES:
            self.say(lsp.MessageType.Info, f"pipelint: no code actions on {uri}: over {MAX_ACTION_BYTES:,} "
                                           "characters (run `pipelint fix` on the file)")
            return []
        deadline = time.monotonic() + ACTION_SECONDS
        budget = [MAX_QUICK_FIXES]

        def more() -> bool:
            budget[0] -= 1
            return budget[0] >= 0 and time.monotonic() < deadline and not (stop is not None and stop.is_set())

        lines = Lines(text, self.workspace.position_codec)
        start, end = lines.index(wanted.start), lines.index(wanted.end)
        out: list[lsp.CodeAction] = []
        want_quick = not only or any(k.startswith(lsp.CodeActionKind.QuickFix) for k in only)
        want_all = not only or any(FIX_ALL.startswith(k) or k.startswith(FIX_ALL) for k in only)
        here = [f for f in findings if f.span.start <= end and start <= max(f.span.end, f.span.start)]
        if want_quick:
            for f in sorted(here, key=lambda f: (f.fix is None or not f.fix.safe, f.span.start)):
                if f.fix is not None and report.source.text is not None and more():
                    try:
                        new = fixer.applied(report, [f.fix]).text
                    except fixplan.NotApplicable:
                        new = None
                    if new is not None:
                        label = "" if f.fix.safe else " (unsafe)"
                        out.append(lsp.CodeAction(
                            title=f"{f.code}: {f.fix.description}{label}", kind=lsp.CodeActionKind.QuickFix,
                            diagnostics=[diagnostic(f, lines)], is_preferred=f.fix.safe,
                            edit=whole_edit(uri, version, text, new, lines)))
            for f in here:
                if not more():
                    break
                new = self.suppressed_text(uri, report, text.removeprefix("\ufeff"), f)
                if new is not None:
                    out.append(lsp.CodeAction(title=f"Suppress {f.code} on this line", kind=lsp.CodeActionKind.QuickFix,
                                              diagnostics=[diagnostic(f, lines)],
                                              edit=whole_edit(uri, version, text, new, lines)))
        if want_all and any(f.fix is not None and f.fix.safe for f in findings) and more():
            folder = self.folder_of(report.source.path)
            src = sourcelib.decode(report.source.path, text.encode("utf-8"))
            new, count = fixer.fix_text(folder.engine, src, context) if folder.engine is not None else (text, 0)
            if count and new != text:
                out.append(lsp.CodeAction(title=f"Fix all safe problems in this file ({count})", kind=FIX_ALL,
                                          edit=whole_edit(uri, version, text, new, lines)))
        return out

    def suppressed_text(self, uri: str, report, text: str, f: Finding) -> str | None:
        """The text with `# pipelint: ignore[CODE]` on the finding's line, when a re-check shows the finding gone
        and every document reading the same; else None."""
        line_start = text.rfind("\n", 0, f.span.start) + 1
        line_end = text.find("\n", f.span.start)
        line_end = len(text) if line_end < 0 else line_end
        line = text[line_start:line_end].rstrip("\r")
        if "pipelint:" in line:
            return None  # a directive is there already: the person decides
        if "#" not in line:
            new = text[:line_start] + line + f"  # pipelint: ignore[{f.code}]" + text[line_start + len(line):]
        else:  # a comment already ends the line: a comment line above it
            indent = line[: len(line) - len(line.lstrip())]
            newline = "\r\n" if text[line_end - 1:line_end] == "\r" else "\n"
            new = text[:line_start] + f"{indent}# pipelint: ignore[{f.code}]{newline}" + text[line_start:]
        path = report.source.path
        folder = self.folder_of(path)
        try:  # the one verifier: the same data, read through the file's container (heredocs, templates)
            fixplan.verify_unchanged(report, new)
            _report, after, _ = folder.analyse(path, new)
        except Exception:  # not verified (a Mismatch, or the text does not read): not offered
            return None
        cached = self.last.get(uri)
        before = [g.code for g in cached[3]] if cached is not None else []
        now = [g.code for g in after]
        if now.count(f.code) >= before.count(f.code) or len(now) >= len(before):
            return None
        return new


def diagnostic(f: Finding, lines: Lines) -> lsp.Diagnostic:
    from pipelint.rules import by_code

    cls = by_code().get(f.code)
    url = getattr(cls, "url", None) if cls is not None else None
    return lsp.Diagnostic(
        range=lines.range(f.span.start, f.span.end), severity=SEVERITY.get(f.severity, lsp.DiagnosticSeverity.Error),
        code=f.code, source="pipelint", message=f.message + (f" ({f.hint})" if f.hint else ""),
        code_description=lsp.CodeDescription(href=url) if url else None,
        data={"name": f.name, "fix": None if f.fix is None else ("safe" if f.fix.safe else "unsafe")})


def whole_edit(uri: str, version: int | None, old: str, new: str, lines: Lines) -> lsp.WorkspaceEdit:
    """The smallest one-span edit turning `old` into `new` (fixes change a few lines; a BOM is the buffer's own), as
    a `documentChanges` edit of the document's `version`: a client that has a newer version refuses it."""
    old, new = old.removeprefix("\ufeff"), new.removeprefix("\ufeff")
    start = 0
    limit = min(len(old), len(new))
    while start < limit and old[start] == new[start]:
        start += 1
    end_old, end_new = len(old), len(new)
    while end_old > start and end_new > start and old[end_old - 1] == new[end_new - 1]:
        end_old, end_new = end_old - 1, end_new - 1
    edit = lsp.TextEdit(range=lines.range(start, end_old), new_text=new[start:end_new])
    document = lsp.OptionalVersionedTextDocumentIdentifier(uri=uri, version=version)
    return lsp.WorkspaceEdit(document_changes=[lsp.TextDocumentEdit(text_document=document, edits=[edit])])


def make_server() -> PipelintServer:
    server = PipelintServer()

    @server.feature(lsp.INITIALIZED)
    def initialized(ls: PipelintServer, params: lsp.InitializedParams):
        ls.loop = asyncio.get_running_loop()
        ls.setup()
        caps = ls.client_capabilities.workspace
        watched = caps.did_change_watched_files if caps is not None else None
        if watched is not None and watched.dynamic_registration:
            watchers = [lsp.FileSystemWatcher(glob_pattern=f"**/{name}") for name in CONFIG_FILES]
            watchers += [lsp.FileSystemWatcher(glob_pattern=f"**/*{suffix}") for suffix in YAML_SUFFIXES]
            ls.client_register_capability(lsp.RegistrationParams(registrations=[lsp.Registration(
                id="pipelint-watch", method=lsp.WORKSPACE_DID_CHANGE_WATCHED_FILES,
                register_options=lsp.DidChangeWatchedFilesRegistrationOptions(watchers=watchers))]))
        ls.background(ls.build_index())

    @server.feature(lsp.TEXT_DOCUMENT_DID_OPEN)
    def did_open(ls: PipelintServer, params: lsp.DidOpenTextDocumentParams):
        ls.schedule(params.text_document.uri, 0)

    @server.feature(lsp.TEXT_DOCUMENT_DID_CHANGE)
    def did_change(ls: PipelintServer, params: lsp.DidChangeTextDocumentParams):
        ls.schedule(params.text_document.uri)

    @server.feature(lsp.TEXT_DOCUMENT_DID_SAVE)
    def did_save(ls: PipelintServer, params: lsp.DidSaveTextDocumentParams):
        path = to_fs_path(params.text_document.uri)
        if path and os.path.basename(path) in CONFIG_FILES:
            ls.reload()
            return
        if path and path.endswith(YAML_SUFFIXES):
            folder = ls.folder_of(os.path.abspath(path))

            async def reindex():
                await ls.work(folder.index_file, os.path.abspath(path))
                ls.last.clear()  # a connector saved here counts for the other open files
                ls.publish_all()

            ls.background(reindex())
            return
        ls.publish_all()

    @server.feature(lsp.TEXT_DOCUMENT_DID_CLOSE)
    def did_close(ls: PipelintServer, params: lsp.DidCloseTextDocumentParams):
        ls.last.pop(params.text_document.uri, None)
        ls.text_document_publish_diagnostics(lsp.PublishDiagnosticsParams(uri=params.text_document.uri, diagnostics=[]))

    @server.feature(lsp.WORKSPACE_DID_CHANGE_WATCHED_FILES)
    def did_change_watched(ls: PipelintServer, params: lsp.DidChangeWatchedFilesParams):
        paths = [to_fs_path(c.uri) for c in params.changes]
        if any(p and os.path.basename(p) in CONFIG_FILES for p in paths):
            ls.reload()
            return
        def reindex():
            for change, path in zip(params.changes, paths, strict=True):
                if not path or not path.endswith(YAML_SUFFIXES):
                    continue
                folder = ls.folder_of(os.path.abspath(path))
                if change.type == lsp.FileChangeType.Deleted:
                    folder.index.pop(os.path.abspath(path), None)
                else:
                    folder.index_file(os.path.abspath(path))

        async def then_publish():
            await ls.work(reindex)
            ls.last.clear()
            ls.publish_all()

        ls.background(then_publish())

    @server.feature(lsp.WORKSPACE_DID_CHANGE_WORKSPACE_FOLDERS)
    def did_change_folders(ls: PipelintServer, params: lsp.DidChangeWorkspaceFoldersParams):
        ls.reload()

    @server.feature(lsp.TEXT_DOCUMENT_CODE_ACTION, lsp.CodeActionOptions(
        code_action_kinds=[lsp.CodeActionKind.QuickFix, FIX_ALL]))
    async def code_action(ls: PipelintServer, params: lsp.CodeActionParams):
        return await ls.code_actions(params.text_document.uri, params.range, params.context.only)

    @server.feature(lsp.TEXT_DOCUMENT_HOVER)
    async def hover(ls: PipelintServer, params: lsp.HoverParams):
        snap = ls.snapshot(params.text_document.uri)
        if snap is None:
            return None
        found = ls.last.get(snap[0])
        if found is None or found[:2] != snap[1:]:  # not yet analysed at this version: on the worker
            found = await ls.work(ls.analyse, snap)
        if found is None:
            return None
        _, text, _report, findings, _ = found
        lines = Lines(text, ls.workspace.position_codec)
        at = lines.index(params.position)
        from pipelint.rules import by_code

        docs = []
        for f in findings:
            if f.span.start <= at <= max(f.span.end, f.span.start + 1):
                cls = by_code().get(f.code)
                if cls is not None and console.rule_doc(cls) not in docs:
                    docs.append(console.rule_doc(cls))
        if not docs:
            return None
        return lsp.Hover(contents=lsp.MarkupContent(kind=lsp.MarkupKind.Markdown, value="\n\n---\n\n".join(docs)))

    return server


def serve() -> None:
    make_server().start_io()

