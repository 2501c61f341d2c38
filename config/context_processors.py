from django.urls import NoReverseMatch, reverse

# (label, url name): the main navigation. Items whose page is not installed are left out.
NAVIGATION = [
    ("Markets", "market:list"),
    ("Trade", "market:trade_default"),
    ("Portfolio", "trading:portfolio"),
    ("Orders", "trading:orders"),
    ("Tournaments", "tournaments:list"),
]


def _resolved_navigation() -> list[dict[str, str]]:
    items = []
    for label, name in NAVIGATION:
        try:
            items.append({"label": label, "url": reverse(name)})
        except NoReverseMatch:
            continue
    return items


def navigation(request):
    return {"nav_items": _resolved_navigation()}
