#!/usr/bin/env python3
"""Check the built docs site the way a reader meets it.

1. Every page reachable from index.html is crawled: each link, stylesheet, script and
   image inside the site must point at a file that exists, and each #anchor at an id of
   that page. (Links out of the site are counted, not followed: the build machine is offline.)
2. Every module of plugins/modules and every role of roles/ has its page in the crawl.
3. Headless Chromium opens the index and a module page: the DOM after scripts ran lists
   every module (index) and has an anchor for every option of the module (module page), and
   a screenshot of each shows the theme applied (a dark navigation sidebar next to a light
   page; an unstyled page is white all over). The screenshots are kept next to the site.

usage: check_site.py SITE_HTML_DIR [MODULE]   (MODULE defaults to thinpool)
"""

import ast
import html.parser
import os
import struct
import subprocess
import sys
import urllib.parse
import zlib

import yaml

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
COLLECTION_DIR = os.path.join("collections", "container_storage", "devicemapper")


class Page(html.parser.HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.ids = set()
        self.refs = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        for key in ("id",) + (("name",) if tag == "a" else ()):
            if attrs.get(key):
                self.ids.add(attrs[key])
        for key in ("href", "src"):
            if attrs.get(key) and not (tag == "link" and attrs.get("rel") in ("canonical",)):
                self.refs.append(attrs[key])


def parse(path):
    page = Page()
    with open(path, encoding="utf-8") as handle:
        page.feed(handle.read())
    return page


def crawl(site):
    """Pages reachable from index.html, and the references inside the site that do not resolve."""
    pages, broken, external = {}, [], 0
    todo = [os.path.join(site, "index.html")]
    anchors_wanted = []
    while todo:
        path = todo.pop()
        if path in pages:
            continue
        pages[path] = parse(path)
        for ref in pages[path].refs:
            url = urllib.parse.urlsplit(ref)
            if url.scheme or ref.startswith("//"):
                external += url.scheme in ("http", "https")
                continue
            target = os.path.normpath(os.path.join(os.path.dirname(path), urllib.parse.unquote(url.path))) \
                if url.path else path
            if not os.path.realpath(target).startswith(os.path.realpath(site) + os.sep):
                broken.append((path, ref, "outside the site"))
            elif not os.path.isfile(target):
                broken.append((path, ref, "no such file"))
            elif target.endswith(".html"):
                todo.append(target)
                if url.fragment:
                    anchors_wanted.append((path, ref, target, urllib.parse.unquote(url.fragment)))
    for path, ref, target, fragment in anchors_wanted:
        if fragment not in pages[target].ids:
            broken.append((path, ref, "no id %r in %s" % (fragment, os.path.relpath(target, site))))
    return pages, broken, external


def module_options(module):
    with open(os.path.join(REPO, "plugins", "modules", module + ".py")) as handle:
        tree = ast.parse(handle.read())
    for node in tree.body:
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", None) == "DOCUMENTATION":
            doc = yaml.safe_load(node.value.value)
            options = dict(doc.get("options") or {})
            return sorted(options)
    raise AssertionError("no DOCUMENTATION in %s" % module)


def chromium(*args):
    command = ["chromium", "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
               "--window-size=1280,1000"] + list(args)
    result = subprocess.run(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=120, check=False)
    if result.returncode != 0:
        raise AssertionError("%s failed (%d): %s" % (" ".join(command), result.returncode, result.stderr[-2000:]))
    return result.stdout.decode("utf-8", "replace")


def read_png(path):
    """(width, height, rows of (r, g, b)) of an 8-bit RGB/RGBA non-interlaced PNG, as Chromium writes."""
    with open(path, "rb") as handle:
        data = handle.read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", path
    pos, idat = 8, b""
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, color, _c, _f, interlace = struct.unpack(">IIBBBBB", body)
            assert depth == 8 and color in (2, 6) and not interlace, (depth, color, interlace)
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    channels = 3 if color == 2 else 4
    raw, stride, rows, previous = zlib.decompress(idat), width * channels, [], bytearray(width * channels)
    for y in range(height):
        line_type = raw[y * (stride + 1)]
        line = bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            left = line[i - channels] if i >= channels else 0
            up = previous[i]
            up_left = previous[i - channels] if i >= channels else 0
            if line_type == 1:
                line[i] = (line[i] + left) & 0xFF
            elif line_type == 2:
                line[i] = (line[i] + up) & 0xFF
            elif line_type == 3:
                line[i] = (line[i] + (left + up) // 2) & 0xFF
            elif line_type == 4:
                p = left + up - up_left
                pa, pb, pc = abs(p - left), abs(p - up), abs(p - up_left)
                line[i] = (line[i] + (left if pa <= pb and pa <= pc else up if pb <= pc else up_left)) & 0xFF
        rows.append([tuple(line[x * channels:x * channels + 3]) for x in range(width)])
        previous = line
    return width, height, rows


def mean_luminance(rows, x0, x1, y0, y1):
    total = count = 0
    for row in rows[y0:y1]:
        for r, g, b in row[x0:x1]:
            total += 0.299 * r + 0.587 * g + 0.114 * b
            count += 1
    return total / count


def check_screenshot(path):
    """The theme is applied: a dark sidebar on the left, a light page on the right."""
    _width, _height, rows = read_png(path)
    sidebar = mean_luminance(rows, 0, 250, 500, 1000)
    content = mean_luminance(rows, 400, 1200, 100, 1000)
    problems = []
    if sidebar > 140:
        problems.append("%s: the navigation sidebar is not dark (mean luminance %.0f): no theme?" % (path, sidebar))
    if content < 200:
        problems.append("%s: the page body is not light (mean luminance %.0f)" % (path, content))
    return problems, sidebar, content


def main():
    site = os.path.abspath(sys.argv[1])
    module = sys.argv[2] if len(sys.argv) > 2 else "thinpool"
    problems = []

    pages, broken, external = crawl(site)
    problems += ["%s: %s (%s)" % (os.path.relpath(page, site), ref, why) for page, ref, why in broken]
    modules = sorted(name[:-3] for name in os.listdir(os.path.join(REPO, "plugins", "modules"))
                     if name.endswith(".py") and not name.startswith("_"))
    roles = sorted(os.listdir(os.path.join(REPO, "roles")))
    wanted = ["%s_module.html" % name for name in modules] + ["%s_role.html" % name for name in roles]
    for name in wanted:
        if os.path.join(site, COLLECTION_DIR, name) not in pages:
            problems.append("no page reachable from index.html for %s" % name)

    shots = os.path.join(os.path.dirname(site), "screenshots")
    os.makedirs(shots, exist_ok=True)
    index = os.path.join(site, "index.html")
    module_page = os.path.join(site, COLLECTION_DIR, "%s_module.html" % module)
    dom = chromium("--dump-dom", "file://" + index)
    for name in modules:
        if "%s_module.html" % name not in dom:
            problems.append("index.html as Chromium renders it has no link to the %s module" % name)
    dom = chromium("--dump-dom", "file://" + module_page)
    page = Page()
    page.feed(dom)
    for option in module_options(module):
        if "parameter-%s" % option not in page.ids:
            problems.append("%s as Chromium renders it has no entry for option %s" % (module_page, option))
    measured = []
    for name, path in (("index", index), (module, module_page)):
        shot = os.path.join(shots, name + ".png")
        chromium("--screenshot=" + shot, "file://" + path)
        found, sidebar, content = check_screenshot(shot)
        problems += found
        measured.append("%s sidebar %.0f / page %.0f" % (name, sidebar, content))

    for problem in problems:
        print(problem, file=sys.stderr)
    print("%d pages crawled, %d links out of the site not followed, %d problems; screenshots in %s (luminance: %s)"
          % (len(pages), external, len(problems), shots, ", ".join(measured)))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
