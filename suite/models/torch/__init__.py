"""The PyTorch contenders: the seed post's MF, and PyTorch ports of the other models."""
