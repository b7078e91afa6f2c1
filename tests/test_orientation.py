"""Pages photographed sideways, upside down or written light on dark: detected, read the right way.

The classifier here knows the upright page's own crops (each crop's class is the template it is
nearest to), so it is sure of upright characters and unsure of turned ones, as a trained one is;
the sample photos and a trained model are measured in the README.
"""

import numpy as np
import pytest

from ocr.letters import to_gray
from ocr.orientation import ink_balance, looks_inverted, sideways_share, turned_rows
from ocr.page import make_page
from ocr.reading import _read_page, read


def template_classifier(page):
    """Scores per class from the squared distance to the upright page's crops, one class each."""
    templates = _read_page(to_gray(page), lambda rows: np.zeros((len(rows), 36))).rows

    def classify(rows):
        distance = ((rows[:, None, :] - templates[None, :, :]) ** 2).sum(axis=2)
        scores = np.full((len(rows), 36), -1e3)
        scores[:, : len(templates)] = -distance / 10
        return scores

    return classify


@pytest.fixture(scope="module")
def page():
    return make_page(np.random.default_rng(3), "THE QUICK BROWN FOX\nJUMPS OVER 13 LAZY DOGS")


@pytest.mark.parametrize("turns", [1, 2, 3])
def test_a_turned_page_is_read_turned_back_and_said_so(page, turns):
    classify = template_classifier(page)
    upright = read(page, classify)
    assert upright.turns == 0 and upright.notes == ()
    turned = read(np.rot90(page, -turns), classify)  # the photo, turned clockwise by `turns` quarters
    assert turned.turns == turns and turned.text == upright.text
    assert len(turned.notes) == 1 and "read it turned back" in turned.notes[0]


def test_a_page_light_on_dark_is_read_with_its_tones_reversed(page):
    classify = template_classifier(page)
    reading = read(255 - page, classify)
    assert reading.inverted and reading.text == read(page, classify).text
    assert reading.notes == ("the page looks written light on dark: read with its tones reversed",)


def test_a_single_column_of_characters_is_not_taken_for_a_sideways_line():
    column = make_page(np.random.default_rng(0), "A\nB\nC\nD\nE\nF\nG")
    classify = template_classifier(column)
    reading = read(column, classify)
    assert sideways_share(reading.boxes) > 0.5  # it looks sideways to the geometry alone
    assert reading.turns == 0 and reading.notes == () and reading.text.count("\n") == 6


def test_polarity_is_measured_against_each_pixels_neighbourhood(page):
    grey = to_gray(page)
    assert ink_balance(grey) < -0.5 and ink_balance(1 - grey) > 0.5
    shadow = grey * np.linspace(0.35, 1.0, grey.shape[1])[None, :]  # one side in deep shadow
    desk = np.pad(grey * 0.9, 200, constant_values=0.08)  # the page on a dark desk
    assert not looks_inverted(shadow) and not looks_inverted(desk)
    assert ink_balance(np.full((300, 400), 0.9)) == 0  # a blank page: nothing stands out


def test_turning_crops_matches_turning_the_page(page):
    reading = _read_page(to_gray(page), lambda rows: np.zeros((len(rows), 36)))
    back = turned_rows(turned_rows(reading.rows, 1), 3)
    np.testing.assert_array_equal(back, reading.rows)
