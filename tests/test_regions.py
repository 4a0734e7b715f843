"""Every country belongs to exactly one region."""

from collections import Counter

import pycountry

from directory.regions import REGION_NAMES, REGIONS, countries_in, region_of


def test_every_country_is_in_exactly_one_region():
    placed = Counter(code for codes in REGIONS.values() for code in codes)
    assert [code for code, n in placed.items() if n > 1] == []
    known = {country.alpha_2 for country in pycountry.countries}
    assert sorted(known - set(placed)) == []
    assert sorted(set(placed) - known) == ["XK"]  # Kosovo: user-assigned code, widely used


def test_every_region_has_a_name():
    assert set(REGION_NAMES) == set(REGIONS)


def test_lookups():
    assert region_of("ke") == "africa"
    assert region_of("PE") == "latin-america-caribbean"
    assert region_of("PK") == "asia-pacific"
    assert region_of("ZZ") is None
    assert "SL" in countries_in("africa")
    assert countries_in("atlantis") == ()
