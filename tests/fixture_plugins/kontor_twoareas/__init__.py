"""twoareas: a module made of two areas, each an ordinary plugin of it (for the tests).

``alpha`` registers the module's permission and hears other modules arrive; ``beta`` serves its
page, offers an action on party pages and hears its own purge coming.
"""
