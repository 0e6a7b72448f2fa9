"""Helpers of the test suite (not tests themselves).

qmd          read .qmd files and execute their Python cells as Quarto does
rendered     the rendered site in _site/: which pages it must hold, whether it is current
site         the pages _quarto.yml lists
fitcache     the on-disk cache of posterior draws that the suite wraps around fit
synthetic    small data sets and hand-made posteriors with known truth
seeds        the seed a stochastic test samples with (and the convergence sweep's override)
"""
