"""culturalign: measure and improve the regional cultural awareness of language models.

Heavy libraries (torch, transformers, trl, sentence-transformers) are imported only
inside the functions that need them, so importing this package stays cheap.
"""

__version__ = "0.1.0"
