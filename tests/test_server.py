"""`pipelint server` end to end: pytest-lsp's real LSP client drives the server over stdio (issue 17).

Each test lays out a workspace in tmp_path, starts a session with Neovim 0.11's client capabilities (pytest-lsp
checks every answer against them), and reads what an editor would show.
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import pytest_lsp
from conftest import FIXTURES, ROOT
from lsprotocol import types as lsp
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

PIPELINE = """\
pipeline:
  name: build
  identifier: build
  stages:
    - stage:
        name: build
        identifier: build
        type: CI
        spec:
          infrastructure:
            type: KubernetesDirect
            spec:
              connectorRef: account.k8s
              namespace: ci
          execution:
            steps:
              - step:
                  type: Run
                  identifier: test
                  spec:
                    image: app.harness.io/registry/harness/ci-addon:1.16.4  # the old one
"""


@pytest_lsp.fixture(config=ClientServerConfig(server_command=[sys.executable, "-m", "pipelint", "server"]))
async def client(lsp_client: LanguageClient):
    yield
    await lsp_client.shutdown_session()


CONFIG = '[rules.CON001]\nimage-connector = "account.harnessImageMirror"\n'


async def start(client: LanguageClient, root: Path, config: str | None = CONFIG) -> None:
    if config is not None:
        (root / ".pipelint.toml").write_text(config)
    await client.initialize_session(lsp.InitializeParams(
        capabilities=client_capabilities("neovim"), root_uri=root.as_uri(),
        workspace_folders=[lsp.WorkspaceFolder(uri=root.as_uri(), name=root.name)]))


def open_file(client: LanguageClient, path: Path, text: str | None = None, version: int = 1) -> str:
    text = path.read_text() if text is None else text
    client.text_document_did_open(lsp.DidOpenTextDocumentParams(text_document=lsp.TextDocumentItem(
        uri=path.as_uri(), language_id="yaml", version=version, text=text)))
    return path.as_uri()


async def diagnostics(client: LanguageClient, uri: str, until=lambda d: True, timeout: float = 20.0):
    """The latest diagnostics for `uri` once `until` holds for them (bounded wait)."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        found = client.diagnostics.get(uri)
        if found is not None and until(found):
            return found
        left = deadline - asyncio.get_running_loop().time()
        if left <= 0:
            raise AssertionError(f"no diagnostics as wanted for {uri}: {found}; log: {client.log_messages}")
        try:
            await asyncio.wait_for(client.wait_for_notification(lsp.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS), left)
        except TimeoutError:
            pass


def shown(diags) -> list[tuple]:
    return sorted((d.code, d.range.start.line, d.range.start.character, d.range.end.line, d.range.end.character,
                   d.severity, d.data["fix"] if d.data else None) for d in diags)


def edits(action: lsp.CodeAction, uri: str, version: int | None = None) -> list[lsp.TextEdit]:
    """The text edits of a code action: one versioned `documentChanges` edit of `uri` (a client refuses it once
    the document has moved past that version), never unversioned `changes`."""
    edit = action.edit
    assert edit is not None and edit.changes is None and edit.document_changes is not None
    (change,) = edit.document_changes
    assert isinstance(change, lsp.TextDocumentEdit) and change.text_document.uri == uri
    assert isinstance(change.text_document.version, int)
    if version is not None:
        assert change.text_document.version == version
    return list(change.edits)


def apply(text: str, edits: list[lsp.TextEdit]) -> str:
    lines = text.splitlines(True)
    starts = [0]
    for line in lines:
        starts.append(starts[-1] + len(line))
    for e in sorted(edits, key=lambda e: (e.range.start.line, e.range.start.character), reverse=True):
        a = starts[e.range.start.line] + e.range.start.character
        b = starts[e.range.end.line] + e.range.end.character
        text = text[:a] + e.new_text + text[b:]
    return text


