"""Issue 14 kind 1 (CPU per page): extraction work is bounded because the page handed to lxml and
trafilatura never holds more elements than `fetch.max_elements` (their cost is per element,
README "Fetching"). That holds only if our scanner and the HTML parser agree on where markup
is: any construct the parser reads as markup while the scanner skips it as a comment or raw text
would let uncounted elements through. Each case below puts 20x the budget of `<p>` after one
such construct; the parser must then see at most the budget.

Public reports rebuilt: OWASP/java-html-sanitizer#327 and #396, meziantou/Meziantou.Framework#1964,
odoo/odoo#123041 (comment ends a scanner and a parser disagree on: `--!>`, `<!-->`, `<!--->`);
adbar/trafilatura#704 / #750 (extraction cost grows with the element count, no timeout).
"""

from __future__ import annotations

import lxml.html
import pytest

from monitor.extract.htmlcheck import check_page
from monitor.fetch.budget import Budget

BUDGET = 1000
SLACK = 4  # html, head, body the parser adds

OPENERS = [
    "",
    "<!--",  # a comment never closed: the rest is a comment for both
    "<!-->",  # abruptly closed empty comment
    "<!--->",
    "<!-- x --!>",  # a comment closed by --!>
    "<!----!>",
    "<!-- x --!> <!-- y -->",
    "<!-- x -- >",  # not an end for either
    "<!>",
    "<!->",
    "<!x ",
    "<?x ",
    "</ ",
    "</p ",
    "<a ",
    '<p title="',
    "<p title='>'>",
    "<![CDATA[",
    "<script>",
    "<script><!--",
    "<style>",
    "<textarea>",
    "<title>",
    "<xmp>",
    "<iframe>",
    "<noscript>",
    "<template>",
    "<svg><![CDATA[",
    "<math>",
    "<table>",
    "<select>",
    "<P>",
    "<p\x00>",
]
BODIES = ["<p>x", "<li><a href='/a'>x</a>", "<span><b>x</b></span>", "<td>x"]


def _parsed_elements(text: str) -> int:
    try:
        root = lxml.html.document_fromstring(text)
    except Exception:  # nothing parseable: no work
        return 0
    return sum(1 for _ in root.iter())


@pytest.mark.parametrize("opener", OPENERS)
@pytest.mark.parametrize("body", BODIES)
def test_the_parser_never_sees_more_elements_than_the_budget(opener, body):
    page = "<html><body>" + opener + body * (20 * BUDGET) + "</body></html>"
    checked = check_page(page, "http://x/", Budget(max_elements=BUDGET, max_page_depth=100_000))
    assert _parsed_elements(checked.text) <= BUDGET + SLACK, (opener, checked.warning)


@pytest.mark.parametrize("opener", ["<!-- x --!>", "<!-->", "<!--->"])
def test_text_after_an_early_comment_end_is_counted(opener):
    page = "<html><body>" + opener + "<p>x" * 5000 + "-->" + "</body></html>"
    checked = check_page(page, "http://x/", Budget(max_elements=BUDGET))
    assert "1000 elements" in checked.warning
