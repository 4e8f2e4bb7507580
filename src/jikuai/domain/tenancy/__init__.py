"""Member institutions (法人行社), branches (网点), villages, staff, and who may see what."""