@pytest.mark.asyncio
async def test_open_change_and_fix(client: LanguageClient, tmp_path: Path):
    path = tmp_path / ".harness" / "build.yaml"
    path.parent.mkdir()
    path.write_text(PIPELINE)
    await start(client, tmp_path)
    uri = open_file(client, path)
    diags = await diagnostics(client, uri)
    # what `check` says (10:11 and 21:28), 0-based, to the end of the key and of the image
    assert shown(diags) == [("CON001", 9, 10, 9, 24, lsp.DiagnosticSeverity.Warning, "safe"),
                            ("REG001", 20, 27, 20, 74, lsp.DiagnosticSeverity.Error, "safe")]
    assert all(d.source == "pipelint" for d in diags)

    # a change, unsaved: the image fixed by hand -> only CON001 is left
    client.text_document_did_change(lsp.DidChangeTextDocumentParams(
        text_document=lsp.VersionedTextDocumentIdentifier(uri=uri, version=2),
        content_changes=[lsp.TextDocumentContentChangePartial(
            range=lsp.Range(start=lsp.Position(line=20, character=27), end=lsp.Position(line=20, character=50)),
            text="us-docker.pkg.dev/gar-prod-setup/harness-public")]))
    diags = await diagnostics(client, uri, lambda d: [x.code for x in d] == ["CON001"])
    text = PIPELINE.replace("app.harness.io/registry", "us-docker.pkg.dev/gar-prod-setup/harness-public")

    # the quick fix for CON001: applying its edit clears the finding
    actions = await client.text_document_code_action_async(lsp.CodeActionParams(
        text_document=lsp.TextDocumentIdentifier(uri=uri), range=diags[0].range,
        context=lsp.CodeActionContext(diagnostics=diags)))
    titles = [a.title for a in actions]
    assert titles[0].startswith("CON001: ") and actions[0].is_preferred, titles
    assert "Suppress CON001 on this line" in titles
    fixed = apply(text, edits(actions[0], uri))
    assert "harnessImageConnectorRef" in fixed and fixed.count("\n") == text.count("\n") + 1
    client.text_document_did_change(lsp.DidChangeTextDocumentParams(
        text_document=lsp.VersionedTextDocumentIdentifier(uri=uri, version=3),
        content_changes=[lsp.TextDocumentContentChangeWholeDocument(text=fixed)]))
    await diagnostics(client, uri, lambda d: len(d) == 0)


@pytest.mark.asyncio
async def test_fix_all_suppress_and_hover(client: LanguageClient, tmp_path: Path):
    path = tmp_path / "build.yaml"
    path.write_text(PIPELINE)
    await start(client, tmp_path)
    uri = open_file(client, path)
    diags = await diagnostics(client, uri, lambda d: len(d) == 2)
    whole = lsp.Range(start=lsp.Position(line=0, character=0), end=lsp.Position(line=21, character=0))
    actions = await client.text_document_code_action_async(lsp.CodeActionParams(
        text_document=lsp.TextDocumentIdentifier(uri=uri), range=whole,
        context=lsp.CodeActionContext(diagnostics=[], only=["source.fixAll.pipelint"])))
    assert [a.title for a in actions] == ["Fix all safe problems in this file (2)"]
    fixed = apply(PIPELINE, edits(actions[0], uri))
    path.write_text(fixed)
    result = await asyncio.create_subprocess_exec(sys.executable, "-m", "pipelint", "check", str(path),
                                                  stdout=asyncio.subprocess.PIPE, cwd=tmp_path)
    await result.communicate()
    assert result.returncode == 0  # what the editor wrote passes `check`

    reg = next(d for d in diags if d.code == "REG001")
    actions = await client.text_document_code_action_async(lsp.CodeActionParams(
        text_document=lsp.TextDocumentIdentifier(uri=uri), range=reg.range,
        context=lsp.CodeActionContext(diagnostics=[reg])))
    suppress = next(a for a in actions if a.title == "Suppress REG001 on this line")
    suppressed = apply(PIPELINE, edits(suppress, uri))
    # the line ends in a comment already: the directive goes on a line of its own above
    assert "                    # pipelint: ignore[REG001]\n                    image: app.harness.io" in suppressed

    hover = await client.text_document_hover_async(lsp.HoverParams(
        text_document=lsp.TextDocumentIdentifier(uri=uri), position=reg.range.start))
    assert hover is not None and hover.contents.value.startswith("# retired-harness-registry (REG001)")


