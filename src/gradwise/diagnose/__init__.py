"""Seeing inside training: statistics collected while a model trains (``collector``), the
doctor that names what went wrong and how to fix it (``doctor``, ``findings``, ``fix``), and the
learning-rate range test (``lr_find``).

Importing this package does not import torch; the doctor reads run directories only.
"""
