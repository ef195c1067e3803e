"""Hello's place in the navigation menu."""
from core import MenuItem, lazy_gettext as _l

from kontor_hello.permissions import READ

MENU_ITEMS = [MenuItem("main", _l("Greetings"), "hello.index", READ, order=90)]
