"""Untrusted peers and untrusted files: a registry that misbehaves on purpose (a small HTTP server on
127.0.0.1 with bounded loops), a planted cache, and random bytes fed to every reader of outside data. Each
ends in one line naming what failed and exit status 2 -- never a traceback, a hang or a secret leaked.
"""

from __future__ import annotations

import http.server
import json
import os
import pickle
import random
import re
import subprocess
import threading
import time
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest
from conftest import pipelint, pipelint_process
from interrupting import TRACER, lines_of
from registries import docker_config

CANARY = "hostile-canary-password"
MANIFEST = b'{"schemaVersion": 2}'


class Hostile:
    """Answers the distribution API in one bad way at a time (`mode`); records what it was sent."""

    def __init__(self):
        self.mode = "ok"
        self.requests: list[tuple[str, str, str]] = []
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_HEAD(self):
                self._handle(False)

            def do_GET(self):
                self._handle(True)

            def _send(self, code, headers=(), body=b""):
                self.send_response(code)
                for k, v in headers:
                    self.send_header(k, v)
                if not any(k.lower() == "content-length" for k, _ in headers):
                    self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if body and self.command != "HEAD":
                    self.wfile.write(body)

            def _handle(self, body: bool):
                outer.requests.append((self.command, self.path, self.headers.get("Authorization", "")))
                mode = outer.mode
                realm = f"http://{outer.host}/token"
                if mode == "realm_plain":
                    realm = "http://auth.registry.example/token"  # plain HTTP, not loopback: refused
                if self.path == "/v2/" and mode.startswith(("token", "realm")):
                    return self._send(401, [("WWW-Authenticate", f'Bearer realm="{realm}",service="x"')])
                if self.path.startswith("/token"):
                    answers = {"token_list": b"[1, 2]", "token_dict": b'{"token": {"a": 1}}',
                               "token_header": b'{"token": "abc\\r\\nX-Evil: 1"}', "token_deep": b"[" * 100000}
                    return self._send(200, [("Content-Type", "application/json")], answers.get(mode, b"{}"))
                if self.path == "/v2/":
                    return self._send(200)
                if mode == "drip":  # one byte every 0.2 s, for at most 8 s
                    self.wfile.write(b"HTTP/1.1 200 OK\r\n")
                    for _ in range(40):
                        try:
                            self.wfile.write(b"X")
                            self.wfile.flush()
                        except OSError:
                            return
                        time.sleep(0.2)
                    return
                if mode == "huge":  # a 10 GB promise
                    return self._send(200, [("Content-Length", str(10 * 1024 ** 3))], b"{}")
                if mode == "endless":  # no length, more than any manifest (bounded: 8 MB)
                    self.send_response(200)
                    self.send_header("Connection", "close")
                    self.end_headers()
                    for _ in range(128):
                        try:
                            self.wfile.write(b"x" * 65536)
                        except OSError:
                            return
                    return
                if mode == "redirect_plain":
                    return self._send(302, [("Location", "http://blobs.registry.example/manifest")])
                if mode == "short":  # says 1000 bytes, sends 10, closes
                    self.send_response(200)
                    self.send_header("Content-Length", "1000")
                    self.send_header("Connection", "close")
                    self.end_headers()
                    self.wfile.write(b"0123456789")
                    self.close_connection = True
                    return
                return self._send(200, [("Docker-Content-Digest", "sha256:" + "b" * 64)], MANIFEST)

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.host = f"127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def hostile():
    server = Hostile()
    yield server
    server.stop()


def _pin(tmp, image, *extra):
    (tmp / "p.yaml").write_text("template:\n  name: t\n  identifier: t\n  versionLabel: v1\n  type: Step\n"
                                f"  spec:\n    type: Run\n    spec:\n      image: {image}\n")
    config = docker_config(tmp / "docker", image.split("/")[0], "bot", CANARY)
    return pipelint_process("pin", "p.yaml", "--isolated", "--timeout", "1", *extra, cwd=tmp,
                            env={"DOCKER_CONFIG": str(config)})


@pytest.mark.parametrize("mode,message", [
    pytest.param("drip", "{image}: {host} did not answer within 1 s (4 attempts)", marks=pytest.mark.slow),
    ("huge", "{image}: {host} announced 10,737,418,240 bytes, over the 4,194,304 a manifest or token may have"),
    ("endless", "{image}: {host} sent more than the 4,194,304 bytes a manifest or token may have"),
    ("short", "{image}: cannot reach {host}: IncompleteRead"),
    ("redirect_plain", "{image}: refused to fetch plain HTTP to blobs.registry.example (only loopback and "
                       "--insecure-registry hosts)"),
    ("realm_plain", "{image}: {host} named a token realm that is refused: plain HTTP to auth.registry.example "
                    "(only loopback and --insecure-registry hosts)"),
    ("token_list", "{image}: {host} token endpoint gave no usable token"),
    ("token_dict", "{image}: {host} token endpoint gave no usable token"),
    ("token_header", "{image}: {host} token endpoint gave no usable token"),
    ("token_deep", "{image}: {host} token endpoint gave no usable token"),
])
def test_a_hostile_registry_ends_in_one_line(hostile, in_tmp, mode, message):
    hostile.mode = mode
    image = f"{hostile.host}/team/app:1.0"
    result = _pin(in_tmp, image)
    err = result.stderr.decode()
    assert result.returncode == 2, err
    assert err == f"pipelint: error: p.yaml:9:14: {message.format(image=image, host=hostile.host)}\n"
    assert CANARY.encode() not in result.stdout + result.stderr
    assert (in_tmp / "p.yaml").read_text().endswith(f"image: {image}\n")
    if mode == "realm_plain":  # the credentials never left for the refused realm
        assert all(not auth.startswith("Basic") for _, _, auth in hostile.requests)


