"""Native modules found from the audit's pass (harness.core.answers.extensions)."""

from __future__ import annotations

from harness.core.answers import extensions, module_loaders
from harness.core.answers.extensions import Finder, Module

SITE = "/opt/venv/lib/python3.11/site-packages"
ELF_SO = bytes.fromhex("7f454c46020101000000000000000000") + (3).to_bytes(2, "little") + \
    (62).to_bytes(2, "little") + b"\0" * 44  # ELF64, ET_DYN, x86-64
ELF_EXEC = ELF_SO[:16] + (2).to_bytes(2, "little") + ELF_SO[18:]


def test_import_names_from_each_suffix() -> None:
    assert extensions.import_name(f"{SITE}/foo.cpython-311-x86_64-linux-gnu.so", SITE) == "foo"
    assert extensions.import_name(f"{SITE}/pkg/sub/_c.abi3.so", SITE) == "pkg.sub._c"
    assert extensions.import_name(f"{SITE}/bar.so", SITE) == "bar"
    # Libraries a wheel vendors: no import names them (they are loaded by the modules).
    assert extensions.import_name(f"{SITE}/numpy.libs/libopenblas64_p-r0-1a2b.3.21.so",
                              SITE) is None
    assert extensions.import_name(f"{SITE}/pkg/libfoo-1.2.so", SITE) is None
    assert extensions.import_name(f"{SITE}/pkg/libfoo.so.1", SITE) is None


def test_the_innermost_site_directory_is_the_root() -> None:
    assert extensions.site_root(f"{SITE}/a/b.so") == SITE
    assert extensions.site_root("/usr/lib/python3/dist-packages/numpy/core/x.so") == \
        "/usr/lib/python3/dist-packages"
    assert extensions.site_root("/usr/lib/x86_64-linux-gnu/libc.so.6") is None
    assert extensions.site_root("/srv/site-packages") is None  # the directory itself


def test_interpreters_venv_first_then_the_image_python() -> None:
    paths = {"/opt/venv/pyvenv.cfg", "/opt/venv/bin/python", "/usr/bin/python3.11",
             "/usr/bin/python3", "/usr/local/bin/python3.12"}
    assert extensions.interpreter(SITE, paths) == "/opt/venv/bin/python"
    assert extensions.interpreter("/usr/lib/python3/dist-packages", paths) == "/usr/bin/python3"
    assert extensions.interpreter("/usr/local/lib/python3.11/dist-packages", paths) == \
        "/usr/bin/python3.11"  # Debian's pip installs there for Debian's python3.11
    assert extensions.interpreter("/usr/local/lib/python3.12/site-packages", paths) == \
        "/usr/local/bin/python3.12"  # the python image's own
    assert extensions.interpreter("/usr/lib/python3.9/site-packages", paths) is None
    # A venv's modules are not imported by the image's python: without its own, none.
    assert extensions.interpreter("/srv/env/lib/python3.11/site-packages",
                              {"/srv/env/pyvenv.cfg", "/usr/bin/python3.11"}) is None


def test_modules_are_mapped_to_their_distribution() -> None:
    found = Finder()
    so = f"{SITE}/fast/_speed.cpython-311-x86_64-linux-gnu.so"
    for path, head in ((so, ELF_SO), (f"{SITE}/fast/tool.so", ELF_EXEC),
                       (f"{SITE}/fast/notelf.so", b"#!/bin/sh\n" + b"\0" * 64),
                       ("/usr/lib/x86_64-linux-gnu/libz.so", ELF_SO),
                       ("/usr/lib/python3/dist-packages/egg/_e.so", ELF_SO),
                       ("/usr/lib/python3/dist-packages/loose.so", ELF_SO)):
        found.elf(path, head)
    assert extensions.wanted(f"{SITE}/fast-2.0.1.dist-info/RECORD")
    assert not extensions.wanted("/srv/fast-2.0.1.dist-info/RECORD")
    assert not extensions.wanted(f"{SITE}/fast/RECORD")
    found.text(f"{SITE}/fast-2.0.1.dist-info/RECORD",
               b"fast/__init__.py,sha256=x,10\n"
               b"fast/_speed.cpython-311-x86_64-linux-gnu.so,sha256=y,99\n"
               b'"../../../bin/fast,odd",,\n')
    found.text("/usr/lib/python3/dist-packages/egg-1.24.2.egg-info/top_level.txt", b"egg\n")
    paths = {"/opt/venv/pyvenv.cfg", "/opt/venv/bin/python", "/usr/bin/python3"}
    assert found.modules(paths) == [
        Module(so, "fast._speed", SITE, "/opt/venv/bin/python", "fast", "2.0.1"),
        Module("/usr/lib/python3/dist-packages/egg/_e.so", "egg._e",
               "/usr/lib/python3/dist-packages", "/usr/bin/python3", "egg", "1.24.2"),
        Module("/usr/lib/python3/dist-packages/loose.so", "loose",
               "/usr/lib/python3/dist-packages", "/usr/bin/python3"),
    ]


def test_skip_by_name_prefix_or_distribution() -> None:
    mods = [Module("/a.so", "pkg._a", SITE, "/py", "pkg", "1"),
            Module("/b.so", "pkgx", SITE, "/py", "other", "1"),
            Module("/c.so", "gui.qt", SITE, "/py2", "gui", "1")]
    assert extensions.by_interpreter(mods, ["pkg"]) == {"/py": [mods[1]], "/py2": [mods[2]]}
    assert extensions.by_interpreter(mods, ["gui", "other"]) == {"/py": [mods[0]]}



def test_node_addons_are_mapped_to_the_nearest_package() -> None:
    found = Finder()
    mods = "/app/node_modules"
    addon = f"{mods}/bcrypt/lib/binding/napi-v3/bcrypt_lib.node"
    nested = f"{mods}/a/node_modules/b/build/Release/b.node"
    for path in (addon, nested, f"{mods}/x/readme.node", "/srv/plain.node"):
        found.elf(path, ELF_SO if "readme" not in path else b"# not ELF" + b"\0" * 64)
    assert extensions.wanted(f"{mods}/bcrypt/package.json")
    assert not extensions.wanted("/app/package.json")
    found.text(f"{mods}/bcrypt/package.json", b'{"name": "bcrypt", "version": "5.1.1"}')
    found.text(f"{mods}/bcrypt/lib/binding/package.json", b'{"private": true}')  # no name
    found.text(f"{mods}/a/node_modules/b/package.json", b'{"name": "b", "version": 3}')
    found.text(f"{mods}/a/package.json", b"[not, json")
    assert found.modules({"/usr/bin/node"}) == [
        Module(nested, "b/build/Release/b.node", f"{mods}/a/node_modules", "/usr/bin/node",
               "b", "", "node"),
        Module(addon, "bcrypt/lib/binding/napi-v3/bcrypt_lib.node", mods, "/usr/bin/node",
               "bcrypt", "5.1.1", "node"),
    ]
    assert found.modules(set()) == []  # no node in the image: nothing can load them
    [first, _] = found.modules({"/usr/bin/node"})
    assert module_loaders.command(first)[:2] == ["/usr/bin/node", "-e"]

