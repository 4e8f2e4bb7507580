"""Retail credit (普惠金融): products, decisions, applications, loans and warnings."""
