"""Analytics pages: the overview (landing page), a community's analytics, the portfolio, and
Settings → API tokens (the metrics API's keys)."""
