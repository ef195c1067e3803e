"""The CRM's leads: prospects captured by hand, by CSV import or from the website, qualified into opportunities."""
