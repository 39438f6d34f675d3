"""Offline link check of a built Sphinx site: every relative href/src resolves.

    python tools/check_html_links.py /tmp/html

For each .html file under the directory, every relative ``href`` and ``src`` (no
scheme, not ``//host``) must name an existing file, and a ``#fragment`` must be an
``id`` (or ``<a name>``) in the target page.  Pages under ``_static/`` (the theme's
template fragments) are not checked as pages.  External links (http:, https:,
mailto:, ...) are not fetched: the check runs without a network.  Exit status 1 and
a list of the broken links if any.
"""
import os
import sys
from html.parser import HTMLParser
from urllib.parse import unquote, urlsplit


class _Page(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.links, self.ids = [], set()

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        for key in ("id",) + (("name",) if tag == "a" else ()):
            if a.get(key):
                self.ids.add(a[key])
        for key in ("href", "src"):
            if a.get(key) is not None and not (tag == "link" and a.get("rel") == "preconnect"):
                self.links.append((self.getpos()[0], a[key]))


def _parse(path, cache):
    if path not in cache:
        page = _Page()
        with open(path, encoding="utf-8", errors="replace") as f:
            page.feed(f.read())
        cache[path] = page
    return cache[path]


def check(root):
    root = os.path.abspath(root)
    cache, broken, checked = {}, [], 0
    for dirpath, dirs, files in os.walk(root):
        if dirpath == root:
            dirs[:] = [d for d in dirs if d not in ("_static", "_sources")]   # theme assets, not pages
        for name in files:
            if not name.endswith(".html"):
                continue
            page_path = os.path.join(dirpath, name)
            for line, link in _parse(page_path, cache).links:
                parts = urlsplit(link)
                if parts.scheme or parts.netloc or link.startswith("//"):
                    continue            # external: not fetched
                checked += 1
                target = page_path if not parts.path else os.path.normpath(
                    os.path.join(dirpath, unquote(parts.path)))
                where = f"{os.path.relpath(page_path, root)}:{line}: {link}"
                if os.path.isdir(target):
                    target = os.path.join(target, "index.html")
                if not os.path.exists(target):
                    broken.append(f"{where}  (no file {os.path.relpath(target, root)})")
                    continue
                frag = unquote(parts.fragment)
                if frag and target.endswith(".html") and frag not in _parse(target, cache).ids:
                    broken.append(f"{where}  (no anchor #{frag})")
    return checked, broken


def main(argv):
    if len(argv) != 1 or not os.path.isdir(argv[0]):
        raise SystemExit(__doc__)
    checked, broken = check(argv[0])
    for b in broken:
        print(b)
    print(f"{checked} relative links checked, {len(broken)} broken")
    return 1 if broken or not checked else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
