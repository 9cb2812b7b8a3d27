"""Models: Hugging Face causal LMs with a 2-class head on the last real token, built or loaded by path."""