@pytest.mark.asyncio
async def test_cross_file_connector_and_config_change(client: LanguageClient, tmp_path: Path):
    for f in (FIXTURES / "CON003" / "bad_k8s_connector").iterdir():
        (tmp_path / f.name).write_text(f.read_text())
    await start(client, tmp_path, config=None)
    uri = open_file(client, tmp_path / "pipeline.yaml")
    # the connector in mirror.yaml (not open) is a Kubernetes one: CON003, from the workspace index
    await diagnostics(client, uri, lambda d: [x.code for x in d] == ["CON003"])
    kinds = [type(r).__name__ for r in client.progress_reports["pipelint-index"]]
    assert kinds[0] == "WorkDoneProgressBegin" and kinds[-1] == "WorkDoneProgressEnd"
    assert client.progress_reports["pipelint-index"][-1].message == "2 files indexed"

    # the connector fixed in the editor and saved: the pipeline's diagnostics follow
    mirror = tmp_path / "mirror.yaml"
    fixed = "connector:\n  name: mirror\n  identifier: mirror\n  type: DockerRegistry\n  spec:\n" \
            "    dockerRegistryUrl: https://registry.example.com\n    providerType: Other\n" \
            "    auth:\n      type: Anonymous\n    executeOnDelegate: false\n"
    mirror_uri = open_file(client, mirror)
    client.text_document_did_change(lsp.DidChangeTextDocumentParams(
        text_document=lsp.VersionedTextDocumentIdentifier(uri=mirror_uri, version=2),
        content_changes=[lsp.TextDocumentContentChangeWholeDocument(text=fixed)]))
    mirror.write_text(fixed)
    client.text_document_did_save(lsp.DidSaveTextDocumentParams(text_document=lsp.TextDocumentIdentifier(
        uri=mirror_uri)))
    await diagnostics(client, uri, lambda d: len(d) == 0)
    mirror.write_text((FIXTURES / "CON003" / "bad_k8s_connector" / "mirror.yaml").read_text())
    client.workspace_did_change_watched_files(lsp.DidChangeWatchedFilesParams(changes=[lsp.FileEvent(
        uri=mirror_uri, type=lsp.FileChangeType.Changed)]))  # changed on disk (git checkout): indexed again
    client.text_document_did_close(lsp.DidCloseTextDocumentParams(text_document=lsp.TextDocumentIdentifier(
        uri=mirror_uri)))
    await diagnostics(client, uri, lambda d: [x.code for x in d] == ["CON003"])

    # the configuration turns CON003 off: the diagnostics follow once the change is seen
    (tmp_path / ".pipelint.toml").write_text('ignore = ["CON003"]\n')
    client.workspace_did_change_watched_files(lsp.DidChangeWatchedFilesParams(changes=[lsp.FileEvent(
        uri=(tmp_path / ".pipelint.toml").as_uri(), type=lsp.FileChangeType.Created)]))
    await diagnostics(client, uri, lambda d: len(d) == 0)

    # a bad configuration is one message, and no crash: the server still answers
    (tmp_path / ".pipelint.toml").write_text('select = ["NOPE1"]\n')
    client.workspace_did_change_watched_files(lsp.DidChangeWatchedFilesParams(changes=[lsp.FileEvent(
        uri=(tmp_path / ".pipelint.toml").as_uri(), type=lsp.FileChangeType.Changed)]))
    for _ in range(100):
        if client.messages:
            break
        await asyncio.sleep(0.05)
    assert any("NOPE1" in m.message for m in client.messages), client.messages


@pytest.mark.asyncio
async def test_broken_and_foreign_files(client: LanguageClient, tmp_path: Path):
    await start(client, tmp_path, config=None)
    broken = open_file(client, tmp_path / "broken.yaml", "pipeline:\n  stages: [\n")
    diags = await diagnostics(client, broken)
    assert [d.code for d in diags] == ["YML001"] and diags[0].range.start.line >= 1
    foreign = open_file(client, tmp_path / "deploy.yaml", "apiVersion: v1\nkind: Pod\nspec:\n  image: nginx\n")
    assert len(await diagnostics(client, foreign)) == 0
    # the server lives on: a change to the broken file is checked again
    client.text_document_did_change(lsp.DidChangeTextDocumentParams(
        text_document=lsp.VersionedTextDocumentIdentifier(uri=broken, version=2),
        content_changes=[lsp.TextDocumentContentChangeWholeDocument(text=PIPELINE)]))
    await diagnostics(client, broken, lambda d: sorted(x.code for x in d) == ["CON001", "REG001"])