def test_a_well_behaved_answer_still_pins(hostile, in_tmp):
    image = f"{hostile.host}/team/app:1.0"
    result = _pin(in_tmp, image)
    assert result.returncode == 0, result.stderr
    assert (in_tmp / "p.yaml").read_text().endswith(f"image: {image}@sha256:{'b' * 64}\n")


@pytest.mark.parametrize("content", [
    b"[1, 2]", b'{"auths": [1]}', b'{"auths": {"h": {"auth": 5}}}', b'{"auths": {"h": {"auth": "!!!"}}}',
    b"\xff\xfe", b"[" * 100000, b'{"auths": {"h": {"username": ["x"], "password": 1}}}',
])
def test_malformed_docker_config_is_one_line(in_tmp, content):
    (in_tmp / "docker").mkdir()
    (in_tmp / "docker" / "config.json").write_bytes(content)
    (in_tmp / "p.yaml").write_text("template:\n  name: t\n  identifier: t\n  versionLabel: v1\n  type: Step\n"
                                   "  spec:\n    type: Run\n    spec:\n      image: 127.0.0.1:9/app:1\n")
    result = pipelint_process("pin", "p.yaml", "--isolated", "--timeout", "0.2", cwd=in_tmp,
                              env={"DOCKER_CONFIG": str(in_tmp / "docker")})
    err = result.stderr.decode()
    assert result.returncode == 2 and b"Traceback" not in result.stderr
    assert len(err.strip().splitlines()) == 1, err


# --- the cache ------------------------------------------------------------------------------------------
class _Payload:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (open, (self.marker, "w"))  # unpickling this creates the marker file


def _plant(root, payload: bytes):
    """Write `payload` over every cache entry and index of `root` (a pull request committing the folder)."""
    for path in (root / ".pipelint_cache").rglob("*"):
        if path.is_file() and path.name != ".gitignore":
            path.write_bytes(payload)


def _tree(root):
    (root / ".harness").mkdir(parents=True)
    for i in range(10):  # enough files for the cache to be used
        (root / ".harness" / f"p{i}.yaml").write_text(
            "pipeline:\n  identifier: p\n  stages:\n    - stage:\n        identifier: s\n        type: CI\n"
            "        spec:\n          execution:\n            steps:\n              - step:\n"
            "                  identifier: r\n                  type: Run\n                  spec:\n"
            "                    image: alpine\n")


def test_a_planted_pickle_in_the_cache_runs_nothing(in_tmp):
    _tree(in_tmp)
    first = pipelint_process("check", ".", "--isolated", cwd=in_tmp)
    assert first.returncode == 1
    marker = in_tmp / "PWNED"
    _plant(in_tmp, pickle.dumps(_Payload(str(marker))))
    again = pipelint_process("check", ".", "--isolated", cwd=in_tmp)
    assert not marker.exists()
    assert again.returncode == 1 and again.stdout == first.stdout and again.stderr == first.stderr


def test_a_forged_cache_entry_cannot_hide_findings(in_tmp):
    """A planted entry in the right format, claiming no findings, is not signed with the user's key."""
    _tree(in_tmp)
    first = pipelint_process("check", ".", "--isolated", "--format", "json", cwd=in_tmp)
    for path in (in_tmp / ".pipelint_cache").rglob("*"):
        if path.is_file() and path.name != ".gitignore":
            outer = json.loads(path.read_bytes())
            body = json.loads(outer["body"])
            if "findings" in body:
                body["findings"] = []
            outer["body"] = json.dumps(body)
            path.write_text(json.dumps(outer))
    again = pipelint_process("check", ".", "--isolated", "--format", "json", cwd=in_tmp)
    assert json.loads(again.stdout) == json.loads(first.stdout)


@pytest.mark.parametrize("home,xdg", [("~", None), ("/nonexistent-home", "relative/cache")])
def test_no_home_puts_no_key_in_the_tree(in_tmp, monkeypatch, home, xdg):
    """Without a home (HOME unset and no passwd entry, as in a container run under an arbitrary user id,
    expanduser answers "~"), or with a relative XDG_CACHE_HOME, the cache's key went to a folder of that name
    in the checked tree. The run's entries are signed with a key of its own then."""
    from pipelint.engine import cache

    monkeypatch.setattr(os.path, "expanduser", lambda p: p.replace("~", home, 1))
    if xdg:
        monkeypatch.setenv("XDG_CACHE_HOME", xdg)
    else:
        monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    monkeypatch.delenv("PIPELINT_CACHE_KEY", raising=False)
    one, two = cache._secret(), cache._secret()
    assert len(one) == 64 and one != two and list(in_tmp.iterdir()) == []


