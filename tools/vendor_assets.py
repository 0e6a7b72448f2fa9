"""Fetch the third-party files that the website serves itself into ``assets/vendor/``.

The rendered site loads nothing from other hosts: the math renderer (KaTeX), the web
fonts of the two Bootswatch themes (Source Sans Pro for cosmo, Lato for darkly) and the
libraries of the interactive chapter (d3, Observable Plot, Observable Inputs and htl) are
committed under ``assets/vendor/<name>/``, each with its licence. This script re-creates
those folders from the npm registry (``npm pack``, so npm checks each tarball's
integrity); rendering never runs it. ``assets/vendor/README.md`` lists the same packages.

Usage::

    python tools/vendor_assets.py           # (re)write assets/vendor/ from npm
    python tools/vendor_assets.py --check   # fetch again and compare with the committed files

The Observable libraries are pinned to the versions that Quarto's OJS runtime would
otherwise fetch from a CDN (d3 7.8.5, @observablehq/inputs 0.10.6, @observablehq/plot
0.6.11, htl 0.3.1): their UMD bundles name their dependencies by exactly those versions.
"""

from __future__ import annotations

import argparse
import filecmp
import fnmatch
import json
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VENDOR = ROOT / "assets" / "vendor"


@dataclass(frozen=True)
class Package:
    """One npm package and the files taken from it.

    ``files`` maps a path (or glob) inside the package to a path in
    ``assets/vendor/<folder>/``; a target ending in ``/`` is a folder.
    """

    npm: str
    version: str
    folder: str
    files: dict[str, str]
    licence: str
    fonts: dict = field(default_factory=dict)  # for font packages: see FONTS below


PACKAGES = [
    Package("katex", "0.19.1", "katex", {
        "dist/katex.min.js": "katex.min.js",
        "dist/katex.min.css": "katex.min.css",
        # Every current browser reads WOFF2; katex.min.css lists it first in each @font-face.
        "dist/fonts/*.woff2": "fonts/",
        "LICENSE": "LICENSE",
    }, licence="MIT"),
    Package("d3", "7.8.5", "d3", {
        "dist/d3.min.js": "d3.min.js",
        "LICENSE": "LICENSE",
    }, licence="ISC"),
    Package("htl", "0.3.1", "htl", {
        "dist/htl.min.js": "htl.min.js",
        "LICENSE": "LICENSE",
    }, licence="ISC"),
    Package("@observablehq/inputs", "0.10.6", "observablehq-inputs", {
        "dist/inputs.min.js": "inputs.min.js",
        "LICENSE": "LICENSE",
    }, licence="ISC"),
    Package("@observablehq/plot", "0.6.11", "observablehq-plot", {
        "dist/plot.umd.min.js": "plot.umd.min.js",
        "LICENSE": "LICENSE",
    }, licence="ISC"),
    # The web fonts that Bootswatch's themes would import from a font CDN, with the same
    # weights and styles: cosmo asks for Source Sans Pro 300/400/700, darkly for Lato
    # 400/700 and 400 italic. Subsets: Latin, Latin Extended (ȳ) and, where the font has
    # it, Greek (σ, α, μ in the interactive chapter's labels).
    Package("@fontsource/source-sans-pro", "5.3.0", "fonts/source-sans-pro", {
        "LICENSE": "LICENSE",
    }, licence="OFL-1.1", fonts={
        "id": "source-sans-pro",
        "subsets": ["latin", "latin-ext", "greek"],
        "faces": [("300", "normal"), ("400", "normal"), ("700", "normal")],
    }),
    Package("@fontsource/lato", "5.3.0", "fonts/lato", {
        "LICENSE": "LICENSE",
    }, licence="OFL-1.1", fonts={
        "id": "lato",
        "subsets": ["latin", "latin-ext"],
        "faces": [("400", "normal"), ("700", "normal"), ("400", "italic")],
    }),
]

FONTS_CSS = "fonts/fonts.css"


def npm_pack(spec: str, dest: Path) -> Path:
    """Download ``spec`` (``name@version``) from the npm registry and unpack it; return its root."""
    npm = shutil.which("npm")
    if npm is None:
        raise SystemExit("vendor_assets: `npm` is not on the PATH (apt-get install npm)")
    out = subprocess.run([npm, "pack", spec, "--json", "--pack-destination", str(dest)],
                         check=True, capture_output=True, text=True).stdout
    tarball = dest / json.loads(out)[0]["filename"]
    unpacked = dest / tarball.name.removesuffix(".tgz")
    with tarfile.open(tarball) as tar:
        tar.extractall(unpacked, filter="data")
    return unpacked / "package"


