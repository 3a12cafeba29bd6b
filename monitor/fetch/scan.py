"""Linear-time scanners for untrusted XML and HTML (pure).

No backtracking regular expressions: a cursor moves forward through the text
with `str.find` (and single-character-class searches), each search starting at
the cursor; a construct that never closes (`<!--`, `<![CDATA[`, `<a` with no
`>`, an open quote) ends the scan instead of being retried from the next
character. So every character is looked at a bounded number of times, whatever
the input, and no single call holds the GIL for long.

`scan_xml` checks a feed before feedparser sees it: nesting depth, element and
item counts, where the DOCTYPE is (comments, PIs and quoted entity values cannot
hide it), where the `max_items`-th item ends. `prepare_feed` turns that into the
bytes to parse: DOCTYPE removed, items past the budget cut (closing tags
rebuilt), any encoding (UTF-16/32 are decoded first, so the checks hold there
too). `scan_html` counts elements and depth of an article page (void elements,
raw-text elements and implied ends as HTML parsers do) and finds where to cut.
`strip_tags` is the linear form of replacing `<[^>]+>` with a space.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from monitor.errors import BudgetError
from monitor.fetch.encoding import WIDE_BOMS, wide_codec

ITEM_NAMES = frozenset({"item", "entry", "url"})
_SKIPS = (("<!--", "-->"), ("<![CDATA[", "]]>"), ("<?", "?>"))  # skipped whole: no markup inside
_TAG_END = re.compile(r"""[>"']""")  # a tag's end, or a quoted value to skip
_DECL_STOP = re.compile(r"""[\[\]>"']|<!--|<\?""")  # inside <!DOCTYPE ...>
_NAME = re.compile(r"[^\s/>]*")  # a tag name (applied to the tag's own text only)
_ENCODING = re.compile(r"""(encoding\s*=\s*)(["'])[A-Za-z0-9._:-]{1,40}\2""")
_CHARSET = re.compile(r";\s*charset\s*=[^;]*", re.I)


# Text codecs whose bytes are not ASCII-compatible: decoded before scanning.
@dataclass(frozen=True)
class XmlScan:
    """What one linear pass over an XML document found (offsets are into the scanned text).

    depth: deepest nesting seen (stops counting at max_depth + 1).
    elements/items: start tags / closed items (item, entry, url) seen before the scan ended.
    root: the first element's name ('' if none).
    doctypes: (start, end) of each DOCTYPE declaration.
    cut: offset just after the max_items-th item's end tag, or None; `closers` are the
      end tags of the elements still open there, innermost first.
    stop: where a construct that never ends begins (an unterminated comment, CDATA, PI,
      declaration, tag or quote: nothing after it can be markup), None if the text ended
      cleanly or the depth limit stopped the scan; `stop_closers` as for `cut`.
    steps: positions the cursor stopped at (each advances it): the work done, for tests.
    first_item: offset of the first item's start tag, None if there is none.
    cuts: offsets just after every max_items-th item's end tag (the first is `cut`).
    """

    depth: int
    elements: int
    items: int
    root: str
    doctypes: tuple[tuple[int, int], ...]
    cut: int | None
    closers: tuple[str, ...]
    stop: int | None
    stop_closers: tuple[str, ...]
    steps: int
    first_item: int | None = None
    cuts: tuple[int, ...] = ()


def _tag_end(text: str, pos: int) -> int:
    """Offset of the `>` ending the tag whose text starts at `pos` (quotes honoured), -1 if none."""
    search = _TAG_END.search
    while True:
        m = search(text, pos)
        if m is None:
            return -1
        ch = m.group()
        if ch == ">":
            return m.start()
        close = text.find(ch, m.end())
        if close < 0:
            return -1
        pos = close + 1


def _decl_end(text: str, pos: int) -> int:
    """Offset just past a `<!...>` declaration starting at `pos` (internal subset, quotes,
    comments and PIs inside it honoured); -1 if it never ends."""
    search = _DECL_STOP.search
    brackets = 0
    pos += 2
    while True:
        m = search(text, pos)
        if m is None:
            return -1
        tok = m.group()
        if tok == "[":
            brackets += 1
        elif tok == "]":
            brackets = max(0, brackets - 1)
        elif tok == ">":
            if brackets == 0:
                return m.end()
        elif tok == "<!--":
            close = text.find("-->", m.end())
            if close < 0:
                return -1
            pos = close + 3
            continue
        elif tok == "<?":
            close = text.find("?>", m.end())
            if close < 0:
                return -1
            pos = close + 2
            continue
        else:  # a quote
            close = text.find(tok, m.end())
            if close < 0:
                return -1
            pos = close + 1
            continue
        pos = m.end()


def _local(name: str) -> str:
    return name.rpartition(":")[2]


