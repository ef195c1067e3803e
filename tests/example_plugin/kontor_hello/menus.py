"""Hello's place in the navigation menu: its own section and the page in it."""
from core import MenuItem, MenuSection, lazy_gettext as _l

from kontor_hello.permissions import READ

MENU_ITEMS = [
    MenuSection("hello", _l("Hello"), order=500),
    MenuItem("hello", _l("Greetings"), "hello.index", READ, order=90),
]
