"""The scheduling centre (调度中心): every periodic job, when it runs and for which business
date, the record of each run, and the once-per-date claim that lets several workers share one
schedule."""