def scan_xml(text: str, *, max_depth: int = 256, max_items: int | None = None) -> XmlScan:
    """One linear pass over XML text (see XmlScan). Never raises; malformed input ends the scan."""
    find, starts = text.find, text.startswith
    stack: list[str] = []
    depth = elements = items = steps = 0
    root = ""
    doctypes: list[tuple[int, int]] = []
    cut: int | None = None
    closers: tuple[str, ...] = ()
    stop: int | None = None
    first_item: int | None = None
    cuts: list[int] = []
    i = 0
    while True:
        j = find("<", i)
        if j < 0:
            break
        steps += 1
        skip = next((pair for pair in _SKIPS if starts(pair[0], j)), None)
        if skip is not None:
            k = find(skip[1], j + len(skip[0]))
            if k < 0:
                stop = j  # the rest is an unterminated comment, CDATA section or PI
                break
            i = k + len(skip[1])
        elif starts("<!", j):
            k = _decl_end(text, j)
            if k < 0:
                stop = j
                break
            if text[j + 2 : j + 9].upper() == "DOCTYPE":
                doctypes.append((j, k))
            i = k
        elif starts("</", j):
            k = find(">", j + 2)
            if k < 0:
                stop = j
                break
            name = text[j + 2 : k].strip()
            if stack:
                stack.pop()
            if _local(name) in ITEM_NAMES:
                items += 1
                if max_items is not None and items == max_items:
                    cut = k + 1
                    closers = tuple(f"</{n}>" for n in reversed(stack))
                if max_items and items % max_items == 0:
                    cuts.append(k + 1)
            i = k + 1
        else:
            nxt = text[j + 1 : j + 2]
            if not (nxt.isalpha() or nxt in "_:"):
                i = j + 1  # a literal '<' (malformed, but not a tag)
                continue
            k = _tag_end(text, j + 1)
            if k < 0:
                stop = j  # a tag that never ends: nothing after it can be markup
                break
            name = _NAME.match(text, j + 1, k).group()  # type: ignore[union-attr]
            elements += 1
            root = root or name
            if first_item is None and _local(name) in ITEM_NAMES:
                first_item = j
            if text[k - 1] != "/":
                stack.append(name)
                if len(stack) > depth:
                    depth = len(stack)
                    if depth > max_depth:
                        break
            i = k + 1
    stop_closers = tuple(f"</{n}>" for n in reversed(stack)) if stop is not None else ()
    return XmlScan(
        depth, elements, items, root, tuple(doctypes), cut, closers, stop, stop_closers, steps, first_item, tuple(cuts)
    )


@dataclass(frozen=True)
class PreparedFeed:
    """The bytes to give the feed parser (and the Content-Type to give with them)."""

    content: bytes
    content_type: str
    scan: XmlScan
    warnings: tuple[str, ...]


def prepare_feed(content: bytes, content_type: str, *, what: str, max_depth: int, max_items: int) -> PreparedFeed:
    """Check and trim a feed in one linear pass, in any encoding.

    BudgetError when it nests deeper than `max_depth`. The DOCTYPE (with any entity
    declarations) is removed; items after the `max_items`-th are cut, with a warning.
    ASCII-compatible encodings are scanned as latin-1 (one character per byte, so
    offsets are byte offsets and the bytes pass through unchanged); UTF-16/32 are
    decoded, checked and handed on as UTF-8 (declaration and charset rewritten).
    """
    codec = wide_codec(content)
    if codec:
        bom = next((len(b) for b, n in WIDE_BOMS if n == codec and content.startswith(b)), 0)
        text = content[bom:].decode(codec, "replace")
    else:
        text = content.decode("latin-1")
    scan = scan_xml(text, max_depth=max_depth, max_items=max_items)
    if scan.depth > max_depth:
        raise BudgetError(f"{what} nests more than {max_depth} levels deep (budget fetch.max_depth)")
    warnings: list[str] = []
    keep, tail = len(text), ""
    if scan.cut is not None and scan.items > max_items:
        keep, tail = scan.cut, "".join(scan.closers)
        warnings.append(f"feed has {scan.items} items; the first {max_items} were read (budget fetch.max_items)")
    elif scan.stop is not None:
        keep, tail = scan.stop, "".join(scan.stop_closers)
        warnings.append(f"feed has markup that never ends at character {scan.stop}; the rest was ignored")
    pieces: list[tuple[int, int]] = []
    pos = 0
    for a, b in scan.doctypes:  # in document order, never overlapping
        if a >= keep:
            break
        pieces.append((pos, a))
        pos = b
    pieces.append((pos, keep))
    pieces = [(s, e) for s, e in pieces if e > s]
    if codec is None:
        if pieces == [(0, len(text))] and not tail:
            return PreparedFeed(content, content_type, scan, tuple(warnings))
        data = b"".join(content[s:e] for s, e in pieces) + tail.encode("latin-1")
        return PreparedFeed(data, content_type, scan, tuple(warnings))
    doc = "".join(text[s:e] for s, e in pieces) + tail
    if doc.startswith("<?xml"):
        end = doc.find("?>")
        if end > 0:
            doc = _ENCODING.sub(r"\1\2utf-8\2", doc[:end], count=1) + doc[end:]
    ctype = _CHARSET.sub("", content_type) + "; charset=utf-8" if content_type else "application/xml; charset=utf-8"
    return PreparedFeed(doc.encode("utf-8", "replace"), ctype, scan, tuple(warnings))


