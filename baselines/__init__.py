"""The contenders the PyTorch models are compared with, one module each."""
