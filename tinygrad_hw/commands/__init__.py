"""The engine's own verbs (`python -m tinygrad_hw VERB`), one module each; `__main__` lists them."""
