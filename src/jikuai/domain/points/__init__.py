"""吉快·漫生活 points (积分): a double-entry ledger of integer points, earned under rules kept as
data, spent soonest-expiring first at merchants, and settled to them in CNY."""
