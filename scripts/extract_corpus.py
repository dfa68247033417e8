#!/usr/bin/env python3
"""Extracts the bundled tokenizer corpus, crates/spar-bpe/data/rust-docs.txt.

The text is "The Rust Programming Language" (Steve Klabnik, Carol Nichols and contributors)
followed by "The Cargo Book" (the Cargo developers), both licensed MIT OR Apache-2.0, as
shipped in HTML with every rustup toolchain. It is varied: prose, Rust code, shell sessions,
TOML, numbers and tables. The script keeps the main content of the numbered chapters and
appendices of the first, and every page but the changelog and print view of the second, in a
fixed order, as plain text.

Rerun (standard library only):
    python3 scripts/extract_corpus.py [DOC_HTML_DIR] > crates/spar-bpe/data/rust-docs.txt
DOC_HTML_DIR defaults to `$(rustc --print sysroot)/share/doc/rust/html`.
"""
import html.parser
import pathlib
import re
import subprocess
import sys


class MainText(html.parser.HTMLParser):
    """Collects the text inside <main>, with line breaks at block elements."""

    BLOCKS = {"p", "pre", "li", "h1", "h2", "h3", "h4", "h5", "tr", "br", "div", "blockquote"}
    SKIP = {"script", "style", "button", "nav"}

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.depth_main = 0
        self.skip = 0
        self.parts = []

    def handle_starttag(self, tag, attrs):
        if tag == "main":
            self.depth_main += 1
        if tag in self.SKIP:
            self.skip += 1
        if self.depth_main and tag in self.BLOCKS:
            self.parts.append("\n")

    def handle_endtag(self, tag):
        if tag == "main":
            self.depth_main -= 1
        if tag in self.SKIP and self.skip:
            self.skip -= 1
        if self.depth_main and tag in self.BLOCKS:
            self.parts.append("\n")

    def handle_data(self, data):
        if self.depth_main and not self.skip:
            self.parts.append(data)


def chapter_key(path):
    m = re.match(r"(ch|appendix-)(\d+)-(\d+)", path.name)
    kind = 0 if path.name.startswith("ch") else 1
    return (kind, int(m.group(2)), int(m.group(3))) if m else (2, 0, 0)


def main():
    if len(sys.argv) > 1:
        root = pathlib.Path(sys.argv[1])
    else:
        sysroot = subprocess.check_output(["rustc", "--print", "sysroot"], text=True).strip()
        root = pathlib.Path(sysroot) / "share/doc/rust/html"
    book = root / "book"
    pages = sorted(
        (p for p in book.glob("*.html") if re.match(r"(ch\d+|appendix)-\d+", p.name)),
        key=chapter_key,
    )
    pages += sorted(
        p
        for p in (root / "cargo").rglob("*.html")
        if p.name not in ("print.html", "toc.html", "404.html", "CHANGELOG.html")
    )
    out = []
    for page in pages:
        parser = MainText()
        parser.feed(page.read_text(encoding="utf-8"))
        text = "".join(parser.parts)
        text = re.sub(r"[ \t]+\n", "\n", text)
        text = re.sub(r"\n{3,}", "\n\n", text).strip()
        if text:
            out.append(text)
    sys.stdout.write("\n\n".join(out) + "\n")


if __name__ == "__main__":
    main()
