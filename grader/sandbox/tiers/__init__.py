"""One module per isolation tier, each a subclass of base.Tier."""