def test_without_the_extra_it_says_how_to_install(tmp_path: Path):
    blocker = tmp_path / "block"
    blocker.mkdir()
    (blocker / "pygls").mkdir()
    (blocker / "pygls" / "__init__.py").write_text("raise ImportError('no pygls here', name='pygls')\n")
    env = {**os.environ, "PYTHONPATH": str(blocker)}
    result = subprocess.run([sys.executable, "-m", "pipelint", "server"], capture_output=True, text=True, env=env,
                            timeout=60)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines() == [
        "pipelint: error: pipelint server needs pygls (pygls): pip install 'pipelint[server]'"]


EDITOR = (ROOT / "docs" / "editor.md").read_text()


def snippets(language: str) -> list[str]:
    return re.findall(rf"```{language}\n(.*?)```", EDITOR, re.S)


def test_the_editor_snippets_parse(tmp_path: Path):
    import json
    import tomllib

    helix = tomllib.loads(snippets("toml")[0])
    assert helix["language-server"]["pipelint"] == {"command": "pipelint", "args": ["server"]}
    assert "pipelint" in helix["language"][0]["language-servers"]
    vscode = json.loads(snippets("json")[0])
    assert vscode["glspc.server.command"] == "pipelint" and vscode["glspc.server.commandArguments"] == ["server"]
    lua = snippets("lua")
    assert len(lua) == 2 and "vim.lsp.config" in lua[0] and "vim.lsp.enable" in lua[0]
    nvim = _nvim()
    for n, chunk in enumerate(lua):
        (tmp_path / f"s{n}.lua").write_text(chunk)
        check = f'lua local f, e = loadfile("{tmp_path}/s{n}.lua"); if not f then io.stderr:write(e) os.exit(1) end'
        result = subprocess.run([nvim, "--headless", "-u", "NONE", "-c", check, "-c", "qa!"], capture_output=True,
                                text=True, timeout=60)
        assert result.returncode == 0, result.stderr


def _nvim() -> str:
    nvim = shutil.which("nvim")
    if nvim is None:
        if os.environ.get("PIPELINT_REQUIRE_REGISTRY"):  # CI installs it (.ci/run)
            pytest.fail("nvim is not installed")
        pytest.skip("nvim is not installed (apt-get install neovim)")
    return nvim


def test_neovim_shows_the_diagnostics_with_the_documented_snippet(tmp_path: Path):
    """A new user's Neovim (Debian's 0.7.2): the snippet of docs/editor.md in init.lua, a pipeline opened,
    diagnostics shown; without pipelint on PATH, one warning and no Lua error."""
    nvim = _nvim()
    work = tmp_path / "repo"
    (work / ".harness").mkdir(parents=True)
    (work / ".harness" / "build.yaml").write_text(PIPELINE)
    (work / ".pipelint.toml").write_text(CONFIG)
    out = tmp_path / "diagnostics.txt"
    harness = f"""
vim.api.nvim_create_autocmd("DiagnosticChanged", {{ callback = function()
  local found = vim.diagnostic.get(0)
  if #found > 0 then
    local lines = {{}}
    for _, d in ipairs(found) do
      local lsp = d.user_data and d.user_data.lsp or d
      table.insert(lines, string.format("%s %d:%d %s", lsp.code, d.lnum, d.col, d.source or lsp.source))
    end
    table.sort(lines)
    vim.fn.writefile(lines, "{out}")
    vim.cmd("qa!")
  end
end }})
vim.defer_fn(function() vim.cmd("qa!") end, 45000)
"""
    (tmp_path / "init.lua").write_text(snippets("lua")[1] + harness)
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}",
           "XDG_STATE_HOME": str(tmp_path / "state"), "XDG_DATA_HOME": str(tmp_path / "data")}
    subprocess.run([nvim, "--headless", "-u", str(tmp_path / "init.lua"), ".harness/build.yaml"], cwd=work, env=env,
                   capture_output=True, timeout=90)
    assert out.exists(), "Neovim showed no diagnostics"
    assert out.read_text().splitlines() == ["CON001 9:10 pipelint", "REG001 20:27 pipelint"]
    # an unactivated virtual environment: no pipelint on PATH
    messages = tmp_path / "messages.txt"
    (tmp_path / "init2.lua").write_text(snippets("lua")[1] + f"""
vim.defer_fn(function()
  vim.fn.writefile(vim.split(vim.fn.execute("messages"), "\\n"), "{messages}")
  vim.cmd("qa!")
end, 1500)
""")
    bare = {**env, "PATH": "/usr/bin:/bin"}
    run = subprocess.run([nvim, "--headless", "-u", str(tmp_path / "init2.lua"), ".harness/build.yaml", "+e other.yaml"],
                         cwd=work, env=bare, capture_output=True, text=True, timeout=60)
    said = [line for line in messages.read_text().splitlines() if line.strip()]
    assert said == ["pipelint: no `pipelint` on PATH; activate its virtual environment or set cmd to its full path"]
    assert "stack traceback" not in run.stderr + run.stdout