def font_faces(pkg: Package, root: Path, target: Path) -> str:
    """Copy the WOFF2 files of the chosen faces and return their ``@font-face`` rules.

    The rules come from fontsource's ``<weight>[-italic].css`` (one rule per subset, with
    its ``unicode-range``), with ``url()`` pointing at the copied file and the WOFF
    fallback left out.
    """
    spec = pkg.fonts
    rules = []
    for weight, style in spec["faces"]:
        css = (root / f"{weight}{'-italic' if style == 'italic' else ''}.css").read_text()
        for subset in spec["subsets"]:
            name = f"{spec['id']}-{subset}-{weight}-{style}"
            match = re.search(rf"/\* {re.escape(name)} \*/\s*(@font-face\s*{{[^}}]*}})", css)
            if match is None:
                raise SystemExit(f"vendor_assets: no @font-face for {name} in {pkg.npm}")
            woff2 = f"{name}.woff2"
            shutil.copy2(root / "files" / woff2, target / woff2)
            folder = Path(pkg.folder).name
            rule = re.sub(r"src:[^;]*;", f"src: url({folder}/{woff2}) format('woff2');",
                          match.group(1))
            rules.append(f"/* {pkg.npm}@{pkg.version}: {name} */\n{rule}\n")
    return "\n".join(rules)


def build(vendor: Path) -> None:
    """Write every vendored file into ``vendor`` (a fresh folder)."""
    fonts_css = [
        "/* Web fonts of the site's themes, served by the site itself (tools/vendor_assets.py).\n"
        "   Generated from the @fontsource packages' CSS; do not edit by hand. */\n"
    ]
    with tempfile.TemporaryDirectory(prefix="vendor-") as tmp:
        for pkg in PACKAGES:
            root = npm_pack(f"{pkg.npm}@{pkg.version}", Path(tmp))
            version = json.loads((root / "package.json").read_text())["version"]
            if version != pkg.version:
                raise SystemExit(f"vendor_assets: asked for {pkg.npm}@{pkg.version}, got {version}")
            target = vendor / pkg.folder
            target.mkdir(parents=True, exist_ok=True)
            for pattern, dest in pkg.files.items():
                matches = sorted(p for p in root.rglob("*")
                                 if fnmatch.fnmatch(str(p.relative_to(root)), pattern))
                if not matches:
                    raise SystemExit(f"vendor_assets: {pkg.npm}@{pkg.version} has no {pattern}")
                for src in matches:
                    out = target / dest / src.name if dest.endswith("/") else target / dest
                    out.parent.mkdir(parents=True, exist_ok=True)
                    shutil.copy2(src, out)
            if pkg.fonts:
                fonts_css.append(font_faces(pkg, root, target))
    (vendor / FONTS_CSS).write_text("\n".join(fonts_css), encoding="utf-8")


def compare(built: Path, committed: Path) -> list[str]:
    """Files that differ between two vendor folders (README.md is not generated)."""
    def files(folder: Path) -> set[str]:
        return {str(p.relative_to(folder)) for p in folder.rglob("*")
                if p.is_file() and p.name != "README.md"}

    new, old = files(built), files(committed)
    problems = [f"missing: {f}" for f in sorted(new - old)]
    problems += [f"not from npm: {f}" for f in sorted(old - new)]
    problems += [f"differs: {f}" for f in sorted(new & old)
                 if not filecmp.cmp(built / f, committed / f, shallow=False)]
    return problems


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--check", action="store_true",
                        help="fetch into a temporary folder and compare with assets/vendor/")
    args = parser.parse_args(argv)
    if args.check:
        with tempfile.TemporaryDirectory(prefix="vendor-check-") as tmp:
            build(Path(tmp))
            problems = compare(Path(tmp), VENDOR)
        print("\n".join(problems) if problems else "assets/vendor/ matches the npm packages")
        return 1 if problems else 0
    for pkg in PACKAGES:  # start clean so no stale file survives a version change
        shutil.rmtree(VENDOR / pkg.folder, ignore_errors=True)
    build(VENDOR)
    print(f"wrote {VENDOR.relative_to(ROOT)}/ from "
          + ", ".join(f"{p.npm}@{p.version}" for p in PACKAGES))
    return 0


if __name__ == "__main__":
    sys.exit(main())
