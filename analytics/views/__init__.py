"""Analytics pages: the overview (landing page), a community's analytics, the portfolio."""