def test_random_bytes_in_cache_entries_are_misses(in_tmp):
    _tree(in_tmp)
    first = pipelint_process("check", ".", "--isolated", cwd=in_tmp)
    rng = random.Random(7)
    for round_ in range(8):
        for path in (in_tmp / ".pipelint_cache").rglob("*"):
            if path.is_file() and path.name != ".gitignore":
                data = path.read_bytes()
                choice = round_ % 4
                if choice == 0:
                    data = bytes(rng.randrange(256) for _ in range(rng.randrange(1, 400)))
                elif choice == 1:
                    data = data[: rng.randrange(len(data) + 1)]  # truncated
                elif choice == 2:
                    data = b"[" * 200000
                else:
                    data = bytearray(data)
                    for _ in range(5):
                        if data:
                            data[rng.randrange(len(data))] = rng.randrange(256)
                    data = bytes(data)
                path.write_bytes(data)
        again = pipelint_process("check", ".", "--isolated", cwd=in_tmp)
        assert (again.returncode, again.stdout, again.stderr) == (first.returncode, first.stdout, first.stderr)


# --- every reader of outside data: random and truncated bytes --------------------------------------------
READERS = {
    "baseline": lambda tmp, path: ("check", ".harness", "--isolated", "--baseline", path),
    "lockfile": lambda tmp, path: ("pin", ".harness", "--isolated", "--offline", "--lockfile", path),
    "config": lambda tmp, path: ("check", ".harness", "--config", path),
}


