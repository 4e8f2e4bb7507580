"""Whole-village credit (整村授信): villages, their household rosters, the screening that
pre-approves every household at once, and the farmer's acceptance of the offer."""
