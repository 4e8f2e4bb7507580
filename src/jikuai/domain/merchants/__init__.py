"""吉快·漫生活 merchants: onboarding, their cashiers, and the benefits they offer for points."""