@pytest.mark.parametrize("reader", sorted(READERS))
def test_random_bytes_to_every_reader(in_tmp, reader):
    _tree(in_tmp)
    rng = random.Random(reader)
    valid = {
        "baseline": b'{"version": 1, "tool": "pipelint", "findings": [{"fingerprint": "x"}]}',
        "lockfile": b'{"version": 1, "images": {"docker.io/library/alpine:latest": {"digest": "sha256:'
                    + b"a" * 64 + b'"}}}',
        "config": b'[rules.IMG001]\nseverity = "warning"\n',
    }[reader]
    cases = [valid[:n] for n in range(1, len(valid), max(1, len(valid) // 12))]
    cases += [bytes(rng.randrange(256) for _ in range(rng.randrange(1, 200))) for _ in range(10)]
    cases += [b"[" * 100000, b"{" * 50000, b"\x00" * 10, "é".encode("latin-1")]
    for data in cases:
        path = in_tmp / f"input.{reader}"
        path.write_bytes(data)
        result = pipelint(*READERS[reader](in_tmp, str(path)))
        if result.exit_code == 2:
            lines = result.stderr.strip().splitlines()
            assert len(lines) == 1 and lines[0].startswith("pipelint: error: "), (data[:40], result.stderr)
        else:
            assert result.exit_code in (0, 1), (data[:40], result.exit_code)


def test_a_fifo_as_baseline_or_lockfile_does_not_hang(in_tmp):
    _tree(in_tmp)
    fifo = in_tmp / "fifo"
    os.mkfifo(fifo)
    for args in (("check", ".harness", "--isolated", "--baseline", "fifo"),
                 ("pin", ".harness", "--isolated", "--offline", "--lockfile", "fifo")):
        result = pipelint_process(*args, cwd=in_tmp)
        assert result.returncode == 2
        assert result.stderr.decode().strip().endswith("not a regular file"), result.stderr


def test_lockfile_entries_must_be_digests(in_tmp):
    _tree(in_tmp)
    for bad in ('<+secrets.getValue(\\"x\\")>', "not-a-digest", "sha256:" + "A" * 64, "sha256:" + "a" * 63):
        (in_tmp / "pipelint.lock").write_text(
            '{"version": 1, "images": {"docker.io/library/alpine:latest": {"digest": "' + bad + '"}}}')
        result = pipelint_process("pin", ".harness", "--isolated", "--offline", "--allow-latest", cwd=in_tmp)
        assert result.returncode == 2
        assert "is not a digest" in result.stderr.decode()
        assert "@" not in (in_tmp / ".harness" / "p0.yaml").read_text()


def test_an_exception_in_a_rule_is_one_line_and_exit_2(in_tmp, monkeypatch):
    from pipelint.rules import img001_untagged_image as img001

    _tree(in_tmp)
    (in_tmp / ".harness" / "c.yaml").write_text(
        "connector:\n  identifier: x\n  type: DockerRegistry\n  spec:\n    dockerRegistryUrl: https://app.harness.io/registry\n")

    def boom(self, doc):
        raise ZeroDivisionError("the rule's own bug")
        yield

    monkeypatch.setattr(img001.UntaggedImage, "check", boom)
    result = pipelint("check", ".harness/p0.yaml", ".harness/c.yaml", "--isolated", "--exit-zero")
    assert result.exit_code == 2  # not 1, and --exit-zero does not hide it
    assert result.stderr == "".join(
        f"pipelint: internal error in IMG001 on .harness/{name}.yaml:1:1: ZeroDivisionError: the rule's own bug; "
        "please report it\n" for name in ("p0", "c"))
    assert ".harness/c.yaml:5:24: error REG001" in result.stdout  # the other rules and files went on


# --- writes: symlinks, owners, hard links, leftovers ----------------------------------------------------
CONNECTOR = ("connector:\n  identifier: harnessImage\n  type: DockerRegistry\n  spec:\n"
             "    dockerRegistryUrl: https://app.harness.io/registry\n    providerType: Other\n"
             "    auth:\n      type: Anonymous\n    executeOnDelegate: false\n")


def test_a_walk_does_not_follow_symlinks_out_of_the_tree(tmp_path, monkeypatch):
    outside = tmp_path / "outside.yaml"
    outside.write_text(CONNECTOR)
    repo = tmp_path / "repo"
    (repo / ".harness").mkdir(parents=True)
    (repo / ".harness" / "evil.yaml").symlink_to(outside)
    (repo / ".harness" / "real.yaml").write_text(CONNECTOR)
    (repo / ".harness" / "twin.yaml").symlink_to(repo / ".harness" / "real.yaml")  # inside: checked once
    monkeypatch.chdir(repo)
    result = pipelint("fix", ".harness", "--isolated")
    assert outside.read_text() == CONNECTOR  # never rewritten
    assert result.stderr == "pipelint: warning: .harness/evil.yaml: skipped: a symlink to a file outside .harness\n"
    assert "public.ecr.aws/harness" in (repo / ".harness" / "real.yaml").read_text()
    assert (repo / ".harness" / "twin.yaml").is_symlink()
    assert "Fixed 1 problem in 1 file." in result.stdout  # the twin is the same file: not fixed twice


def test_a_symlink_named_on_the_command_line_is_written_only_inside_the_project(tmp_path, monkeypatch):
    outside = tmp_path / "outside.yaml"
    outside.write_text(CONNECTOR)
    repo = tmp_path / "repo"
    repo.mkdir()
    (repo / "link.yaml").symlink_to(outside)
    monkeypatch.chdir(repo)
    for command in ("check", "fix"):  # neither read nor written (pre-commit names files one by one)
        result = pipelint(command, "link.yaml", "--isolated")
        assert result.exit_code == 0 and outside.read_text() == CONNECTOR
        assert result.stderr == (f"pipelint: warning: link.yaml: skipped: a symlink to a file outside the checked "
                                 f"tree ({repo.resolve()})\n")
    inside = repo / "target.yaml"
    inside.write_text(CONNECTOR)
    (repo / "inner.yaml").symlink_to(inside)
    assert pipelint("fix", "inner.yaml", "--isolated").exit_code == 0  # fixed through the link, nothing left
    assert "public.ecr.aws/harness" in inside.read_text() and (repo / "inner.yaml").is_symlink()


@pytest.mark.skipif(os.geteuid() != 0, reason="changing a file's owner needs root")
def test_fix_keeps_owner_group_and_mode(in_tmp):
    path = in_tmp / "c.yaml"
    path.write_text(CONNECTOR)
    os.chown(path, 65534, 65534)
    os.chmod(path, 0o640)
    pipelint("fix", "c.yaml", "--isolated")
    st = os.stat(path)
    assert "public.ecr.aws/harness" in path.read_text()
    assert (st.st_uid, st.st_gid, st.st_mode & 0o777) == (65534, 65534, 0o640)


def test_a_file_with_two_hard_links_stays_one_file(in_tmp):
    path = in_tmp / "c.yaml"
    path.write_text(CONNECTOR)
    os.link(path, in_tmp / "other-name.yaml")
    pipelint("fix", "c.yaml", "--isolated")
    assert os.stat(path).st_ino == os.stat(in_tmp / "other-name.yaml").st_ino
    assert (in_tmp / "other-name.yaml").read_text() == path.read_text() != CONNECTOR


def test_the_next_fix_removes_what_a_killed_one_left(in_tmp):
    path = in_tmp / "c.yaml"
    path.write_text(CONNECTOR)
    stale = in_tmp / ".c.yaml.abc123.pipelint-tmp"
    fresh = in_tmp / ".c.yaml.def456.pipelint-tmp"  # maybe another run's, being written now: kept
    other = in_tmp / ".notes.txt.pipelint-tmp.bak"  # not ours
    for p in (stale, fresh, other):
        p.write_text("partial")
    an_hour_ago = time.time() - 3600
    os.utime(stale, (an_hour_ago, an_hour_ago))
    pipelint("fix", "c.yaml", "--isolated")
    assert not stale.exists() and fresh.exists() and other.exists()


def _many(root, n: int) -> list:
    """n files holding b"old\n", and write_all's items turning each into b"new N\n" (made when written)."""
    items = []
    for i in range(n):
        path = root / f"p{i:03}.yaml"
        path.write_bytes(b"old\n")
        items.append((str(path), b"old\n", lambda data=b"new %d\n" % i: data))
    return items


def test_many_files_are_written_in_threads_each_outcome_with_its_file(tmp_path, monkeypatch):
    from pipelint.text import files

    root = tmp_path / "repo"
    root.mkdir()
    items = _many(root, 3 * files.THREADED_WRITES_FROM)
    os.chmod(items[7][0], 0o444)  # read-only: OSError
    outside = tmp_path / "outside.yaml"
    outside.write_bytes(b"old\n")
    os.unlink(items[11][0])
    os.symlink(outside, items[11][0])  # leads out of the tree: refused
    edited = items[23][0]  # saved by a person meanwhile: ChangedMeanwhile

    def before_replace(path):
        if path == edited:
            with open(path, "ab") as fh:
                fh.write(b"mine\n")

    monkeypatch.setattr(files, "_before_replace", before_replace)
    boundary = files.Boundary()
    boundary.add(str(root))
    outcome = files.write_all(items, boundary)
    assert isinstance(outcome[7], PermissionError)
    assert isinstance(outcome[11], files.Refused) and "outside the checked tree" in str(outcome[11])
    assert isinstance(outcome[23], files.ChangedMeanwhile)
    assert [i for i, o in enumerate(outcome) if o is not None] == [7, 11, 23]
    assert outside.read_bytes() == b"old\n" and Path(edited).read_bytes() == b"old\nmine\n"
    for i, (path, _, new) in enumerate(items):
        if i not in (7, 11, 23):
            assert Path(path).read_bytes() == new(), path
    assert not [p for p in os.listdir(root) if p.endswith(files.TMP_SUFFIX)]


def test_an_interrupt_while_threads_write_finishes_the_files_begun_and_begins_no_other(tmp_path, monkeypatch):
    import signal

    from pipelint.text import files

    items = _many(tmp_path, 200)
    main = threading.main_thread().ident
    calls: list[str] = []
    count = threading.Lock()
    handled = threading.Event()  # the main thread has the ^C

    def on_sigint(signum, frame):
        handled.set()
        raise KeyboardInterrupt

    def before_replace(path):
        with count:
            calls.append(path)
            n = len(calls)
        if n == 5:  # ^C while four threads are at work
            signal.pthread_kill(main, signal.SIGINT)
        if n >= 5:  # a file begun before the main thread has the ^C (however slow it is to get it) is finished
            assert handled.wait(30)

    monkeypatch.setattr(files, "_before_replace", before_replace)
    previous = signal.signal(signal.SIGINT, on_sigint)
    try:
        with pytest.raises(KeyboardInterrupt):
            files.write_all(items, None)
    finally:
        signal.signal(signal.SIGINT, previous)
    contents = [Path(path).read_bytes() for path, _, _ in items]
    assert all(c in (b"old\n", new()) for c, (_, _, new) in zip(contents, items, strict=True))  # whole files only
    written = sum(c != b"old\n" for c in contents)
    assert 5 <= written == len(calls) <= 5 + files.WRITE_THREADS  # those begun were finished; no other begun
    assert not [p for p in os.listdir(tmp_path) if p.endswith(files.TMP_SUFFIX)]


def test_an_interrupt_just_after_a_thread_ended_still_waits_for_the_others(tmp_path, monkeypatch):
    """A signal whose handler ran right after the main thread took an ended thread's token, before it counted
    that thread: it then waited for a token that never came (a fix that SIGTERM could not end, seen under load).
    Here the first token taken is followed by a KeyboardInterrupt, as that signal's would be."""
    import queue

    from pipelint.text import files

    items = _many(tmp_path, 200)
    stuck: list[bool] = []

    class Late(queue.SimpleQueue):
        interrupted = False

        def get(self, block=True, timeout=None):
            try:
                token = super().get(timeout=10)
            except queue.Empty:  # no thread is left to wake this one: it would have waited forever
                stuck.append(True)
                return None
            if not Late.interrupted:
                Late.interrupted = True
                raise KeyboardInterrupt
            return token

    monkeypatch.setattr(queue, "SimpleQueue", Late)
    with pytest.raises(KeyboardInterrupt):
        files.write_all(items, None)
    assert not stuck, "waited for a thread that had ended"
    contents = [Path(path).read_bytes() for path, _, _ in items]
    assert all(c in (b"old\n", new()) for c, (_, _, new) in zip(contents, items, strict=True))
    assert not [p for p in os.listdir(tmp_path) if p.endswith(files.TMP_SUFFIX)]


_INTERRUPT_AT_LINE = TRACER + """
from pathlib import Path
from pipelint.text import files

where, line, root = sys.argv[1], int(sys.argv[2]), Path(sys.argv[3])
items = []
for i in range(100):
    path = root / f"p{i:03}.yaml"
    path.write_bytes(b"old\\n")
    items.append((str(path), b"old\\n", lambda data=b"new %d\\n" % i: data))
interrupt_at([files.write_all, files._write_each], where, line, signal.SIGINT, signal.default_int_handler, KeyboardInterrupt)
try:
    files.write_all(items, None)
    print("done", fired)
except KeyboardInterrupt:
    print("interrupted", fired)
"""


@pytest.mark.slow
def test_an_interrupt_on_any_line_of_write_all_ends_it_with_whole_files(tmp_path):
    """^C (or SIGTERM: raised the same way) at each line of write_all's own code where a signal can land, one
    line per run: the run ends (the interrupt raised, or the work already done), every file is whole, no
    temporary file is left. A signal between taking an ended thread's token and counting it once left the run
    waiting forever; this finds any such line, not only that one."""
    import sys
    from concurrent.futures import ThreadPoolExecutor

    from pipelint.text import files

    lines = lines_of([files.write_all, files._write_each], nested=False)  # its threads' code is not where a signal lands

    def run(target: tuple[str, int]):
        where, line = target
        root = tmp_path / str(line)
        root.mkdir()
        try:
            proc = subprocess.run([sys.executable, "-c", _INTERRUPT_AT_LINE, where, str(line), str(root)],
                                  capture_output=True, text=True, timeout=60)
        except subprocess.TimeoutExpired:
            return line, "hung", []
        contents = [p.read_bytes() for p in sorted(root.iterdir())]
        return line, proc.stdout.strip() or proc.stderr[-300:], contents

    with ThreadPoolExecutor(4) as pool:
        outcomes = list(pool.map(run, lines))
    fired = [line for line, out, _ in outcomes if out.startswith("interrupted")]
    assert len(fired) >= 5, outcomes  # the test reaches the lines it means to
    for line, out, contents in outcomes:
        assert out.startswith(("interrupted", "done")), (line, out)
        assert len(contents) == 100 and all(c == b"old\n" or c.startswith(b"new ") for c in contents), line


@pytest.mark.parametrize("length", [232, 233, 255])
def test_a_file_with_a_name_near_the_file_systems_limit_is_written(tmp_path, length):
    """A temporary file's name holds its file's name, and a dot, a random part and `.pipelint-tmp` beside it: a name
    of 233 bytes or more made `fix` fail ('File name too long'). Such a name's temporary files now hold its start
    and a digest, and what a killed run left of them is still found and removed."""
    import time

    from pipelint.text import files

    path = tmp_path / ("é" * 10 + "p" * (length - 25) + ".yaml")  # é: two bytes, and a cut must not split one
    assert len(os.fsencode(path.name)) == length
    path.write_bytes(b"old\n")
    left = tmp_path / f".{files._stem(path.name)}.abcd1234{files.TMP_SUFFIX}"  # as a killed run leaves it
    left.write_bytes(b"half")
    os.utime(left, (time.time() - 3600, time.time() - 3600))
    files._stale.clear()
    files.write_atomic(str(path), b"new\n")
    assert path.read_bytes() == b"new\n" and sorted(p.name for p in tmp_path.iterdir()) == [path.name]


def test_one_file_under_two_names_is_fixed_once(in_tmp):
    """Hard links: `fix` wrote the file under its first name, then found it "changed while fixing" under its
    second (exit 2, though the file was fixed). It is written once now, and a second name that would get other
    bytes is refused, not written over the first's."""
    from pipelint.text import files

    (in_tmp / ".harness").mkdir()
    a, b = in_tmp / ".harness" / "a.yaml", in_tmp / ".harness" / "b.yaml"
    a.write_text("connector:\n  identifier: harnessImage\n  type: DockerRegistry\n  spec:\n"
                 "    dockerRegistryUrl: https://app.harness.io/registry  # kept\n    providerType: Other\n"
                 "    auth:\n      type: Anonymous\n")
    os.link(a, b)
    result = pipelint_process("fix", ".", "--isolated", cwd=in_tmp)
    assert (result.returncode, result.stderr) == (0, b""), result.stderr
    assert "https://public.ecr.aws/harness  # kept" in a.read_text() and os.path.samefile(a, b)
    old = a.read_bytes()
    outcome = files.write_all([(str(a), old, lambda: b"one\n"), (str(b), old, lambda: b"two\n")])
    assert outcome[0] is None and isinstance(outcome[1], files.Refused) and a.read_bytes() == b"one\n"
    assert str(outcome[1]) == f"not written: the same file as {a} (a hard link), whose fixes differ"


def test_a_bug_in_a_writing_thread_is_raised_after_they_stop(tmp_path, monkeypatch):
    from pipelint.text import files

    items = _many(tmp_path, 100)
    real = files.write_if_unchanged

    def buggy(path, original, data):
        if path.endswith("p042.yaml"):
            raise ZeroDivisionError("a bug")
        real(path, original, data)

    monkeypatch.setattr(files, "write_if_unchanged", buggy)
    with pytest.raises(ZeroDivisionError):
        files.write_all(items, None)
    assert not [p for p in os.listdir(tmp_path) if p.endswith(files.TMP_SUFFIX)]


def test_check_stdin_and_a_folder_with_the_cache(in_tmp):
    """`check - DIR` once checked nothing in DIR when the cache was on."""
    _tree(in_tmp)
    cached = pipelint_process("check", "-", ".harness", "--isolated", cwd=in_tmp, input=b"a: 1\n")
    fresh = pipelint_process("check", "-", ".harness", "--isolated", "--no-cache", cwd=in_tmp, input=b"a: 1\n")
    assert cached.returncode == fresh.returncode == 1
    assert cached.stdout == fresh.stdout and b"IMG001" in cached.stdout


def test_config_prefix_in_a_plain_toml_says_what_to_do(in_tmp):
    (in_tmp / "x.toml").write_text('[tool.pipelint]\nselect = ["IMG"]\n')
    result = pipelint("check", ".", "--config", "x.toml")
    assert result.exit_code == 2
    assert result.stderr == ("pipelint: error: x.toml: unknown key 'tool': only pyproject.toml takes the "
                             "[tool.pipelint] prefix; in x.toml write the keys without it ([rules.CON001], not "
                             "[tool.pipelint.rules.CON001])\n")


# a value that would drive a terminal (clear the screen, retitle the window), forge a finding line of its own,
# and reverse the text around it; YAML's double quotes write them all as escapes
DRIVING = r"\e[2J\e]0;owned\a\n.harness/forged.yaml:1:1: error REG001 forged\u202e"
CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")


def test_values_and_file_names_never_drive_the_terminal(in_tmp):
    (in_tmp / ".harness").mkdir()
    name = ".harness/a\x1b[31mb.yaml"
    (in_tmp / name).write_text(
        "pipeline:\n  identifier: p\n  stages:\n    - stage:\n        identifier: b\n        type: CI\n"
        "        spec:\n          infrastructure: {type: KubernetesDirect, spec: {connectorRef: k, namespace: n}}\n"
        "          execution:\n            steps:\n              - step:\n                  type: Run\n"
        "                  identifier: r\n"
        f"                  spec: {{image: \"app.harness.io/registry/x{DRIVING}:1\"}}\n")
    for style in ("concise", "full"):
        result = pipelint("check", ".", "--output-format", style, "--no-cache")
        assert result.exit_code == 1
        assert not CONTROL.search(result.stdout.replace("\n", "")), repr(result.stdout)
        headlines = [line for line in result.stdout.splitlines() if re.match(r"\S+:\d+:\d+: ", line)]
        # CON001, REG001 and IMG006 (control characters are no image reference), none forged
        assert len(headlines) == 3 and not any("forged.yaml:1:1" in line.split(": ")[0] for line in headlines)
        assert all(line.startswith(".harness/a\u241b[31mb.yaml:") for line in headlines), headlines
    github = pipelint("check", ".", "--output-format", "github", "--no-cache").stdout
    assert not CONTROL.search(github.replace("\n", "")) and github.count("\n") == 3, repr(github)
    # machine formats keep the real path, so tools can open the file
    data = pipelint("check", ".", "--format", "json", "--no-cache").json()
    assert {f["path"] for f in data["findings"]} == {name}
    shown = pipelint("check", ".", "--show-files").stdout
    assert shown == ".harness/a\u241b[31mb.yaml\n"
    missing = pipelint("check", "gone\x1b]0;x\x07.yaml")
    assert missing.exit_code == 2 and not CONTROL.search(missing.stderr.rstrip("\n")), repr(missing.stderr)
    # the diff names the file as git does (quoted, octal escapes), and git applies it
    diff = pipelint("fix", ".", "--diff").stdout
    assert diff.startswith('diff --git "a/.harness/a\\033[31mb.yaml" "b/.harness/a\\033[31mb.yaml"\n'), diff
    assert not CONTROL.search(diff.replace("\n", "")), repr(diff)
    (in_tmp / "fix.patch").write_text(diff)
    subprocess.run(["git", "init", "-q"], check=True)
    subprocess.run(["git", "apply", "fix.patch"], check=True, capture_output=True)
    assert pipelint("check", ".", "--select", "REG001", "--no-cache").exit_code == 0


def test_a_file_name_that_is_not_utf8_is_named_in_every_output(in_tmp):
    """Git takes any bytes as a file name, and Python keeps the ones that are not UTF-8 as lone surrogates, which no
    UTF-8 output holds: JSON, SARIF and GitLab reports, the cache and a baseline ended in an internal error
    (exit 2, no report), `fix --diff` too. Every output now names the file: JSON exactly (`\\udcff`, which
    json.loads turns back into the name), SARIF as the URI of its bytes, git's diff header in octal, and text,
    JUnit and CSV with U+FFFD; each is valid UTF-8 (and XML, JSON) with no control character."""
    (in_tmp / ".harness").mkdir()
    body = ("pipeline:\n  identifier: p\n  stages:\n    - stage:\n        identifier: b\n        type: CI\n"
            "        spec:\n          execution:\n            steps:\n              - step:\n"
            "                  type: Run\n                  identifier: r\n"
            "                  spec: {image: app.harness.io/registry/harness/ci-addon:1.16.4}\n")
    raw = b".harness/\xff\xfe \x1b[2Jbad.yaml"
    name = os.fsdecode(raw)
    with open(raw, "w") as fh:
        fh.write(body)
    for i in range(10):  # enough files for the cache and the pool
        (in_tmp / ".harness" / f"p{i}.yaml").write_text(body)

    def run(*args: str) -> str:
        result = pipelint_process(*args, "--isolated", cwd=in_tmp)
        assert result.returncode in (0, 1), result.stderr
        text = result.stdout.decode("utf-8")  # strict: valid UTF-8
        assert not CONTROL.search(text.replace("\n", "")), repr(text[:300])
        return text

    for style in ("concise", "full"):
        assert "\n.harness/\ufffd\ufffd \u241b[2Jbad.yaml:13:" in run("check", ".", "--no-cache", "--output-format", style)
    assert run("check", ".", "--no-cache", "--output-format", "github").count("file=.harness/\ufffd\ufffd \u241b") == 1
    for _ in range(2):  # the cache stores, then answers
        data = json.loads(run("check", ".", "--format", "json"))
        assert name in {f["path"] for f in data["findings"]} and len(data["findings"]) == 11
    sarif = json.loads(run("check", ".", "--no-cache", "--format", "sarif"))
    uris = {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in sarif["runs"][0]["results"]}
    assert ".harness/%FF%FE%20%1B%5B2Jbad.yaml" in uris
    gitlab = json.loads(run("check", ".", "--no-cache", "--format", "gitlab"))
    assert name in {i["location"]["path"] for i in gitlab} and len({i["fingerprint"] for i in gitlab}) == 11
    junit = ET.fromstring(run("check", ".", "--no-cache", "--format", "junit"))
    assert ".harness/\ufffd\ufffd \u241b[2Jbad.yaml" in {c.get("file") for c in junit.iter("testcase")}
    run("check", ".", "--write-baseline", "baseline.json")
    assert "All checks passed." in run("check", ".", "--baseline", "baseline.json")
    assert "\ufffd\ufffd \u241b[2Jbad.yaml" in run("images", ".", "--format", "csv")
    assert name in json.loads(run("images", ".", "--format", "json"))["images"][0]["files"]
    assert "\ufffd\ufffd \u241b[2Jbad.<wbr>yaml" in run("report", ".", "--format", "html")
    diff = pipelint_process("fix", ".", "--diff", "--isolated", cwd=in_tmp).stdout.decode("utf-8")
    assert 'diff --git "a/.harness/\\377\\376 \\033[2Jbad.yaml" "b/.harness/\\377\\376 \\033[2Jbad.yaml"' in diff
    (in_tmp / "fix.patch").write_text(diff)
    subprocess.run(["git", "init", "-q"], cwd=in_tmp, check=True)
    subprocess.run(["git", "apply", "fix.patch"], cwd=in_tmp, check=True, capture_output=True)
    with open(raw) as fh:
        assert "public.ecr.aws/harness/ci-addon:1.16.4" in fh.read()


@pytest.mark.parametrize("breaks", ["yaml-only", "cr"])
def test_findings_are_placed_on_the_lines_editors_show(in_tmp, breaks):
    """libyaml counts NEL, U+2028 and U+2029 as line breaks (YAML 1.1), even inside a quoted value; editors, the LSP,
    SARIF viewers and CI logs do not. A finding after one was reported lines below its place, and a parse error
    too. In a file of lone `\\r` line ends, a quoted value's finding was on line 1. Each is where the file has it."""
    (in_tmp / ".harness").mkdir()
    image = "app.harness.io/registry/harness/ci-addon:1.16.4"
    lines = ["pipeline:", '  name: "a\u2028b\u0085c\u2029d"' if breaks == "yaml-only" else "  name: n",
             "  identifier: p", "  stages:", "    - stage:", "        identifier: s", "        type: CI",
             "        spec:", "          execution:", "            steps:", "              - step:",
             "                  identifier: r", "                  type: Run", "                  spec:",
             f'                    image: "{image}"', "              - step:", "                  identifier: q",
             "                  type: Run", "                  spec:",
             f"                    image: {image}  # pipelint: ignore[REG001]", ""]
    newline = "\r" if breaks == "cr" else "\n"
    (in_tmp / ".harness" / "p.yaml").write_bytes(newline.join(lines).encode())
    data = pipelint("check", ".", "--isolated", "--no-cache", "--format", "json").json()
    assert [(f["code"], f["line"], f["column"], f["end_line"]) for f in data["findings"]] == [("REG001", 15, 28, 15)]
    lines[3] = "  stages: [x"  # a parse error on line 4
    (in_tmp / ".harness" / "p.yaml").write_bytes(newline.join(lines).encode())
    data = pipelint("check", ".", "--isolated", "--no-cache", "--format", "json").json()
    assert [(f["code"], f["line"]) for f in data["findings"]] == [("YML001", 5)], data["findings"]


def test_a_hostile_summary_is_shown_not_obeyed(in_tmp):
    """Summaries come from shards, and their errors from remotes: names and reasons are text, never markup
    or terminal commands, in the Markdown and the HTML of the merge."""
    evil = {"pipelint-summary": 1, "repositories": [
        {"name": "<script>alert(1)</script>", "harness": True, "before": {"<img src=x onerror=alert(1)>": 3},
         "after": {}, "pushed": False, "error": "remote: \x1b[2Jgone\n| forged | row |\u202e"}]}
    (in_tmp / "evil.json").write_text(json.dumps(evil))
    md = pipelint("report", "--merge", "evil.json", "--format", "md")
    assert md.exit_code == 0
    assert not re.search(r"(?<!\\)<", md.stdout) and "\\<script>" in md.stdout  # every < escaped
    assert not CONTROL.search(md.stdout.replace("\n", "")), repr(md.stdout)
    assert "\n| forged" not in md.stdout  # the reason stays in its cell
    page = pipelint("report", "--merge", "evil.json", "--format", "html").stdout
    assert "<script>" not in page and "<img src=x" not in page and "&lt;script&gt;alert(1)" in page
    assert "\x1b" not in page and "\u202e" not in page


def test_a_custom_rules_description_is_shown_not_obeyed(in_tmp):
    (in_tmp / ".pipelint.toml").write_text(
        '[[custom-rules]]\ncode = "ORG001"\nname = "x-rule"\nmessage = "m"\ngiven = "@images"\n'
        'then = { function = "defined" }\ndescription = "evil \\u001b[2J here\\u202e"\n')
    doc = pipelint("rule", "ORG001")
    assert doc.exit_code == 0 and "evil \u241b[2J here\ufffd" in doc.stdout
    assert not CONTROL.search(doc.stdout.replace("\n", ""))


def test_standard_input_over_max_file_size_is_not_parsed(in_tmp):
    (in_tmp / ".pipelint.toml").write_text("max-file-size = 0.001\n")  # megabytes: 1,000 bytes
    big = "pipeline:\n  identifier: p\n  stages: []\n" + "# " + "x" * 2000 + "\n"
    result = pipelint("check", "-", "--stdin-filename", "p.yaml", input=big)
    assert result.exit_code == 2
    assert result.stderr == "pipelint: error: p.yaml: not checked: more than max-file-size (0.001 MB)\n"
    small = pipelint("check", "-", "--stdin-filename", "p.yaml", input=big[:40])
    assert small.exit_code == 0, small.stdout + small.stderr
