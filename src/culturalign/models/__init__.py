"""The models that ship with culturalign and need no network: SmolLM2 and USE."""