@pytest.mark.asyncio
async def test_terraform_bom_and_hostile_files(client: LanguageClient, tmp_path: Path):
    await start(client, tmp_path)
    # Harness YAML in a Terraform heredoc: the finding at its place in the .tf file
    tf = tmp_path / "main.tf"
    body = "".join(f"      {line}" if line.strip() else line for line in PIPELINE.splitlines(True))
    tf.write_text(f'resource "harness_platform_pipeline" "build" {{\n  identifier = "build"\n'
                  f'  yaml       = <<-EOT\n{body}  EOT\n}}\n')
    uri = open_file(client, tf)
    diags = await diagnostics(client, uri, lambda d: len(d) == 2)
    assert ("REG001", 23, 33) in [(d.code, d.range.start.line, d.range.start.character) for d in diags]

    # a BOM in the buffer: positions are the buffer's, and the quick fix's edit lands where it should
    bom = tmp_path / "bom.yaml"
    uri = open_file(client, bom, "\ufeff" + PIPELINE)
    diags = await diagnostics(client, uri, lambda d: len(d) == 2)
    reg = next(d for d in diags if d.code == "REG001")
    assert (reg.range.start.line, reg.range.start.character) == (20, 27)
    actions = await client.text_document_code_action_async(lsp.CodeActionParams(
        text_document=lsp.TextDocumentIdentifier(uri=uri), range=reg.range,
        context=lsp.CodeActionContext(diagnostics=[reg])))
    fixed = apply("\ufeff" + PIPELINE, edits(actions[0], uri))
    assert fixed.startswith("\ufeffpipeline:") and "app.harness.io" not in fixed

    # an alias bomb and a 10,000-deep file: one diagnostic each, and the server still answers
    bomb = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{chr(98 + i)}: &{chr(98 + i)} [*{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}, *{chr(97 + i)}]\n"
        for i in range(20)) + "pipeline:\n  stages: *u\n"
    uri = open_file(client, tmp_path / "bomb.yaml", bomb)
    await diagnostics(client, uri)
    uri = open_file(client, tmp_path / "deep.yaml", "pipeline:\n  x: " + "[" * 10000 + "]" * 10000 + "\n")
    deep = await diagnostics(client, uri)
    assert [d.code for d in deep] == ["YML001"]
    hover = await client.text_document_hover_async(lsp.HoverParams(
        text_document=lsp.TextDocumentIdentifier(uri=uri), position=deep[0].range.start))
    assert hover is not None and "invalid-yaml" in hover.contents.value

    # a buffer over max-file-size (8 MB by default) is not parsed, as `check` does not parse such a file
    uri = open_file(client, tmp_path / "huge.yaml", PIPELINE + "# " + "x" * 9_000_000 + "\n")
    assert list(await diagnostics(client, uri)) == []
    assert any("huge.yaml: not checked: 9.0 MB is over max-file-size (8 MB)" in m.message
               for m in client.log_messages), client.log_messages[-3:]


