"""Ruby C extensions found in gem homes (harness.core.answers.ruby_gems), and through the audit's
Finder (harness.core.answers.extensions)."""

from __future__ import annotations

from harness.core.answers import module_loaders, ruby_gems
from harness.core.answers.extensions import Finder, Module

HOME = "/var/lib/gems/3.1.0"
EXT = f"{HOME}/extensions/x86_64-linux/3.1.0/fastrb-1.0.0"
DEB = "/usr/lib/x86_64-linux-gnu/rubygems-integration/3.1.0"
ELF_SO = bytes.fromhex("7f454c46020101000000000000000000") + (3).to_bytes(2, "little") + \
    (62).to_bytes(2, "little") + b"\0" * 44  # ELF64, ET_DYN, x86-64
SPEC = b'# stub: fastrb 1.0.0 ruby lib\nGem::Specification.new do |s|\n' \
    b'  s.name = "fastrb".freeze\n  s.version = "1.0.0"\nend\n'


def test_a_gem_file_is_named_by_its_place_in_the_home() -> None:
    assert ruby_gems.gem_file(f"{EXT}/fastrb.so") == ruby_gems.GemFile(
        HOME, "fastrb-1.0.0", EXT, "fastrb", "3.1.0", True)
    assert ruby_gems.gem_file(f"{HOME}/gems/json-2.6.3/lib/json/ext/parser.so") == \
        ruby_gems.GemFile(HOME, "json-2.6.3", f"{HOME}/gems/json-2.6.3/lib",
                          "json/ext/parser", "3.1.0", False)
    protobuf = "/usr/local/bundle/gems/google-protobuf-3.25.0-x86_64-linux/lib/p.so"
    assert ruby_gems.gem_file(protobuf) == ruby_gems.GemFile(
        "/usr/local/bundle", "google-protobuf-3.25.0-x86_64-linux",
        "/usr/local/bundle/gems/google-protobuf-3.25.0-x86_64-linux/lib", "p", "", False)
    # A gem's build directory, a file not of a gem, a library not a .so: not taken.
    assert ruby_gems.gem_file(f"{HOME}/gems/fastrb-1.0.0/ext/fastrb/fastrb.so") is None
    assert ruby_gems.gem_file("/srv/gems/3.1.0/x.so") is None
    assert ruby_gems.gem_file(f"{EXT}/libfoo.so.1") is None


def test_a_gemspec_names_its_gem() -> None:
    assert ruby_gems.spec(SPEC) == ("fastrb", "1.0.0")
    assert ruby_gems.spec(b"\xff garbage") == ("", "")
    assert ruby_gems.wanted(f"{HOME}/specifications/fastrb-1.0.0.gemspec")
    assert not ruby_gems.wanted(f"{HOME}/gems/fastrb-1.0.0/fastrb.gemspec")


def test_the_ruby_of_the_home_s_prefix_first() -> None:
    rbenv = "/root/.rbenv/versions/3.2.2"
    paths = {"/usr/bin/ruby", "/usr/local/bin/ruby", f"{rbenv}/bin/ruby"}
    assert ruby_gems.ruby_for(f"{rbenv}/lib/ruby/gems/3.2.0", paths) == f"{rbenv}/bin/ruby"
    assert ruby_gems.ruby_for("/usr/local/bundle", paths) == "/usr/local/bin/ruby"
    assert ruby_gems.ruby_for(HOME, paths) == "/usr/bin/ruby"
    assert ruby_gems.ruby_for(HOME, {"/usr/local/bin/ruby"}) == "/usr/local/bin/ruby"
    assert ruby_gems.ruby_for(HOME, set()) is None


def _finder(files: dict[str, bytes]) -> Finder:
    found = Finder()
    for path, data in files.items():
        if path.endswith(".so"):
            found.elf(path, data)
        else:
            assert ruby_gems.wanted(path)
            found.text(path, data)
    return found


def test_gems_are_found_once_each_with_the_ruby_that_loads_them() -> None:
    """As `gem install` leaves them: the extension in extensions/ (the copy require loads),
    its twin in the gem's lib/, its build directory's; Debian's under rubygems-integration;
    a gem with no gemspec named by its directory; one for a Ruby ABI the image lacks left
    out, as is a home with no gemspec at all."""
    bcrypt = f"{DEB}/extensions/x86_64-linux/3.1.0/bcrypt-3.1.18/bcrypt_ext.so"
    bare = f"{HOME}/extensions/x86_64-linux/3.1.0/bare-0.2/bare.so"
    found = _finder({
        f"{EXT}/fastrb.so": ELF_SO, f"{HOME}/gems/fastrb-1.0.0/lib/fastrb.so": ELF_SO,
        f"{HOME}/gems/fastrb-1.0.0/ext/fastrb/fastrb.so": ELF_SO,
        f"{HOME}/specifications/fastrb-1.0.0.gemspec": SPEC,
        bcrypt: ELF_SO, f"{DEB}/specifications/bcrypt-3.1.18.gemspec":
            b's.name = "bcrypt".freeze\ns.version = "3.1.18"',
        bare: ELF_SO, f"{HOME}/extensions/x86_64-linux/3.1.0/notelf-1/n.so": b"#!" * 40,
        "/var/lib/gems/3.0.0/extensions/x86_64-linux/3.0.0/old-1.0/old.so": ELF_SO,
        "/var/lib/gems/3.0.0/specifications/old-1.0.gemspec": b's.name = "old"',
        "/opt/nohome/gems/stray-1.0/lib/stray.so": ELF_SO,
    })
    paths = {"/usr/bin/ruby", "/usr/lib/ruby/3.1.0/English.rb"}
    assert found.modules(paths) == [
        Module(bcrypt, "bcrypt_ext", bcrypt.rsplit("/", 1)[0], "/usr/bin/ruby", "bcrypt",
               "3.1.18", "ruby"),
        Module(bare, "bare", bare.rsplit("/", 1)[0], "/usr/bin/ruby", "bare", "0.2", "ruby"),
        Module(f"{EXT}/fastrb.so", "fastrb", EXT, "/usr/bin/ruby", "fastrb", "1.0.0", "ruby"),
    ]
    assert found.modules({"/usr/bin/python3"}) == []  # no ruby: nothing can load them
    [first, *_] = found.modules(paths)
    assert module_loaders.command(first)[:2] == ["/usr/bin/ruby", "-e"]


def test_a_gem_file_the_audit_found_foreign_is_named_so() -> None:
    found = _finder({f"{EXT}/fastrb.so": ELF_SO,
                     f"{HOME}/specifications/fastrb-1.0.0.gemspec": SPEC})
    [module] = found.modules({"/usr/bin/ruby"}, {f"{EXT}/fastrb.so": "ELF 64-bit LSB AArch64"})
    assert module.foreign == "ELF 64-bit LSB AArch64"
