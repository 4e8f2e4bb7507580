"""Retail credit (普惠金融) in the API: products, decisions, applications, loans, warnings."""
