"""container-structure-test configs run against one platform's image, as CST's docker driver
runs them (``pkg/drivers/docker_driver.go``): each command test in a container of its own
(setup, the command, teardown in it, so one test's changes never reach another), files read
from a created, never started container through the engine's archive API, the metadata from
the image config. The judgement is CST's own, in :mod:`harness.core.declared.structure`.
"""

from __future__ import annotations

import contextlib
import posixpath
from dataclasses import replace
from pathlib import Path
from typing import Any

import docker
import docker.errors

from harness.containers.engine import CLIENT_ERRORS
from harness.containers.image_files import read_path, read_sized, stat_path, tar_stream
from harness.containers.probe_container import Emulation, ImageProbe, files_only
from harness.core.answers import observation as obs
from harness.core.answers.observation import Observation
from harness.core.declared import structure as cst
from harness.core.declared import structure_rules as rules
from harness.core.declared.usercheck import OUTPUT_CAP
from harness.core.failures.diagnosis import diagnose
from harness.core.failures.errors import HarnessError
from harness.core.outcomes import Kind, RunKind
from harness.core.platforms.table import Platform

LICENSE_LIMIT = 1 << 20  # bytes of a copyright file read: the blacklist's words come early


def observe(client: docker.DockerClient, image: str, platform: Platform,
            files: tuple[cst.StructureFile, ...], *, timeout: float = 60.0,
            log_path: Path | None = None, mode: RunKind | None = None,
            docker_host: str | None = None, emulation: Emulation | None = None
            ) -> list[Observation]:
    """One observation per test of every file: what it saw (judged by
    harness.core.judging.verdicts);
    a test this machine could not run is an error of its own, never the others'."""
    image_config = rules.ImageConfig.of(client.api.inspect_image(image)["Config"] or {})
    found = []
    with _Reader(client, image, platform) as reader:
        for sf in files:
            # driver.SetEnv commits globalEnvVars into the image every test then sees
            config = replace(image_config, env={**image_config.env, **{
                v.key: cst.go_expand(cst.fill(v.value, platform), image_config.env)
                for v in sf.global_env}})
            for test in sf.tests:
                source = sf.source(test)
                try:
                    if isinstance(test, cst.CommandTest):
                        seen = rules.Seen(test, _command(test, sf, config, platform, ImageProbe(
                            client, image, platform, timeout=timeout, log_path=log_path,
                            mode=mode, docker_host=docker_host, emulation=emulation,
                            append_log=True)), shown=sf.shown)
                    else:
                        seen = _files(test, config, platform, reader, sf.shown)
                except HarnessError as exc:
                    found.append(obs.failed(source, exc.message, exc.kind, exc.fix,
                                            exc.cause or None))
                    continue
                found.append(obs.answered(source, seen))
    return found


def _command(test: cst.CommandTest, sf: cst.StructureFile, config: rules.ImageConfig,
             platform: Platform, probe: ImageProbe) -> rules.CommandAnswer:
    """structure.go's RunCommandTests with docker_driver.go: global env, setup, the command
    (its arguments expanded with the image's env, as command.go does), teardown."""
    env = {v.key: config.env[v.key] for v in sf.global_env}
    env.update({v.key: cst.fill(v.value, platform) for v in test.env})

    def argv(cmd: tuple[str, ...]) -> list[str]:
        return [cst.go_expand(cst.fill(a, platform), config.env) for a in cmd]

    with probe:
        probe._log_line(f"# {sf.source(test)}")
        for step in test.setup:
            out = probe.run(argv(step), env=env, user=sf.user)
            if out.status != 0:
                return rules.CommandAnswer("", "", out.status, f"`{' '.join(step)}` exited "
                                           f"{out.status}: {rules.quote(out.text.strip())}")
        cmd = argv(test.command)
        out = probe.run(cmd, env=env, split=True, user=sf.user)
        if out.status != test.exit_code:  # QEMU's fault, where a second QEMU says so
            d = diagnose(probe.failure(cmd, out, test.exit_code, None, required=True))
            if d.kind is Kind.EMULATOR:
                raise HarnessError(d.message, d.fix, kind=d.kind, cause=d.cause)
        for step in test.teardown:  # structure.go logs a failed teardown; so does the probe log
            probe.run(argv(step), env=env, user=sf.user)
    return rules.CommandAnswer(out.text, out.stderr, out.status, dropped=out.dropped)


