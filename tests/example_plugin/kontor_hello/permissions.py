"""What hello's pages and endpoints need."""
from core import Permission, lazy_gettext as _l

READ = "hello.greeting.read"
WRITE = "hello.greeting.write"

PERMISSIONS = [
    Permission(READ, _l("See greetings"), ("staff",)),
    Permission(WRITE, _l("Add greetings")),
]
