"""Discovery: the paths named -> the files a run reads (walks, excludes, symlinks, the files Terraform's file() and
templatefile() name, the boundary of the checked tree), and reading them."""

from __future__ import annotations

import os
import sys

from pipelint.engine.config import DEFAULT_EXCLUDED_DIRS
from pipelint.engine.state import STDIN, State
from pipelint.engine.unit import references
from pipelint.text import files as filelib
from pipelint.text import source as sourcelib

# .tf: Harness YAML in the provider's heredocs (pipelint.embed.terraform); .tpl: templatefile() sources
YAML_SUFFIXES = (".yaml", ".yml", ".tf", ".tpl")


class Discovery(State):
    """The engine's discovery (a part of engine.core.Engine)."""

    def discover(self, paths: list[str]) -> tuple[list[str], list[str]]:
        """(files to check, missing paths). `-` stands for standard input. Neither a directory walk nor a file
        named on the command line follows a symlink that leads outside the checked tree (files.Boundary: it is
        skipped, and said once: `self.skipped`); a walk does not check a file twice through a link."""
        files: list[str] = []
        missing: list[str] = []
        self.skipped = []
        self.excluded = []
        self.boundary = filelib.Boundary()
        for given in paths:
            self.boundary.add(given)
            if given == STDIN:
                files.append(STDIN)
            elif os.path.isdir(given):
                files.extend(self._walk(given))
            elif os.path.lexists(given):
                if self.force_exclude and self.layer(given).settings.is_excluded(given):
                    self.excluded.append(os.path.normpath(given))
                elif os.path.islink(given) and os.path.exists(given) and not self.boundary.holds(given, given):
                    self.skipped.append(f"{os.path.normpath(given)}: skipped: a symlink to a file outside the "
                                        f"checked tree ({self.boundary.of(given)})")
                else:
                    files.append(os.path.normpath(given))
            else:
                missing.append(given)
        files = list(dict.fromkeys(files))
        return files + self._named_by_terraform(files), missing

    def _named_by_terraform(self, files: list[str]) -> list[str]:
        """The files that a Harness resource's file()/templatefile() reads, which the walk did not bring (and
        remembers them all as Harness YAML: `self.named`). A path that resolves outside the `.tf` file's tree
        (`..`, an absolute path, a symlink) is neither read nor written, and said once (`self.skipped`)."""
        extra: list[str] = []
        known = {os.path.abspath(f) for f in files}
        for path in files:
            if not path.endswith(".tf"):  # the only container that names other files
                continue
            try:
                src = sourcelib.read(path, self.layer(path).settings.max_file_bytes)
            except sourcelib.ReadError:
                continue  # said when the file itself is checked
            for ref in references(src):
                target, address, line, column, written = ref
                if target is None:  # the pipeline written as HCL values: said, not passed over
                    self.skipped.append(f"{path}:{line}:{column}: {address}: not checked: its YAML is {written}, "
                                        "HCL values pipelint does not read (a heredoc or a file() it does)")
                    continue
                if not self.boundary.holds(path, target):
                    self.skipped.append(f"{path}:{line}:{column}: {address}: not read: {written} is outside the "
                                        f"checked tree ({self.boundary.of(path)})")
                    continue
                if not os.path.isfile(target):  # Terraform would stop there; the pipeline in it is not checked
                    what = "is not a file" if os.path.lexists(target) else "does not exist"
                    self.skipped.append(f"{path}:{line}:{column}: {address}: not read: {written} {what}")
                    continue
                self.named[os.path.abspath(target)] = f"{address}"
                if os.path.abspath(target) not in known:
                    known.add(os.path.abspath(target))
                    extra.append(target)
        return extra

    def _walk(self, top: str) -> list[str]:
        out: list[str] = []
        links: list[tuple[str, str]] = []
        real_top = os.path.realpath(top)
        for dirpath, dirnames, filenames in os.walk(top):  # symlinked folders are not entered
            kept = []
            here = self.layer(dirpath, folder=True).settings
            for d in sorted(dirnames):
                if d in DEFAULT_EXCLUDED_DIRS:
                    continue
                if here.is_excluded(os.path.join(dirpath, d)):
                    self.excluded.append(os.path.normpath(os.path.join(dirpath, d)) + os.sep)
                else:
                    kept.append(d)
            dirnames[:] = kept
            for name in sorted(filenames):
                if name.endswith(YAML_SUFFIXES):
                    path = os.path.normpath(os.path.join(dirpath, name))
                    if here.is_excluded(path):
                        self.excluded.append(path)
                        continue
                    if os.path.islink(path):
                        links.append((path, os.path.realpath(path)))
                    out.append(path)
        if links:
            reals = {os.path.realpath(p) for p in out if not os.path.islink(p)}
            drop = set()
            for path, real in links:
                if not filelib.inside(real, real_top):
                    self.skipped.append(f"{path}: skipped: a symlink to a file outside {top}")
                    drop.add(path)
                elif real in reals:
                    drop.add(path)  # its target is checked under its own name
            out = [p for p in out if p not in drop]
        return out

    def read(self, files: list[str], stdin_filename: str | None = None) -> tuple[list[sourcelib.Source], list[str]]:
        sources: list[sourcelib.Source] = []
        errors: list[str] = []
        for path in files:
            if path == STDIN:
                src = self._read_stdin(stdin_filename, errors)
                if src is not None:
                    sources.append(src)
                continue
            try:
                sources.append(sourcelib.read(path, self.layer(path).settings.max_file_bytes))
            except sourcelib.ReadError as exc:
                errors.append(f"{path}: {exc}")
        return sources, errors

    def _read_stdin(self, stdin_filename: str | None, errors: list[str]) -> sourcelib.Source | None:
        """Standard input, under the max-file-size of the file it stands for (else its error, in `errors`)."""
        name = stdin_filename or STDIN
        limit = self.layer(name).settings.max_file_bytes if stdin_filename else self.settings.max_file_bytes
        try:
            self.stdin_source = sourcelib.decode(name, sourcelib.read_stream(sys.stdin.buffer, limit))
        except sourcelib.ReadError as exc:
            errors.append(f"{name}: {exc}")
            return None
        return self.stdin_source