# ---- HTML -------------------------------------------------------------------
_VOID = frozenset(
    "area base br col embed hr img input link meta param source track wbr basefont bgsound frame keygen".split()
)
_RAW = frozenset({"script", "style", "textarea", "title", "xmp", "iframe", "noembed", "noframes", "plaintext"})
_IMPLIED = frozenset({"p", "li", "dt", "dd", "option", "tr", "td", "th"})  # a new one closes the open one
_CLOSES_P = frozenset(
    "address article aside blockquote div dl fieldset footer form h1 h2 h3 h4 h5 h6 header hr main nav ol p "
    "pre section table ul".split()
)
_RAW_END = {name: re.compile(f"</{name}", re.I) for name in _RAW}


@dataclass(frozen=True)
class HtmlScan:
    """elements: start tags seen; depth: deepest nesting; cut: offset of the start tag past
    `max_elements` (None if within budget); steps as for XmlScan."""

    elements: int
    depth: int
    cut: int | None
    steps: int


def scan_html(text: str, *, max_depth: int = 1000, max_elements: int | None = None) -> HtmlScan:
    """One linear pass over HTML text counting elements and nesting (stops past max_depth)."""
    find, starts = text.find, text.startswith
    stack: list[str] = []
    open_count: dict[str, int] = {}
    elements = depth = steps = 0
    cut: int | None = None
    i = 0

    def pop() -> None:
        name = stack.pop()
        open_count[name] -= 1

    # offsets of the next "-->" and "--!>" (-2: not looked for yet, -1: none left), kept between
    # comments so that looking for the one that comes later does not rescan the text each time
    close = bang = -2

    while True:
        j = find("<", i)
        if j < 0:
            break
        steps += 1
        if starts("<!--", j):
            # HTML comments end at "-->", at "--!>", or at once as "<!-->" / "<!--->" (as the
            # HTML parser reads them: text after such an end is markup and must be counted)
            if starts(">", j + 4) or starts("->", j + 4):
                i = j + (5 if starts(">", j + 4) else 6)
                continue
            if close != -1 and close < j + 4:
                close = find("-->", j + 4)
            if bang != -1 and bang < j + 4:
                bang = find("--!>", j + 4)
            if close < 0 and bang < 0:
                break
            i = bang + 4 if close < 0 or 0 <= bang < close else close + 3
            continue
        if starts("<!", j) or starts("<?", j):
            k = find(">", j + 2)
            if k < 0:
                break
            i = k + 1
            continue
        if starts("</", j):
            k = find(">", j + 2)
            if k < 0:
                break
            name = _NAME.match(text, j + 2, k).group().lower()  # type: ignore[union-attr]
            if open_count.get(name):
                while stack and stack[-1] != name:
                    pop()
                pop()
            i = k + 1
            continue
        nxt = text[j + 1 : j + 2]
        if not nxt.isalpha():
            i = j + 1
            continue
        k = find(">", j + 1)
        if k < 0:
            break
        name = _NAME.match(text, j + 1, k).group().lower()  # type: ignore[union-attr]
        elements += 1
        if max_elements is not None and elements > max_elements:
            cut = j
            break
        i = k + 1
        if name in _RAW:
            m = _RAW_END[name].search(text, i)
            if m is None:
                break
            i = m.start()
            continue
        if name in _VOID or text[k - 1] == "/":
            continue
        if stack and ((name in _IMPLIED and stack[-1] == name) or (name in _CLOSES_P and stack[-1] == "p")):
            pop()
        stack.append(name)
        open_count[name] = open_count.get(name, 0) + 1
        if len(stack) > depth:
            depth = len(stack)
            if depth > max_depth:
                break
    return HtmlScan(elements, depth, cut, steps)


def strip_tags(fragment: str) -> str:
    """`re.sub(r"<[^>]+>", " ", fragment)` in linear time (the regex is quadratic on runs of '<')."""
    out: list[str] = []
    find = fragment.find
    i = 0
    while True:
        j = find("<", i)
        if j < 0:
            break
        k = find(">", j + 1)
        if k < 0:
            break  # no '>' after this '<': no tag anywhere after it either
        if k == j + 1:  # "<>" is not a tag
            out.append(fragment[i : k + 1])
        else:
            out.append(fragment[i:j])
            out.append(" ")
        i = k + 1
    out.append(fragment[i:])
    return "".join(out)
