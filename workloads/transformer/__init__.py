"""Transformer inference workloads: a Llama-class decoder in plain PyTorch."""
