"""The PDF's letters: DejaVu Sans embedded when present, plain Latin with a core font otherwise."""
from plugins.accounting.invoicing.printing import plain_latin


def test_letters_a_core_font_lacks_are_spelled_plainly():
    assert plain_latin("Łódź, Gdańsk — Søren & Müller, Straße 5 €") == "Lódz, Gdansk - Søren & Müller, Straße 5 EUR"
    assert all(ord(char) < 256 for char in plain_latin("Zażółć gęślą jaźń ☃"))
