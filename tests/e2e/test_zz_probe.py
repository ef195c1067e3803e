import json
def test_probe(logged_in_page):
    page = logged_in_page
    js = """() => { const out = {}; for (const sel of ['header.shell-header','header nav','header nav ul','header nav li','header .brand','header details.dropdown','header summary','.shell-main','.page-head','.page-head h1', '.shell-menu details', '.shell-menu summary']) { const e = document.querySelector(sel); if (!e) continue; const cs = getComputedStyle(e); const r = e.getBoundingClientRect(); out[sel] = {h: r.height, w: r.width, pad: cs.padding, margin: cs.margin, display: cs.display}; } return out; }"""
    print(json.dumps(page.evaluate(js), indent=1))
