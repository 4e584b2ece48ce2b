"""Reports: one self-contained HTML file (images embedded) and Markdown, from run
directories. ``document.py`` is the format-neutral document model and its two
renderers; ``build.py`` finds what the run directories hold and fills the document.
"""