def _files(test: cst.Test, config: rules.ImageConfig, platform: Platform,
           reader: _Reader, shown: str) -> rules.Seen:
    """What a file, metadata or license test reads of the image."""
    if isinstance(test, cst.FileExistenceTest):
        # file_existence.go expands the image's env in the path; file_content.go does not
        path = cst.go_expand(cst.fill(test.path, platform), config.env)
        return rules.Seen(test, reader.stat(path), path, shown)
    if isinstance(test, cst.FileContentTest):
        path = cst.fill(test.path, platform)
        return rules.Seen(test, reader.content(path), path, shown)
    if isinstance(test, cst.MetadataTest):
        return rules.Seen(test, config, shown=shown)
    assert isinstance(test, cst.LicenseTest)
    packages = reader.debian_copyrights() if test.debian else {}
    named = {f: reader.text(cst.fill(f, platform), LICENSE_LIMIT) for f in test.files}
    return rules.Seen(test, rules.LicenseAnswer(named, packages), shown=shown)


class _Reader:
    """A created, never started container of the image, to read files from (made on first
    use, removed on exit)."""

    def __init__(self, client: docker.DockerClient, image: str, platform: Platform) -> None:
        self.client, self.image, self.platform = client, image, platform
        self._container: Any = None

    def __enter__(self) -> _Reader:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._container is not None:
            with contextlib.suppress(*CLIENT_ERRORS):
                self._container.remove(force=True)
            self._container = None

    @property
    def container(self) -> Any:
        if self._container is None:
            self._container = files_only(self.client, self.image, self.platform, "harness-cst")
        return self._container

    def stat(self, path: str) -> rules.FileAnswer:
        """docker_driver.go's StatFile: a file, directory, link or symlink's own header."""
        member = stat_path(self.container, path)
        if member is None or not (member.isfile() or member.isdir() or member.issym()
                                  or member.islnk()):
            return rules.FileAnswer(exists=False)
        return rules.FileAnswer(member.type.decode(), member.mode, member.uid, member.gid)

    def content(self, path: str) -> rules.FileAnswer:
        """docker_driver.go's ReadFile: symlinks followed, a directory refused."""
        member = stat_path(self.container, path)
        if member is not None and member.isdir():
            return rules.FileAnswer(error=f"Cannot read specified path: {path} is a directory, "
                                  "not a file")
        found = read_sized(self.container, path, OUTPUT_CAP)
        if found is None:
            return rules.FileAnswer(exists=False, error=f"File {path} not found in image")
        _path, data, size = found
        return rules.FileAnswer(content=data.decode(errors="replace"),
                              dropped=max(size - len(data), 0))

    def text(self, path: str, limit: int) -> str | None:
        found = read_path(self.container, path, limit)
        return None if found is None else found[1].decode(errors="replace")

    def debian_copyrights(self) -> dict[str, str | None]:
        """licenses.go with ReadDir: each directory under /usr/share/doc (a symlink to one is
        no directory), and its copyright file's text, or None where it has none."""
        found: dict[str, str | None] = {}
        try:
            stream, _stat = self.container.get_archive(cst.DEBIAN_DOCS)
        except docker.errors.NotFound:
            return found
        links: dict[str, str] = {}
        with tar_stream(stream) as tar:
            for member in tar:
                parts = member.name.split("/")
                if len(parts) == 2 and member.isdir():
                    found.setdefault(parts[1], None)
                elif len(parts) == 3 and parts[2] == "copyright":
                    if member.issym():
                        links[parts[1]] = member.linkname
                    elif member.isfile():
                        fh = tar.extractfile(member)
                        found[parts[1]] = fh.read(LICENSE_LIMIT).decode(errors="replace") \
                            if fh else ""
        for name, target in links.items():  # ReadFile follows a symlinked copyright file
            if name in found:
                path = posixpath.normpath(posixpath.join(cst.DEBIAN_DOCS, name, target))
                found[name] = self.text(path, LICENSE_LIMIT)
        return found

