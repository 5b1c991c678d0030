"""Channel adapters: each channel to and from kefu's one message model. They translate; they
decide nothing (DESIGN.md, principle 4)."""
