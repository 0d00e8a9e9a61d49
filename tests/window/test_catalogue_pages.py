"""The catalogue's pages served for real: Persian and right to left by default with Persian
digits, English with ?lang=en; every control labelled, one h1 and headings in order, tables
with header scopes; the search typed with Arabic letters and digits finds the Persian name;
with central unreachable a service page still renders and says the accreditation could not be
checked. (The catalogue's pages have no form POST: the search is a GET form.)"""

from __future__ import annotations

import itertools
from html.parser import HTMLParser

import httpx

from window_site import Site

CARD = "/services/IR-DEMO/GOV/12147922321/smart-national-card"


class Outline(HTMLParser):
    """Start tags with their attributes, the headings' levels and the labels' targets."""

    def __init__(self, html: str) -> None:
        super().__init__()
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.feed(html)

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def all(self, tag: str) -> list[dict[str, str | None]]:
        return [attrs for name, attrs in self.tags if name == tag]

    def headings(self) -> list[int]:
        return [int(name[1]) for name, _ in self.tags if name in ("h1", "h2", "h3", "h4")]


def assert_accessible(html: str) -> None:
    page = Outline(html)
    levels = page.headings()
    assert levels.count(1) == 1 and levels[0] == 1, levels
    assert all(b - a <= 1 for a, b in itertools.pairwise(levels)), levels
    labelled = {attrs["for"] for attrs in page.all("label")}
    for tag in ("input", "select", "textarea"):
        for control in page.all(tag):
            if control.get("type") in ("hidden", "submit"):
                continue
            assert control.get("id") in labelled, control
    assert all(th.get("scope") in ("col", "row") for th in page.all("th"))
    assert not page.all("script") and "style=" not in html


def test_the_search_page_is_persian_rtl_with_filters_and_counts(site: Site) -> None:
    response = httpx.get(f"{site.url}/services")
    assert response.status_code == 200
    assert '<html lang="fa" dir="rtl">' in response.text
    assert "۹ خدمت پیدا شد" in response.text
    assert_accessible(response.text)
    page = Outline(response.text)
    assert {s["name"] for s in page.all("select")} == {"ecosystem", "agency", "audience"}
    assert "script-src 'self'" in response.headers["content-security-policy"]


def test_a_search_typed_with_arabic_letters_and_digits_finds_the_persian_name(site: Site) -> None:
    # «كارت ملي هوشمند فرم ٢»: Arabic kaf and yeh, an Arabic-Indic two.
    typed = "\u0643\u0627\u0631\u062a \u0645\u0644\u064a \u0641\u0631\u0645 \u0662"
    persian = "کارت ملی هوشمند فرم ۲"

    def links(query: str) -> list[str]:
        text = httpx.get(f"{site.url}/services", params={"q": query}).text
        return [
            str(a["href"])
            for a in Outline(text).all("a")
            if str(a.get("href", "")).startswith("/services/")
        ]

    assert links(typed)[0] == CARD
    assert links(typed) == links(persian) == links("کارت‌ملی هوشمند فرم 2")


def test_filters_and_pages_of_the_search(site: Site) -> None:
    def codes(**params: str) -> list[str]:
        text = httpx.get(f"{site.url}/services", params=params).text
        return [
            str(a["href"]).rsplit("/", 1)[-1]
            for a in Outline(text).all("a")
            if str(a.get("href", "")).startswith("/services/")
        ]

    assert sorted(codes(ecosystem="tax")) == [
        "no-tax-debt-for-changes",
        "tax-clearance",
        "taxpayer-registration",
    ]
    assert codes(audience="foreign-national", lang="en") == [
        "postal-code-certificate",
        "residence-permit-extension",
    ]
    assert sorted(codes(agency="IR-DEMO/GOV/16394841376")) == [
        "business-licence",
        "no-tax-debt-for-changes",
    ]
    first, second = codes(), codes(page="2")
    assert len(first) == 9 and second == []
    assert codes(q="tax clearance", lang="en")[0] == "tax-clearance"


def test_the_service_page_in_persian(site: Site) -> None:
    response = httpx.get(f"{site.url}{CARD}")
    assert response.status_code == 200
    text = response.text
    assert_accessible(text)
    assert '<html lang="fa" dir="rtl">' in text
    assert "۳٬۰۰۰٬۰۰۰ ریال" in text and "۲۰ روز" in text
    assert "سازمان ثبت احوال کشور" in text and "شرکت ملی پست جمهوری اسلامی ایران" in text
    assert "IR-DEMO/GOV/12147922321/population-registry/persons" in text
    assert "علت درخواست" in text and "تلفن همراه" in text
    # Central is a closed port: the page renders and says so.
    assert "اکنون نمی‌توان اعتباربخشی را بررسی کرد" in text


def test_the_service_page_in_english(site: Site) -> None:
    response = httpx.get(f"{site.url}/services/IR-DEMO/GOV/16394841376/business-licence?lang=en")
    assert response.status_code == 200
    text = response.text
    assert_accessible(text)
    assert '<html lang="en" dir="ltr">' in text
    assert "8,500,000 rials" in text and "10 days" in text
    assert "Birth certificate extract" in text
    assert "A signed document in your locker: Business licence" in text
    assert "After: Name check." in text
    assert "The agency provides this service itself" in text


def test_an_unknown_service_is_a_404_problem(site: Site) -> None:
    response = httpx.get(f"{site.url}/services/IR-DEMO/GOV/12147922321/no-such-service")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"


def test_the_parallel_systems_page_lists_the_pair(site: Site) -> None:
    fa = httpx.get(f"{site.url}/parallel-systems")
    assert_accessible(fa.text)
    assert "۱ جفت پیدا شد" in fa.text and "۸۳ درصد" in fa.text
    en = httpx.get(f"{site.url}/parallel-systems", params={"lang": "en"})
    assert "1 pairs found" in en.text and "83 %" in en.text
    assert "Tax clearance certificate" in en.text
    assert "No-tax-debt certificate for registering changes" in en.text
