"""The sums a page shows, read from the DOM and done again: every price equation (`pieces x
price + upcharges = total`) and every totals list (list price - savings + shipping = total).

An equation is any visible element marked `data-equation`; its text is read as the shopper
reads it: numbers ($1,234.50 or 24), the operators x, +, - (the minus sign) and =, with words
and anything in parentheses (which names, never counts: "(2XL)") left out.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from playwright.sync_api import Page

MONEY = r"\$[\d,]+\.\d{2}"
TOKEN = re.compile(rf"(?P<money>{MONEY})|(?<![\w.,$])(?P<count>\d[\d,]*)(?![\w.,])|(?P<op>[×+−=])")

VISIBLE_EQUATIONS = """() => [...document.querySelectorAll('[data-equation]')]
  .filter((node) => node.offsetParent !== null || node.getClientRects().length > 0)
  .map((node) => node.innerText)"""

TOTALS = """() => [...document.querySelectorAll('.totals-list')]
  .filter((node) => node.getClientRects().length > 0)
  .map((list) => [...list.querySelectorAll('.totals-row')].map((row) => ({
    term: row.querySelector('dt').innerText,
    value: row.querySelector('dd').innerText,
    grand: row.classList.contains('totals-grand'),
  })))"""


def cents(money: str) -> int:
    return round(float(money.replace("$", "").replace(",", "")) * 100)


@dataclass(frozen=True)
class Checked:
    text: str
    left: int
    right: int


def evaluate(text: str) -> Checked:
    """Do the sum `text` shows; raises AssertionError when it is not one or does not add up."""
    plain = re.sub(r"\([^)]*\)", " ", text)
    tokens = [m for m in TOKEN.finditer(plain)]
    assert [t["op"] for t in tokens].count("=") == 1, f"not one equation: {text!r}"
    sums: list[int] = []  # the left side's terms, signed
    product: int | None = None
    sign = 1
    right: int | None = None
    seen_equals = False
    expect_number = True
    for token in tokens:
        if token["op"]:
            assert not expect_number, f"an operator without a number before it: {text!r}"
            expect_number = True
            if token["op"] == "×":
                continue
            assert product is not None
            sums.append(sign * product)
            product = None
            if token["op"] == "=":
                seen_equals = True
            else:
                sign = 1 if token["op"] == "+" else -1
            continue
        assert expect_number, f"two numbers in a row: {text!r}"
        expect_number = False
        value = cents(token["money"]) if token["money"] else int(token["count"].replace(",", ""))
        if seen_equals:
            assert right is None, f"more than one number after =: {text!r}"
            right = value
        else:
            product = value if product is None else product * value
    assert right is not None and not expect_number, f"no total: {text!r}"
    left = sum(sums)
    assert left == right, f"{text!r}: the parts make {left}, the page says {right}"
    return Checked(text, left, right)


def check_equations(page: Page) -> list[Checked]:
    """Every price equation on the page, each done again; at least one is expected."""
    texts: list[str] = page.evaluate(VISIBLE_EQUATIONS)
    return [evaluate(text) for text in texts]


def check_totals(page: Page) -> list[int]:
    """Each totals list: its rows above the line add up to its Total; the Totals, in cents."""
    grands = []
    for rows in page.evaluate(TOTALS):
        running = 0
        grand = None
        for row in rows:
            if row["term"] == "Pieces":
                continue
            value = row["value"].replace("−", "-")
            amount = 0 if value.strip().lower() == "free" else cents(value.lstrip("-+"))
            if row["grand"]:
                grand = amount
            else:
                running += -amount if value.startswith("-") else amount
        assert grand is not None, rows
        assert running == grand, f"{rows}: the rows make {running}, the total says {grand}"
        grands.append(grand)
    return grands