@pytest.mark.asyncio
async def test_edits_are_versioned_and_bounded_and_the_loop_stays_free(client: LanguageClient, tmp_path: Path):
    """Issue 26: an edit names the version it was computed on (a client refuses it after one more keystroke);
    a buffer over MAX_ACTION_BYTES gets no code actions; a hostile custom rule is one log line; and while the
    worker is busy with a large buffer, a request on an analysed buffer is answered from the loop."""
    config = CONFIG + ('[[custom-rules]]\ncode = "ORG001"\nname = "deep"\nmessage = "x"\n'
                       'given = "$..*..*..*..*..*..*"\nthen = { function = "truthy" }\n')
    await start(client, tmp_path, config)
    uri = open_file(client, tmp_path / "build.yaml", PIPELINE, version=7)
    diags = await diagnostics(client, uri, lambda d: len(d) == 2)
    reg = next(d for d in diags if d.code == "REG001")
    params = lsp.CodeActionParams(text_document=lsp.TextDocumentIdentifier(uri=uri), range=reg.range,
                                  context=lsp.CodeActionContext(diagnostics=[reg]))
    actions = await client.text_document_code_action_async(params)
    assert edits(actions[0], uri, version=7)
    client.text_document_did_change(lsp.DidChangeTextDocumentParams(
        text_document=lsp.VersionedTextDocumentIdentifier(uri=uri, version=8),
        content_changes=[lsp.TextDocumentContentChangePartial(
            range=lsp.Range(start=lsp.Position(line=0, character=0), end=lsp.Position(line=0, character=0)),
            text="# a new first line\n")]))
    actions = await client.text_document_code_action_async(lsp.CodeActionParams(
        text_document=params.text_document, context=params.context,
        range=lsp.Range(start=lsp.Position(line=21, character=27), end=lsp.Position(line=21, character=27))))
    assert edits(actions[0], uri, version=8)[0].range.start.line == 21

    # the JSONPath over its budget: one warning in the log, the other rules' diagnostics still shown
    deep = ["pipeline:", "  identifier: x", "  stages:", "    - stage:", "        identifier: s",
            "        type: Custom", "        spec:"] + [" " * (10 + 2 * i) + f"k{i}:" for i in range(40)]
    duri = open_file(client, tmp_path / "deep.yaml", "\n".join(deep + [" " * 90 + "v: 1"]) + "\n")
    await diagnostics(client, duri)
    assert any("deep.yaml: ORG001 (" in m.message and ".pipelint.toml, 'given')" in m.message
               and "visited more than 500,000" in m.message for m in client.log_messages), client.log_messages[-3:]

    # a large buffer: diagnostics come; code actions are refused at once, said in the log
    big = PIPELINE + "".join(f"# padding line {i} " + "x" * 60 + "\n" for i in range(16_000))
    buri = open_file(client, tmp_path / "big.yaml", big)
    bdiags = await diagnostics(client, buri, lambda d: len(d) == 2, timeout=60)
    actions = await client.text_document_code_action_async(lsp.CodeActionParams(
        text_document=lsp.TextDocumentIdentifier(uri=buri), range=bdiags[0].range,
        context=lsp.CodeActionContext(diagnostics=bdiags)))
    assert actions is not None and len(actions) == 0
    assert any("no code actions on" in m.message and "over 1,000,000 characters" in m.message
               for m in client.log_messages)

    # the worker busy checking a changed large buffer (30,000 untagged images: seconds of work); a hover on the
    # analysed buffer is answered meanwhile, before the large buffer's new diagnostics (on the loop, the hover
    # would have waited for them)
    steps = "".join(f"              - step:\n                  type: Run\n                  identifier: s{i}\n"
                    "                  spec:\n                    image: alpine\n" for i in range(30_000))
    client.text_document_did_change(lsp.DidChangeTextDocumentParams(
        text_document=lsp.VersionedTextDocumentIdentifier(uri=buri, version=2),
        content_changes=[lsp.TextDocumentContentChangeWholeDocument(text=PIPELINE + steps)]))
    await asyncio.sleep(0.1)  # past the debounce: the check has started
    hover = await asyncio.wait_for(client.text_document_hover_async(lsp.HoverParams(
        text_document=lsp.TextDocumentIdentifier(uri=uri), position=lsp.Position(line=21, character=30))), 20)
    assert hover is not None and "retired-harness-registry" in hover.contents.value
    assert len(client.diagnostics[buri]) == 2  # the large buffer's check is still running
    await diagnostics(client, buri, lambda d: len(d) == 30_002, timeout=60)
