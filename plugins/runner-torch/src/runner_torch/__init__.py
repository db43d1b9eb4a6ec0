"""runner-torch: a PyTorch MLP classifier on the same tabular datasets as runner-sklearn.

This module imports nothing heavy.
"""
